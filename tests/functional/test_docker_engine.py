"""The SageMaker Processing container contract, under both engines: smlift's own runner and a
real Docker engine. One image (built per engine from one Dockerfile) runs the same jobs; each
test asserts what SageMaker documents, and the two engines must give byte-identical outputs.

Docker tests need an engine: they skip with one line where none answers, and fail under
CI=true (the `docker_engine` fixture), where .ci/run starts one."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from smlift.images import build_image
from smlift.local.s3 import LocalS3
from smlift.processing.runner import REWRITE, detect_mode
from smlift.processing.service import LocalProcessing

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]

STEP = '''
import json, os, pathlib, sys, time
mode = sys.argv[1] if len(sys.argv) > 1 else "none"
out = pathlib.Path("/opt/ml/processing/output")
if mode == "fail":
    (out / "partial.csv").write_text("half")
    pathlib.Path("/opt/ml/output/message").write_text("ValueError: column 'b' is missing")
    sys.exit(3)
if mode == "sleep":
    (out / "partial.csv").write_text("half")
    print("sleeping", flush=True)
    time.sleep(600)
rows = pathlib.Path("/opt/ml/processing/input/data/rows.csv").read_text()
(out / "rows.csv").write_text(rows.upper())
config = json.loads(pathlib.Path("/opt/ml/config/processingjobconfig.json").read_text())
resources = json.loads(pathlib.Path("/opt/ml/config/resourceconfig.json").read_text())
report = {"argv": sys.argv[1:], "cwd": os.getcwd(),
          "env": {k: os.environ.get(k) for k in ("STEP_SETTING", "IMAGE_SETTING",
                                                 "AWS_SECRET_ACCESS_KEY", "SMLIFT_HOME")},
          "job": config["ProcessingJobName"], "host": resources["current_host"],
          "image_files": sorted(os.listdir("/opt/program"))}
(out / "report.json").write_text(json.dumps(report, sort_keys=True))
'''

DOCKERFILE = """FROM python:3.11-slim
ENV IMAGE_SETTING=from-image
WORKDIR /opt/program
COPY step.py ./
ENTRYPOINT ["python3", "/opt/program/step.py"]
CMD ["from-cmd"]
"""

ENGINES = ["local", "docker"]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract-image")
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / "step.py").write_text(textwrap.dedent(STEP))
    return folder


@pytest.fixture
def engine(request, monkeypatch):
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
    elif detect_mode() == REWRITE:
        pytest.skip("the local engine has no private mount namespace here, so literal "
                    "/opt/ml paths are not visible to a job")
    monkeypatch.setenv("SMLIFT_ENGINE", request.param)
    return request.param


@pytest.fixture
def jobs(engine, context, tmp_path):
    home = tmp_path / "home"
    build_image(context, "contract:1", home, echo=lambda line: None, engine=engine)
    LocalS3(home).put_bytes(b"a,b\n1,2\n", "s3://data/in/rows.csv")
    return LocalProcessing(home, engine=engine, grace_seconds=1)


def request(name, *, entrypoint=None, arguments=None, environment=None, max_runtime=120):
    app = {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/contract:1"}
    if entrypoint is not None:
        app["ContainerEntrypoint"] = entrypoint
    if arguments is not None:
        app["ContainerArguments"] = arguments
    return {
        "ProcessingJobName": name, "RoleArn": "arn:aws:iam::123456789012:role/r",
        "AppSpecification": app,
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1,
                                                  "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 30}},
        "ProcessingInputs": [{"InputName": "data", "S3Input": {
            "S3Uri": "s3://data/in", "LocalPath": "/opt/ml/processing/input/data",
            "S3DataType": "S3Prefix"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": f"s3://data/out/{name}", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "Environment": environment or {},
    }


def run(jobs, name, **kwargs):
    jobs.create_processing_job(**request(name, **kwargs))
    return jobs.wait(name)


def report(jobs, name) -> dict:
    return json.loads(jobs.s3.get_bytes(f"s3://data/out/{name}/report.json"))


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_without_overrides_the_images_entrypoint_and_cmd_run_in_its_workdir(jobs, engine):
    final = run(jobs, "plain")
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    seen = report(jobs, "plain")
    assert seen["argv"] == ["from-cmd"] and seen["cwd"] == "/opt/program"
    assert seen["image_files"] == ["step.py"]  # the image's own files stay visible
    assert seen["job"] == "plain" and seen["host"] == "algo-1"
    assert final["SmliftLocal"]["Engine"] == engine
    assert jobs.s3.get_bytes("s3://data/out/plain/rows.csv") == b"A,B\n1,2\n"


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_container_arguments_replace_cmd_and_container_entrypoint_drops_it(jobs, engine):
    assert run(jobs, "args", arguments=["x", "y"])["ProcessingJobStatus"] == "Completed"
    assert report(jobs, "args")["argv"] == ["x", "y"]
    final = run(jobs, "entry", entrypoint=["python3", "/opt/program/step.py", "from-entry"])
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    assert report(jobs, "entry")["argv"] == ["from-entry"]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_job_sees_exactly_its_environment_over_the_images_env(jobs, engine, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
    final = run(jobs, "env", environment={"STEP_SETTING": "from-job"})
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    assert report(jobs, "env")["env"] == {"STEP_SETTING": "from-job",
                                          "IMAGE_SETTING": "from-image",
                                          "AWS_SECRET_ACCESS_KEY": None, "SMLIFT_HOME": None}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_failing_job_reports_its_exit_message_and_publishes_nothing(jobs, engine):
    final = run(jobs, "fails", arguments=["fail"])
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["ExitMessage"] == "ValueError: column 'b' is missing"
    assert final["FailureReason"] == "AlgorithmError: ValueError: column 'b' is missing"
    assert jobs.s3.list_keys("s3://data/out/fails") == []


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_max_runtime_stops_the_job_with_sigterm_then_kill_and_publishes_nothing(jobs, engine):
    started = time.monotonic()
    final = run(jobs, "slow", arguments=["sleep"], max_runtime=3)
    assert final["ProcessingJobStatus"] == "Stopped"
    assert "MaxRuntimeExceeded" in final["FailureReason"]
    assert time.monotonic() - started < 60
    assert jobs.s3.list_keys("s3://data/out/slow") == []
    assert _containers("slow") == []


def test_both_engines_give_byte_identical_outputs(context, tmp_path, docker_engine):
    outputs = {}
    for engine in ENGINES:
        home = tmp_path / engine
        build_image(context, "contract:1", home, echo=lambda line: None, engine=engine)
        s3 = LocalS3(home)
        s3.put_bytes(b"a,b\n1,2\n", "s3://data/in/rows.csv")
        jobs = LocalProcessing(home, engine=engine)
        assert run(jobs, "same", arguments=["x"])["ProcessingJobStatus"] == "Completed"
        outputs[engine] = {key.rsplit("/", 1)[1]: s3.get_bytes(key)
                           for key in s3.list_keys("s3://data/out/same")}
    assert outputs["local"] == outputs["docker"] and set(outputs["docker"]) == {
        "rows.csv", "report.json"}


def _containers(job_name: str) -> list[str]:
    listed = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=smlift.job={job_name}"],
                            capture_output=True, text=True)
    return listed.stdout.split()


def test_no_container_outlives_a_killed_smlift(context, tmp_path, docker_engine):
    home = tmp_path / "home"
    build_image(context, "contract:1", home, echo=lambda line: None, engine="docker")
    LocalS3(home).put_bytes(b"a,b\n1,2\n", "s3://data/in/rows.csv")
    definition = {"StartAt": "Sleep", "States": {"Sleep": {
        "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "Parameters": request("orphan", arguments=["sleep"]), "End": True}}}
    (tmp_path / "sleep.asl.json").write_text(json.dumps(definition))
    env = {**os.environ, "SMLIFT_HOME": str(home)}
    smlift = subprocess.Popen([sys.executable, "-m", "smlift", "execute", "--engine", "docker",
                               "--definition", str(tmp_path / "sleep.asl.json")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _containers("orphan") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _containers("orphan"), "the job's container never started"
    smlift.send_signal(signal.SIGKILL)
    smlift.wait()
    deadline = time.monotonic() + 30
    while _containers("orphan") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _containers("orphan") == []


def test_local_engine_image_has_only_what_its_dockerfile_installs(tmp_path):
    """A step importing a package its image does not install fails locally, as in the image."""
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /opt/program\nCOPY step.py ./\n"
        'ENTRYPOINT ["python3", "/opt/program/step.py"]\n')
    (context / "step.py").write_text("import boto3\n")
    home = tmp_path / "home"
    build_image(context, "contract:1", home, echo=lambda line: None, engine="local")
    LocalS3(home).put_bytes(b"a,b\n1,2\n", "s3://data/in/rows.csv")
    jobs = LocalProcessing(home, engine="local")
    final = run(jobs, "imports")
    assert final["ProcessingJobStatus"] == "Failed"
    assert any("No module named 'boto3'" in line for line in jobs.log_lines("imports"))


def test_smlift_run_on_docker_proves_parity_with_the_legacy_program(tmp_path, docker_engine):
    env = {**os.environ, "SMLIFT_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "smlift", "run", "--engine", "docker",
                           "--parity"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "engine: docker" in done.stderr
    assert "parity with the legacy program: 2008 of 2008 rows identical" in done.stdout


def test_a_prebuilt_image_job_says_where_its_python_differs_from_the_real_images(tmp_path):
    """The local engine's scikit-learn 1.4-2 runtime is this interpreter's Python, not 3.10."""
    home = tmp_path / "home"
    s3 = LocalS3(home)
    s3.put_bytes(b"print('hi')\n", "s3://data/code/step.py")
    jobs = LocalProcessing(home, engine="local")
    body = request("prebuilt", entrypoint=["python3", "/opt/ml/processing/input/code/step.py"])
    body["AppSpecification"]["ImageUri"] = ("683313688378.dkr.ecr.us-east-1.amazonaws.com/"
                                            "sagemaker-scikit-learn:1.4-2-cpu-py3")
    body["ProcessingInputs"][0]["S3Input"].update(S3Uri="s3://data/code",
                                                  LocalPath="/opt/ml/processing/input/code")
    jobs.create_processing_job(**body)
    final = jobs.wait("prebuilt")
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert final["SmliftLocal"]["Image"].endswith(
        f"; Python {python}, where the real image has Python 3.10")
