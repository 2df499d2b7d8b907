"""Jobs of several instances (InstanceCount > 1), end to end: real processes, real local S3.

Each instance is its own process with its own /opt/ml; the job is Completed only when every
instance is, and then every instance's outputs are published; one failure fails the job,
stops the others and publishes nothing."""

import json
import textwrap
import time

import pytest

from smlift.local.s3 import LocalS3
from smlift.processing.runner import (BUBBLEWRAP, REWRITE)
from smlift.processing.service import LocalProcessing

from processing_fakes import MODES, FakeImage

pytestmark = pytest.mark.slow





# The script finds its folders through the environment, so it runs in every isolation mode.
PATHS = {"DATA": "/opt/ml/processing/input/data", "CODE": "/opt/ml/processing/input/code",
         "OUT": "/opt/ml/processing/output", "CONFIG": "/opt/ml/config/resourceconfig.json"}

STEP = """
    import json, os, pathlib, sys, time
    config = json.loads(pathlib.Path(os.environ["CONFIG"]).read_text())
    host = config["current_host"]
    shard = sorted(p.name for p in pathlib.Path(os.environ["DATA"]).iterdir())
    if host == os.environ.get("FAIL_ON"):
        time.sleep(5)  # let the other instances start (and say so) before this one fails
        (pathlib.Path(os.environ["OUT"]) / f"{host}.json").write_text("half")
        print("failing on", host, flush=True)
        sys.exit(4)
    if os.environ.get("FAIL_ON"):
        print("waiting on", host, flush=True)
        time.sleep(120)
    if host == os.environ.get("ALLOC_ON"):
        held = b"x" * (int(os.environ["ALLOC_MIB"]) << 20)  # written, so resident
    if os.environ.get("ALLOC_ON"):  # every instance lives long enough for the samplers
        time.sleep(float(os.environ.get("HOLD_SECONDS", "1")))
    name = "same.json" if os.environ.get("SAME_NAME") else f"{host}.json"
    report = {"host": host, "hosts": config["hosts"], "shard": shard, "pid": os.getpid(),
              "code": sorted(p.name for p in pathlib.Path(os.environ["CODE"]).iterdir())}
    (pathlib.Path(os.environ["OUT"]) / name).write_text(json.dumps(report))
    print("done on", host, "with", shard, flush=True)
"""


# Two outputs, as the pipeline's Postprocess has: rows under results/, partial sums under
# partials/, each file named after the instance.
TWO_OUTPUTS = """
    import json, os, pathlib
    host = json.loads(pathlib.Path(os.environ["CONFIG"]).read_text())["current_host"]
    out = pathlib.Path(os.environ["OUT"])
    shard = sorted(p.name for p in pathlib.Path(os.environ["DATA"]).iterdir())
    (out / "results" / f"{host}.csv").write_text("".join(shard))
    (out / "partials" / f"{host}.json").write_text(json.dumps(shard))
"""


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    s3 = LocalS3(home)
    for index in range(5):
        s3.put_bytes(f"{index}\n".encode(), f"s3://data/in/part-{index:05d}.csv")
    s3.put_bytes(textwrap.dedent(STEP).encode(), "s3://data/code/step.py")
    s3.put_bytes(textwrap.dedent(TWO_OUTPUTS).encode(), "s3://data/tools/two.py")
    return home


def service(home, mode):
    return LocalProcessing(home, mode=mode, resolve_image=lambda uri: FakeImage(uri=uri),
                           grace_seconds=0.5)


