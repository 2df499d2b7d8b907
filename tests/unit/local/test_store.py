import pytest

from smlift.errors import ExecutionAlreadyExists, ExecutionDoesNotExist
from smlift.local.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "smlift.db")
    yield s
    s.close()


def test_same_execution_name_on_same_state_machine_is_refused(store):
    store.create_execution("arn:e1", "arn:sm", "run-1", {"a": 1}, now=1.0)
    with pytest.raises(ExecutionAlreadyExists):
        store.create_execution("arn:e2", "arn:sm", "run-1", {}, now=2.0)
    store.create_execution("arn:e3", "arn:other-sm", "run-1", {}, now=2.0)


def test_execution_and_history_survive_reopening(tmp_path):
    path = tmp_path / "smlift.db"
    first = Store(path)
    first.create_execution("arn:e1", "arn:sm", "run-1", {"a": 1}, now=1.0)
    first.append_events("arn:e1", [
        {"id": 1, "previousEventId": 0, "timestamp": 1.0, "type": "ExecutionStarted",
         "details": {"input": "{}"}}])
    # no close(): the process "crashes" here
    second = Store(path)
    assert second.get_execution("arn:e1")["status"] == "RUNNING"
    assert [e["type"] for e in second.get_events("arn:e1")] == ["ExecutionStarted"]


def test_finish_execution_records_terminal_status(store):
    store.create_execution("arn:e1", "arn:sm", "run-1", {}, now=1.0)
    store.finish_execution("arn:e1", "FAILED", now=2.0, error="States.TaskFailed", cause="x")
    record = store.get_execution("run-1")
    assert (record["status"], record["error"], record["stop_date"]) == ("FAILED", "States.TaskFailed", 2.0)
    with pytest.raises(ValueError):
        store.finish_execution("arn:e1", "RUNNING", now=3.0)


def test_unknown_execution_names_the_fix(store):
    with pytest.raises(ExecutionDoesNotExist, match="smlift executions list"):
        store.get_execution("nope")


def test_processing_job_names_are_unique(store):
    assert store.create_processing_job("job-a", "arn:j", {"ProcessingJobStatus": "InProgress"}, 1.0)
    assert not store.create_processing_job("job-a", "arn:j", {}, 2.0)
    store.update_processing_job("job-a", {"ProcessingJobStatus": "Completed"}, 3.0)
    assert store.list_processing_jobs("Completed")[0]["ProcessingJobStatus"] == "Completed"


def test_model_versions_count_up_and_keep_approval(store):
    assert store.add_model_version("churn", {"ImageUri": "a"}, 1.0) == 1
    assert store.add_model_version("churn", {"ImageUri": "b"}, 2.0) == 2
    store.set_model_status("churn", 2, "Approved")
    versions = store.get_model_versions("churn")
    assert [(v["Version"], v["ApprovalStatus"]) for v in versions] == [
        (1, "PendingManualApproval"), (2, "Approved")]
