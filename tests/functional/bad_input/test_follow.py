"""Bad input to smlift status, wait and history: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import json

import pytest


def test_status_of_an_unknown_arn_says_the_local_store_was_looked_at(run_cli, moto_aws, tmp_path,
                                                                     assert_user_error, pass_json):
    assert run_cli("execute", "--definition", str(tmp_path / "pass.json"))[0] == 0  # a local store
    arn = "arn:aws:states:us-east-1:123456789012:execution:smlift-pipeline:ghost"
    for command in ("status", "history", "wait"):
        assert_user_error(run_cli(command, arn), "Execution Does Not Exist",
                          "it is not a local execution under")


@pytest.mark.parametrize("option, value, needle", [
    ("--poll", "0", "--poll: must be more than 0 seconds"),
    ("--timeout", "-1", "--timeout: must be 0 seconds or more"),
])
def test_wait_refuses_a_zero_poll_and_a_negative_timeout(run_cli, tmp_path, option, value, needle,
                                                         assert_user_error, pass_json):
    assert run_cli("execute", "--definition", str(tmp_path / "pass.json"), "--name", "done")[0] == 0
    assert_user_error(run_cli("wait", "done", option, value), needle)


def test_wait_on_an_execution_whose_process_was_killed_says_so_instead_of_waiting(run_cli,
                                                                                  tmp_path,
                                                                                  assert_user_error,
                                                                                  started_in_background):
    process = started_in_background(tmp_path, "killed")
    process.kill()
    process.wait(timeout=60)
    assert_user_error(run_cli("wait", "killed"), "has ended (killed?); it will never finish",
                      "fix: redrive it")


def test_wait_on_a_failed_job_shows_its_failure_reason_not_the_whole_job_description(run_cli,
                                                                                     tmp_path,
                                                                                     assert_user_error):
    job = {"ProcessingJobName": "smlift-predict-x", "FailureReason": "ClientError: image ghost:9 is "
           "not in the local registry", "ProcessingInputs": [{"InputName": "code"}] * 20}
    fail = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "PredictFailed",
            "Cause": "Predict failed: States.TaskFailed: " + json.dumps(job)}}}
    (tmp_path / "fail.json").write_text(json.dumps(fail))
    assert run_cli("execute", "--definition", str(tmp_path / "fail.json"), "--name", "f")[0] == 0
    text = assert_user_error(run_cli("wait", "f"))
    last = text.strip().splitlines()[-1]
    assert ("FAILED: PredictFailed: Predict failed: States.TaskFailed: job smlift-predict-x: "
            "ClientError: image ghost:9 is not in the local registry") in last
    assert "ProcessingInputs" not in last


def test_a_cause_that_is_not_a_job_description_is_shown_whole():
    from smlift.follow import failure_message

    described = {"name": "n", "status": "FAILED", "error": "E", "cause": "bad {not json"}
    assert failure_message(described) == "execution n FAILED: E: bad {not json"