def request(name, count, **environment):
    return {
        "ProcessingJobName": name, "RoleArn": "arn:aws:iam::123456789012:role/smlift-test",
        "AppSpecification": {"ImageUri": "local-test:1", "ContainerEntrypoint": [
            "python3", "/opt/ml/processing/input/code/step.py"]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": count,
                                                  "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 30}},
        "ProcessingInputs": [
            {"InputName": "code", "S3Input": {"S3Uri": "s3://data/code",
                                              "LocalPath": "/opt/ml/processing/input/code",
                                              "S3DataType": "S3Prefix"}},
            {"InputName": "data", "S3Input": {"S3Uri": "s3://data/in",
                                              "LocalPath": "/opt/ml/processing/input/data",
                                              "S3DataType": "S3Prefix",
                                              "S3DataDistributionType": "ShardedByS3Key"}}],
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": "result", "S3Output": {"S3Uri": f"s3://data/out/{name}",
                                                  "LocalPath": "/opt/ml/processing/output",
                                                  "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        "Environment": {**PATHS, **environment},
    }


@pytest.mark.parametrize("mode", MODES)
def test_each_instance_runs_as_its_own_process_with_its_host_and_its_shard(home, mode):
    jobs = service(home, mode)
    jobs.create_processing_job(**request("sharded", 3))
    final = jobs.wait("sharded")
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    s3 = LocalS3(home)
    assert [uri.rpartition("/")[2] for uri in s3.list_keys("s3://data/out/sharded/")] == [
        "algo-1.json", "algo-2.json", "algo-3.json"]
    reports = [json.loads(s3.get_bytes(f"s3://data/out/sharded/algo-{i}.json")) for i in (1, 2, 3)]
    assert [r["host"] for r in reports] == ["algo-1", "algo-2", "algo-3"]
    assert all(r["hosts"] == ["algo-1", "algo-2", "algo-3"] for r in reports)
    assert [r["shard"] for r in reports] == [
        ["part-00000.csv", "part-00003.csv"], ["part-00001.csv", "part-00004.csv"],
        ["part-00002.csv"]]
    assert all(r["code"] == ["step.py"] for r in reports)  # FullyReplicated: everywhere
    assert len({r["pid"] for r in reports}) == 3 or mode == BUBBLEWRAP  # own PID namespaces
    assert final["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3
    assert [name.split("/")[1].rpartition("-")[0]
            for name in final["SmliftLocal"]["LogStreamNames"]] == ["algo-1", "algo-2", "algo-3"]
    lines = jobs.log_lines("sharded")
    assert "[algo-2] done on algo-2 with ['part-00001.csv', 'part-00004.csv']" in lines
    assert not (home / "jobs/sharded/algo-2/opt/ml/processing").exists()


def test_one_failing_instance_fails_the_job_stops_the_others_and_publishes_nothing(home):
    jobs = service(home, REWRITE)
    started = time.monotonic()
    jobs.create_processing_job(**request("one-fails", 3, FAIL_ON="algo-2"))
    final = jobs.wait("one-fails")
    assert time.monotonic() - started < 60  # the others were stopped, not waited for
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["SmliftLocal"]["Host"] == "algo-2" and final["SmliftLocal"]["ExitCode"] == 4
    assert LocalS3(home).list_keys("s3://data/out/one-fails/") == []
    lines = jobs.log_lines("one-fails")
    assert "[algo-2] failing on algo-2" in lines and "[algo-1] waiting on algo-1" in lines


def test_two_instances_writing_the_same_file_fail_the_job_rather_than_race(home):
    jobs = service(home, REWRITE)
    jobs.create_processing_job(**request("same-name", 2, SAME_NAME="1"))
    final = jobs.wait("same-name")
    assert final["ProcessingJobStatus"] == "Failed"
    assert "algo-1 and algo-2 both wrote 'same.json'" in final["FailureReason"]
    assert LocalS3(home).list_keys("s3://data/out/same-name/") == []


@pytest.mark.parametrize("mode", MODES)
def test_each_instances_peak_memory_is_recorded(home, mode):
    jobs = service(home, mode)
    jobs.create_processing_job(**request("memory", 2, ALLOC_ON="algo-2", ALLOC_MIB="200"))
    final = jobs.wait("memory")
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    peaks = final["SmliftLocal"]["PeakMemoryBytes"]
    assert set(peaks) == {"algo-1", "algo-2"}
    assert peaks["algo-2"] >= 200 << 20
    assert peaks["algo-1"] < peaks["algo-2"] - (150 << 20)  # each instance its own
    runner_log = (home / "jobs/memory/logs/smlift-runner.log").read_text()
    assert f"algo-2 exit_code=0 stop_reason=None peak_memory_bytes={peaks['algo-2']}" in runner_log


def test_two_outputs_and_a_second_job_under_the_same_prefix_keep_each_others_keys(home):
    jobs = service(home, REWRITE)
    body = request("two-outputs", 2)
    body["AppSpecification"]["ContainerEntrypoint"] = ["python3",
                                                       "/opt/ml/processing/input/code/two.py"]
    body["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://data/tools"
    body["ProcessingOutputConfig"] = {"Outputs": [
        {"OutputName": "result", "S3Output": {"S3Uri": "s3://data/out/run/result/",
                                              "LocalPath": "/opt/ml/processing/output/results",
                                              "S3UploadMode": "EndOfJob"}},
        {"OutputName": "partials", "S3Output": {"S3Uri": "s3://data/out/run/partials/",
                                                "LocalPath": "/opt/ml/processing/output/partials",
                                                "S3UploadMode": "EndOfJob"}}]}
    jobs.create_processing_job(**body)
    assert jobs.wait("two-outputs")["ProcessingJobStatus"] == "Completed"
    summary = request("summary", 1)  # one instance, writing algo-1.json into the same prefix
    summary["ProcessingInputs"][1]["S3Input"]["S3Uri"] = "s3://data/out/run/partials/"
    summary["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = \
        "s3://data/out/run/result/"
    jobs.create_processing_job(**summary)
    assert jobs.wait("summary")["ProcessingJobStatus"] == "Completed"
    s3 = LocalS3(home)
    assert [uri.removeprefix("s3://data/out/run/") for uri in s3.list_keys("s3://data/out/run/")] \
        == ["partials/algo-1.json", "partials/algo-2.json", "result/algo-1.csv",
            "result/algo-1.json", "result/algo-2.csv"]
    assert s3.get_bytes("s3://data/out/run/result/algo-1.csv") == \
        b"part-00000.csvpart-00002.csvpart-00004.csv"
    assert json.loads(s3.get_bytes("s3://data/out/run/result/algo-1.json"))["shard"] == [
        "algo-1.json", "algo-2.json"]


def test_jobs_logs_shows_every_instances_stream(home, run_cli, monkeypatch):
    monkeypatch.setenv("SMLIFT_HOME", str(home))
    jobs = service(home, REWRITE)
    jobs.create_processing_job(**request("logged", 2))
    assert jobs.wait("logged")["ProcessingJobStatus"] == "Completed"
    code, out, _ = run_cli("jobs", "logs", "logged")
    assert code == 0
    assert out.splitlines() == ["[algo-1] done on algo-1 with ['part-00000.csv', "
                                "'part-00002.csv', 'part-00004.csv']",
                                "[algo-2] done on algo-2 with ['part-00001.csv', "
                                "'part-00003.csv']"]


DOCKERFILE = """FROM python:3.11-slim
COPY step.py /opt/program/step.py
ENTRYPOINT ["python3", "/opt/program/step.py"]
"""


def test_on_the_docker_engine_each_instance_is_a_container_of_its_own(home, tmp_path,
                                                                       docker_engine):
    from smlift.images import build_image

    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "step.py").write_text(textwrap.dedent(STEP))
    build_image(context, "multi:1", home, echo=lambda line: None, engine="docker")
    jobs = LocalProcessing(home, engine="docker", grace_seconds=1)
    body = request("containers", 2)
    body["AppSpecification"] = {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/multi:1"}
    jobs.create_processing_job(**body)
    final = jobs.wait("containers")
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    assert final["SmliftLocal"]["IsolationMode"] == "docker"
    s3 = LocalS3(home)
    reports = [json.loads(s3.get_bytes(f"s3://data/out/containers/algo-{i}.json")) for i in (1, 2)]
    assert [r["shard"] for r in reports] == [
        ["part-00000.csv", "part-00002.csv", "part-00004.csv"],
        ["part-00001.csv", "part-00003.csv"]]
    assert [r["hosts"] for r in reports] == [["algo-1", "algo-2"]] * 2

    # the Docker sampler first has to find the container (docker inspect): hold it longer
    body = request("containers-memory", 2, ALLOC_ON="algo-1", ALLOC_MIB="200", HOLD_SECONDS="4")
    body["AppSpecification"] = {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/multi:1"}
    jobs.create_processing_job(**body)
    final = jobs.wait("containers-memory")
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    peaks = final["SmliftLocal"]["PeakMemoryBytes"]  # sampled from each container's cgroup
    assert peaks["algo-1"] >= 200 << 20 and peaks["algo-2"] < 100 << 20

    body = request("containers-fail", 2, FAIL_ON="algo-1")
    body["AppSpecification"] = {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/multi:1"}
    jobs.create_processing_job(**body)
    final = jobs.wait("containers-fail")
    assert final["ProcessingJobStatus"] == "Failed" and final["SmliftLocal"]["Host"] == "algo-1"
    assert s3.list_keys("s3://data/out/containers-fail/") == []
