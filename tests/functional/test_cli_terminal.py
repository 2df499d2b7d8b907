"""Off a terminal, `wait` prints one unwrapped line per state entered, per job status change
(with the job's full ARN) and per execution status; NO_COLOR turns every colour off."""

import io
import json
from dataclasses import dataclass

from smlift.cli.follow import _Progress, job_line

JOB = ("arn:aws:sagemaker:eu-west-1:111122223333:processing-job/"
       "smlift-preprocess-a-very-long-execution-name-that-would-wrap-at-eighty-1a2b3c4d")
EXECUTION = ("arn:aws:states:eu-west-1:111122223333:execution:smlift-pipeline:"
             "a-very-long-execution-name-that-would-wrap-at-eighty-columns")


def _event(kind, **details):
    key = ("stateEntered" if kind.endswith("StateEntered") else kind[0].lower() + kind[1:]) \
        + "EventDetails"  # as Step Functions names them: TaskStateEntered -> stateEntered...
    return {"type": kind, key: details}


EVENTS = [
    _event("ExecutionStarted", input="{}"),
    _event("TaskStateEntered", name="Preprocess"),
    _event("TaskScheduled", resource="createProcessingJob.sync"),
    _event("TaskSubmitted", output=json.dumps({"ProcessingJobArn": JOB})),
    _event("TaskSucceeded", output=json.dumps({"ProcessingJobArn": JOB,
                                               "ProcessingJobStatus": "Completed"})),
    _event("TaskStateEntered", name="Predict"),
    _event("TaskFailed", error="SageMaker.AmazonSageMakerException", cause="bad image"),
]


class _Backend:
    def __init__(self):
        self.events = []

    def history(self, arn):
        return self.events


class _Pipe(io.StringIO):
    def isatty(self):
        return False


def test_off_a_terminal_each_state_and_job_status_change_is_one_full_line():
    backend, stream = _Backend(), _Pipe()
    progress = _Progress(backend, EXECUTION, stream=stream)
    backend.events = EVENTS[:4]
    progress({"executionArn": EXECUTION, "status": "RUNNING"})
    backend.events = EVENTS
    progress({"executionArn": EXECUTION, "status": "RUNNING"})  # no status change: no line
    progress({"executionArn": EXECUTION, "status": "FAILED"})
    assert stream.getvalue().splitlines() == [
        "state entered: Preprocess",
        f"Preprocess: job {JOB} InProgress",
        f"{EXECUTION} RUNNING",
        f"Preprocess: job {JOB} Completed",
        "state entered: Predict",
        "Predict: task failed: SageMaker.AmazonSageMakerException: bad image",
        f"{EXECUTION} FAILED"]


def test_a_task_that_is_not_a_processing_job_adds_no_job_line():
    assert job_line(_event("TaskSucceeded", output='{"Payload": 1}'), "Call") is None
    assert job_line(_event("TaskSubmitted", output="not json"), "Call") is None


@dataclass
class _Step:
    state: str
    status: str
    job_name: str = "job-1"
    job_status: str = "InProgress"
    isolation: str = ""

    def elapsed(self, now):
        return 1.0


def _drawn(monkeypatch, no_color: bool) -> str:
    from rich.console import Console

    from smlift.cli.run import _table

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    console.print(_table([_Step("Preprocess", "SUCCEEDED"), _Step("Predict", "FAILED")],
                         {"name": "run-1", "status": "FAILED"}))
    return console.file.getvalue()


def test_no_color_turns_the_run_tables_colours_off(monkeypatch):
    assert "\x1b[31m" in _drawn(monkeypatch, no_color=False)  # red FAILED on a terminal
    drawn = _drawn(monkeypatch, no_color=True)
    assert "FAILED" in drawn
    assert not any(f"\x1b[{code}m" in drawn or f";{code}m" in drawn
                   for code in range(30, 38)), repr(drawn)
