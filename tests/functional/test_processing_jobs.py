"""Local SageMaker Processing jobs end to end: real subprocesses, real local S3, in tmp_path."""

import json
import os
import sys
import textwrap
import threading
import time
from io import BytesIO
from pathlib import Path

import pandas as pd
import pytest

from smlift.local.s3 import LocalS3
from smlift.processing.runner import (NAMESPACE, REWRITE, namespace_available)
from smlift.processing.service import LocalProcessing
from smlift.processing.spec import ApiError

from processing_fakes import MODES, FakeImage, request, run_definition, service

pytestmark = pytest.mark.slow




COPY_ROWS = """
    import os, pathlib
    rows = pathlib.Path(os.environ["DATA"], "rows.csv").read_text()
    out = pathlib.Path(os.environ["OUT"])
    (out / "sub").mkdir()
    (out / "sub" / "rows.csv").write_text(rows.upper())
    print("copied", len(rows), "bytes; config:",
          os.path.exists("/opt/ml/config/processingjobconfig.json"))
"""


@pytest.mark.parametrize("mode", MODES)
def test_successful_job_publishes_its_outputs_and_records_the_mode(home, s3, mode):
    jobs = service(home, mode)
    arn = jobs.create_processing_job(**request("copy-rows", s3, COPY_ROWS))["ProcessingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:processing-job/copy-rows"
    final = jobs.wait("copy-rows")
    assert final["ProcessingJobStatus"] == "Completed", final
    assert s3.get_bytes("s3://data/out/copy-rows/sub/rows.csv") == b"A,B\n1,2\n3,4\n"
    assert final["SmliftLocal"]["IsolationMode"] == mode
    log = Path(final["SmliftLocal"]["LogFile"]).read_text()
    expects_real_paths = "False" if mode == REWRITE else "True"
    assert f"config: {expects_real_paths}" in log
    assert final["ProcessingStartTime"] <= final["ProcessingEndTime"]
    assert not (home / "jobs" / "copy-rows" / "opt" / "ml" / "processing").exists()
    config = json.loads((home / "jobs/copy-rows/opt/ml/config/processingjobconfig.json").read_text())
    assert config["ProcessingInputs"][0]["S3Input"]["S3InputMode"] == "File"


FAILING = """
    import os, pathlib
    pathlib.Path(os.environ["OUT"], "partial.csv").write_text("half")
    pathlib.Path(os.environ["MSG"]).write_text("ValueError: column 'b' is missing" + "x" * 2000)
    raise ValueError("column 'b' is missing")
"""


@pytest.mark.parametrize("mode", MODES)
def test_job_that_raises_fails_with_exit_message_and_publishes_nothing(home, s3, mode):
    jobs = service(home, mode)
    jobs.create_processing_job(**request("boom", s3, FAILING))
    final = jobs.wait("boom")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["ExitMessage"].startswith("ValueError: column 'b' is missing")
    assert len(final["ExitMessage"].encode()) == 1024
    assert final["FailureReason"].startswith("AlgorithmError: ValueError")
    assert s3.list_keys("s3://data/out/boom") == []
    log = Path(final["SmliftLocal"]["LogFile"]).read_text()
    assert "Traceback" in log and "column 'b' is missing" in log


@pytest.mark.parametrize("mode", MODES)
def test_job_over_max_runtime_is_stopped_after_sigterm_and_grace(home, s3, mode):
    script = """
        import os, signal, time, pathlib
        signal.signal(signal.SIGTERM, lambda *a: print("got SIGTERM", flush=True))
        pathlib.Path(os.environ["OUT"], "early.csv").write_text("x")
        time.sleep(60)
    """
    jobs = service(home, mode, grace_seconds=0.5)
    started = time.monotonic()
    jobs.create_processing_job(**request("slow", s3, script, max_runtime=1,
                                         environment={"PYTHONUNBUFFERED": "1"}))
    final = jobs.wait("slow")
    assert time.monotonic() - started < 10
    assert final["ProcessingJobStatus"] == "Stopped"
    assert final["FailureReason"].startswith("MaxRuntimeExceeded")
    assert "got SIGTERM" in Path(final["SmliftLocal"]["LogFile"]).read_text()
    assert s3.list_keys("s3://data/out/slow") == []


def test_stop_processing_job_stops_a_running_job(home, s3):
    jobs = service(home)
    jobs.create_processing_job(**request("stop-me", s3, "import time; time.sleep(60)"))
    time.sleep(0.3)
    assert jobs.stop_processing_job(ProcessingJobName="stop-me") == {}
    final = jobs.wait("stop-me")
    assert final["ProcessingJobStatus"] == "Stopped"
    assert "FailureReason" not in final


def test_duplicate_job_name_is_resource_in_use(home, s3):
    jobs = service(home)
    jobs.create_processing_job(**request("twice", s3, "print('ok')"))
    with pytest.raises(ApiError) as caught:
        jobs.create_processing_job(**request("twice", s3, "print('ok')"))
    assert caught.value.code == "ResourceInUse"
    assert "processing-job/twice" in str(caught.value)
    assert jobs.wait("twice")["ProcessingJobStatus"] == "Completed"


@pytest.mark.parametrize("mode", MODES)
def test_job_writing_to_its_staged_input_cannot_change_the_stored_object(home, s3, mode):
    script = """
        import os, pathlib
        path = pathlib.Path(os.environ["DATA"], "rows.csv")
        with open(path, "r+b") as handle:
            handle.write(b"CHANGED")
        path.with_name("new.csv").write_text("new")
    """
    jobs = service(home, mode)
    jobs.create_processing_job(**request("vandal", s3, script))
    assert jobs.wait("vandal")["ProcessingJobStatus"] == "Completed"
    assert s3.get_bytes("s3://data/in/rows.csv") == b"a,b\n1,2\n3,4\n"
    assert s3.list_keys("s3://data/in") == ["s3://data/in/rows.csv"]


def test_symlinks_in_the_output_folder_are_not_published(home, s3, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    script = f"""
        import os
        out = os.environ["OUT"]
        os.symlink({str(secret)!r}, out + "/leak.txt")
        os.symlink("/etc", out + "/etc")
        open(out + "/real.txt", "w").write("ok")
    """
    jobs = service(home)
    jobs.create_processing_job(**request("links", s3, script))
    assert jobs.wait("links")["ProcessingJobStatus"] == "Completed"
    assert s3.list_keys("s3://data/out/links") == ["s3://data/out/links/real.txt"]
    assert secret.read_text() == "do not upload"


def test_a_job_without_a_sandbox_is_recorded_and_warned_about_once(home, s3, capsys):
    from smlift.processing import sandbox

    sandbox._warned.clear()
    jobs = service(home, REWRITE)
    for name in ("unsandboxed-1", "unsandboxed-2"):
        jobs.create_processing_job(**request(name, s3, "print('hi')"))
        assert jobs.wait(name)["SmliftLocal"]["Sandboxed"] is False
    warnings = [line for line in capsys.readouterr().err.splitlines() if "WITHOUT a sandbox" in line]
    assert len(warnings) == 1 and "'path-rewrite'" in warnings[0]
    assert "apt-get install bubblewrap" in warnings[0]


def test_missing_input_prefix_fails_the_job_with_a_client_error(home, s3):
    jobs = service(home)
    body = request("no-input", s3, "print('never')")
    body["ProcessingInputs"][1]["S3Input"]["S3Uri"] = "s3://data/absent"
    jobs.create_processing_job(**body)
    final = jobs.wait("no-input")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith('ClientError: No S3 objects found under S3 URL '
                                             '"s3://data/absent"')


def test_invalid_request_is_a_validation_exception_and_creates_nothing(home, s3):
    jobs = service(home)
    body = request("bad_name", s3, "print('x')")
    with pytest.raises(ApiError) as caught:
        jobs.create_processing_job(**body)
    assert caught.value.code == "ValidationException"
    assert "ProcessingJobName" in str(caught.value)
    assert jobs.list_processing_jobs()["ProcessingJobSummaries"] == []


def test_list_and_describe_answer_in_boto3_shapes(home, s3):
    jobs = service(home)
    for name in ("list-a", "list-b"):
        jobs.create_processing_job(**request(name, s3, "print('hi')"))
        jobs.wait(name)
    listed = jobs.list_processing_jobs(SortBy="Name", SortOrder="Ascending")
    assert [s["ProcessingJobName"] for s in listed["ProcessingJobSummaries"]] == ["list-a", "list-b"]
    described = jobs.describe_processing_job(ProcessingJobName="list-a")
    assert described["CreationTime"].tzinfo is not None
    with pytest.raises(ApiError) as caught:
        jobs.describe_processing_job(ProcessingJobName="nope")
    assert caught.value.code == "ResourceNotFound"


def test_wait_with_a_cancel_event_stops_the_job(home, s3):
    jobs = service(home)
    jobs.create_processing_job(**request("cancel-me", s3, "import time; time.sleep(60)"))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    assert jobs.wait("cancel-me", cancel=cancel)["ProcessingJobStatus"] == "Stopped"
    assert time.monotonic() - started < 10


# --- through the engine ----------------------------------------------------------------------


def test_sync_task_returns_the_description_and_tags_the_job(home, s3):
    result, jobs = run_definition(home, request("e2e-ok", s3, COPY_ROWS))
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["ProcessingJobStatus"] == "Completed"
    assert isinstance(result.output["ProcessingEndTime"], int)
    types = [event["type"] for event in result.events]
    assert types.index("TaskSubmitted") < types.index("TaskSucceeded")
    arn = result.output["ProcessingJobArn"]
    assert {"Key": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"} in \
        jobs.list_tags(ResourceArn=arn)["Tags"]
    assert s3.list_keys("s3://data/out/e2e-ok") == ["s3://data/out/e2e-ok/sub/rows.csv"]


def test_step_that_raises_fails_the_execution_with_task_failed_and_exit_message(home, s3):
    result, _ = run_definition(home, request("e2e-boom", s3, FAILING))
    assert result.status == "FAILED"
    assert result.error == "States.TaskFailed"
    cause = json.loads(result.cause)
    assert cause["ProcessingJobName"] == "e2e-boom"
    assert cause["ExitMessage"].startswith("ValueError: column 'b' is missing")
    assert s3.list_keys("s3://data/out/e2e-boom") == []


def test_step_over_max_runtime_ends_stopped_and_fails_the_execution(home, s3):
    result, _ = run_definition(home, request("e2e-slow", s3, "import time; time.sleep(60)",
                                             max_runtime=1))
    assert result.status == "FAILED" and result.error == "States.TaskFailed"
    assert json.loads(result.cause)["ProcessingJobStatus"] == "Stopped"


def test_duplicate_job_name_fails_the_task_with_resource_in_use(home, s3):
    jobs = service(home)
    jobs.create_processing_job(**request("e2e-dup", s3, "print('first')"))
    jobs.wait("e2e-dup")
    result, _ = run_definition(home, request("e2e-dup", s3, "print('second')"))
    assert result.status == "FAILED"
    assert result.error == "SageMaker.ResourceInUseException"
    assert "Error Code: ResourceInUse" in result.cause


# --- the CLI ---------------------------------------------------------------------------------

def test_jobs_cli_lists_describes_and_shows_logs(run_cli, tmp_path):

    home = Path(os.environ["SMLIFT_HOME"])
    s3 = LocalS3(home)
    s3.put_bytes(b"a,b\n1,2\n", "s3://data/in/rows.csv")
    jobs = service(home)
    jobs.create_processing_job(**request("cli-job", s3, COPY_ROWS))
    jobs.wait("cli-job")

    code, out, _ = run_cli("jobs", "list")
    [summary] = json.loads(out)["ProcessingJobSummaries"]
    assert code == 0 and summary["ProcessingJobName"] == "cli-job"
    assert summary["ProcessingJobStatus"] == "Completed" and summary["CreationTime"].endswith("+00:00")

    code, out, _ = run_cli("jobs", "describe", "cli-job")
    described = json.loads(out)
    assert described["SmliftLocal"]["IsolationMode"] == REWRITE
    assert described["ProcessingJobArn"].endswith("processing-job/cli-job")

    code, out, _ = run_cli("jobs", "logs", "cli-job")
    assert code == 0 and "copied 8 bytes" in out
    code, out, _ = run_cli("jobs", "logs", "cli-job", "--follow")
    assert code == 0 and "copied 8 bytes" in out


def test_jobs_cli_unknown_job_is_one_clear_error(run_cli):
    code, _, err = run_cli("jobs", "describe", "nope")
    assert code == 1
    assert "Could not find processing job 'nope'" in err and "smlift jobs list" in err


@pytest.mark.skipif(not namespace_available(), reason="no private mount namespace here")
@pytest.mark.parametrize("overlay", [True, False], ids=["overlay", "tmpfs-and-binds"])
def test_namespace_opt_shows_the_job_tree_and_the_hosts_opt_and_keeps_the_host_unchanged(
        tmp_path, overlay):

    from smlift.processing.runner import JobControl, run_job
    from smlift.processing.spec import build_spec
    from smlift.processing.staging import create_root

    host_opt = sorted(os.listdir("/opt"))
    body = {"ProcessingJobName": "ns", "RoleArn": "arn:aws:iam::123456789012:role/r",
            "AppSpecification": {"ImageUri": "x:1", "ContainerEntrypoint": [
                "python3", "-c", "import os; print(sorted(os.listdir('/opt'))); "
                "open('/opt/ml/output/message', 'w').write(os.getcwd())"]},
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1,
                                                      "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}}}
    spec = build_spec(body, arn="arn:x")
    staged = create_root(tmp_path / "ns", spec)
    result = run_job(spec, FakeImage(workdir="/opt/ml/code"), staged, mode=NAMESPACE,
                     control=JobControl(), overlay=overlay)
    assert result.status == "Completed", result.log_file.read_text()
    assert result.exit_message == "/opt/ml/code"
    assert str(sorted(set(host_opt) | {"ml"})) in result.log_file.read_text()
    assert sorted(os.listdir("/opt")) == host_opt


def test_killing_the_runner_process_kills_its_job_and_the_record_reads_failed(home, s3, tmp_path):
    import signal
    import subprocess

    body = request("orphan", s3, """
        import os, pathlib, time
        pathlib.Path(os.environ["OUT"], "pid").write_text(str(os.getpid()))
        print("started", flush=True)
        time.sleep(60)
    """)
    runner = tmp_path / "runner.py"
    runner.write_text(textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_processing_jobs import service
        from pathlib import Path
        jobs = service(Path({str(home)!r}))
        jobs.create_processing_job(**json.loads({json.dumps(json.dumps(body))}))
        time.sleep(60)
    """))
    proc = subprocess.Popen([sys.executable, str(runner)])
    pid_file = home / "jobs" / "orphan" / "opt/ml/processing/output/pid"
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    job_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{job_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{job_pid}").exists() or \
        Path(f"/proc/{job_pid}/stat").read_text().split()[2] == "Z"
    final = service(home).describe_processing_job(ProcessingJobName="orphan")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith("InternalServerError: the smlift process")


def test_job_names_are_unique_ignoring_case(home, s3):
    jobs = service(home)
    jobs.create_processing_job(**request("Case-Job", s3, "print('ok')"))
    with pytest.raises(ApiError) as caught:
        jobs.create_processing_job(**request("case-job", s3, "print('ok')"))
    assert caught.value.code == "ResourceInUse"
    jobs.wait("Case-Job")


@pytest.mark.parametrize("mode", MODES)
def test_an_entrypoint_that_does_not_exist_fails_the_job_naming_the_command(home, s3, mode):
    jobs = service(home, mode)
    body = request("no-such-program", s3, "print('x')")
    body["AppSpecification"]["ContainerEntrypoint"] = ["no-such-program-xyz"]
    jobs.create_processing_job(**body)
    final = jobs.wait("no-such-program")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith(
        "AlgorithmError: the command 'no-such-program-xyz' was not found (exit code 127)")


# --- with the real local image of containers/inference ---------------------------------------

REPO = Path(__file__).resolve().parents[2]


def _args(mode, **paths):
    """Explicit folder arguments in path-rewrite mode (the scripts' /opt/ml defaults are
    literals the runner cannot rewrite); none in mount-namespace mode, where defaults work."""
    if mode != REWRITE:
        return None
    return [item for key, value in paths.items() for item in (f"--{key.replace('_', '-')}", value)]


@pytest.mark.parametrize("mode", MODES)
def test_real_image_runs_preprocess_then_predict_with_docker_override_rules(home, mode,
                                                                            local_engine):
    from smlift.images import build_image

    build_image(REPO / "containers/inference", "inference:test", home, echo=lambda line: None)
    s3 = LocalS3(home)
    s3.put_file(REPO / "examples/data/bookings.csv", "s3://data/raw/bookings.csv")
    s3.put_file(REPO / "scripts/preprocessing.py", "s3://data/code/preprocessing.py")
    jobs = LocalProcessing(home, mode=mode)
    common = {"RoleArn": "arn:aws:iam::123456789012:role/r",
              "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1,
                                                        "InstanceType": "ml.m5.large",
                                                        "VolumeSizeInGB": 30}}}
    io = dict(input_dir="/opt/ml/processing/input/data", output_dir="/opt/ml/processing/output",
              failure_message_file="/opt/ml/output/message")

    def job(name, app, inputs, output_uri):
        arguments = app.pop("args")
        if arguments is not None:
            app["ContainerArguments"] = arguments
        jobs.create_processing_job(**common, ProcessingJobName=name, AppSpecification=app,
                                   ProcessingInputs=[{"InputName": n, "S3Input": {
                                       "S3Uri": u, "LocalPath": p, "S3DataType": "S3Prefix"}}
                                       for n, u, p in inputs],
                                   ProcessingOutputConfig={"Outputs": [{
                                       "OutputName": "out", "S3Output": {
                                           "S3Uri": output_uri,
                                           "LocalPath": "/opt/ml/processing/output",
                                           "S3UploadMode": "EndOfJob"}}]})
        final = jobs.wait(name)
        assert final["ProcessingJobStatus"] == "Completed", (
            final.get("FailureReason"), jobs.log_lines(name)[-20:])
        return final

    job("pre", {"ImageUri": "inference:test", "args": _args(mode, **io),
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocessing.py"]},
        [("code", "s3://data/code", "/opt/ml/processing/input/code"),
         ("data", "s3://data/raw", "/opt/ml/processing/input/data")], "s3://data/features")
    final = job("predict", {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
                                        "inference:test",
                            "args": _args(mode, **io, model="/opt/program/model.pkl")},
                [("data", "s3://data/features/parts", "/opt/ml/processing/input/data")],
                "s3://data/predictions")
    [key] = s3.list_keys("s3://data/predictions")  # the one Parquet part of 2,000 rows
    scored = pd.read_parquet(BytesIO(s3.get_bytes(key)))
    assert len(scored) == 2000 and scored.columns[-1] == "cancel_probability"
    assert final["SmliftLocal"]["IsolationMode"] == mode
