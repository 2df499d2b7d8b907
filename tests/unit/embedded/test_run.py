import json

from smlift.embedded.run import StepProgress, image_tag, step_progress


def event(kind, ts, **details):
    return {"type": kind, "timestamp": ts, "details": details or None}


def test_image_tag_is_the_repository_and_tag_of_an_ecr_uri():
    assert image_tag("111122223333.dkr.ecr.us-east-1.amazonaws.com/sagemaker-smlift:v2") == "sagemaker-smlift:v2"
    assert image_tag("smlift-inference") == "smlift-inference:latest"


def test_step_progress_follows_task_states_and_their_jobs():
    events = [
        event("ExecutionStarted", 0.0),
        event("TaskStateEntered", 1.0, name="Preprocess"),
        event("TaskScheduled", 1.1, parameters=json.dumps({"ProcessingJobName": "pre-1"})),
        event("TaskSucceeded", 3.0),
        event("TaskStateExited", 3.0, name="Preprocess"),
        event("TaskStateEntered", 3.1, name="Predict"),
        event("TaskScheduled", 3.2, parameters=json.dumps({"ProcessingJobName": "pred-1"})),
        event("TaskFailed", 5.0, error="States.TaskFailed"),
    ]
    jobs = {"pre-1": {"ProcessingJobStatus": "Completed"}, "pred-1": {"ProcessingJobStatus": "Failed"}}
    steps = step_progress(events, jobs.get, ["Preprocess", "Predict", "Postprocess"])
    assert [(s.state, s.status, s.job_name, s.job_status) for s in steps] == [
        ("Preprocess", "SUCCEEDED", "pre-1", "Completed"),
        ("Predict", "FAILED", "pred-1", "Failed"),
        ("Postprocess", "PENDING", None, None),
    ]
    assert steps[0].elapsed(now=99.0) == 2.0
    assert steps[2].elapsed(now=99.0) is None


def test_running_step_elapsed_counts_to_now():
    step = StepProgress("Predict", status="RUNNING", started=10.0)
    assert step.elapsed(now=12.5) == 2.5
