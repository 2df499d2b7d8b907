import dataclasses
import signal
import threading
import time
from pathlib import Path

import pytest

from smlift.errors import ImageError
from smlift.processing.service import LocalProcessing
from smlift.processing.spec import ApiError


@dataclasses.dataclass(frozen=True)
class Image:
    bin_dir: Path = Path("/usr/bin")
    entrypoint: list | None = None
    cmd: list | None = None
    env: dict = dataclasses.field(default_factory=dict)
    workdir: str = "/"
    files: tuple = ()


class FakeS3:
    def __init__(self):
        self.published = []

    def stage_prefix(self, uri, dest, shard=(0, 1)):
        (dest / "rows.csv").write_text("a\n")
        return 1

    def publish_dirs(self, folders, *, move=False, root=None):
        for src, uri in folders:
            self.published.append((uri, move, sorted(p.name for p in src.iterdir())))
        return len(folders)


class FakeProcess:
    """Ends with `exit_code` when released; ignores SIGTERM; SIGKILL ends it."""

    def __init__(self, exit_code=0):
        self.pid, self.exit_code, self.code = 77, exit_code, None
        self.released, self.signals = threading.Event(), []

    def poll(self):
        return self.code

    def wait(self):
        self.released.wait()
        return self.code

    def signal(self, signum):
        self.signals.append(signum)

    def kill_group(self):
        self.finish(-signal.SIGKILL)

    def finish(self, code):
        if self.code is None:
            self.code = code
            self.released.set()


class Launcher:
    def __init__(self, exit_code=0, hold=False):
        self.exit_code, self.hold, self.processes = exit_code, hold, []

    def __call__(self, argv, env, cwd, log):
        process = FakeProcess(self.exit_code)
        self.processes.append(process)
        if not self.hold:
            process.finish(self.exit_code)
        return process


def make(tmp_path, launcher, **kwargs):
    s3 = FakeS3()
    service = LocalProcessing(tmp_path / "home", s3=s3, launcher=launcher, mode="path-rewrite",
                              resolve_image=kwargs.pop("resolve_image", lambda uri: Image()),
                              **kwargs)
    return service, s3


def body(minimal_request, name="job-1"):
    request = dict(minimal_request, ProcessingJobName=name)
    request["AppSpecification"] = {"ImageUri": "img:1", "ContainerEntrypoint": ["true"]}
    return request


def test_completed_job_publishes_each_output_by_rename(tmp_path, minimal_request):
    service, s3 = make(tmp_path, Launcher(exit_code=0))
    service.create_processing_job(**body(minimal_request))
    assert service.wait("job-1")["ProcessingJobStatus"] == "Completed"
    assert s3.published == [("s3://b/out", True, [])]


def test_failed_job_publishes_nothing(tmp_path, minimal_request):
    service, s3 = make(tmp_path, Launcher(exit_code=3))
    service.create_processing_job(**body(minimal_request))
    final = service.wait("job-1")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].endswith("(exit code 3)")
    assert final["SmliftLocal"]["ExitCode"] == 3
    assert s3.published == []


def test_a_stopped_job_shows_stopping_through_its_grace_period(tmp_path, minimal_request):
    launcher = Launcher(hold=True)
    service, s3 = make(tmp_path, launcher, grace_seconds=1.5)
    service.create_processing_job(**body(minimal_request))
    while not launcher.processes:
        time.sleep(0.01)
    service.stop_processing_job(ProcessingJobName="job-1")
    deadline = time.monotonic() + 1.2
    seen = set()
    while time.monotonic() < deadline and "Stopping" not in seen:
        seen.add(service.job_description("job-1")["ProcessingJobStatus"])
        time.sleep(0.01)
    assert "Stopping" in seen
    final = service.wait("job-1")
    assert final["ProcessingJobStatus"] == "Stopped"
    assert launcher.processes[0].signals == [signal.SIGTERM]
    assert s3.published == []


def test_stopping_a_finished_job_is_a_validation_exception(tmp_path, minimal_request):
    service, _ = make(tmp_path, Launcher())
    service.create_processing_job(**body(minimal_request))
    service.wait("job-1")
    with pytest.raises(ApiError) as caught:
        service.stop_processing_job(ProcessingJobName="job-1")
    assert caught.value.code == "ValidationException"


def test_an_unresolvable_image_fails_the_job_with_a_client_error(tmp_path, minimal_request):
    def no_image(uri):
        raise ImageError(f"no local image {uri}", fix="smlift build containers/inference --tag img:1")

    service, _ = make(tmp_path, Launcher(), resolve_image=no_image)
    service.create_processing_job(**body(minimal_request))
    final = service.wait("job-1")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith("ClientError: no local image img:1")
    assert "smlift build" in final["FailureReason"]


def test_job_arn_uses_the_given_region_and_account(tmp_path, minimal_request):
    service, _ = make(tmp_path, Launcher())
    answer = service.create_job(body(minimal_request, "Job-2"), region="eu-west-1",
                                account="111122223333")
    assert answer == {"ProcessingJobArn":
                      "arn:aws:sagemaker:eu-west-1:111122223333:processing-job/job-2"}
    service.wait("Job-2")


def test_a_job_with_no_command_fails_with_a_client_error(tmp_path, minimal_request):
    service, _ = make(tmp_path, Launcher())
    request = body(minimal_request)
    request["AppSpecification"] = {"ImageUri": "img:1"}
    service.create_processing_job(**request)
    final = service.wait("job-1")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith("ClientError: the job has no command")


class HostLauncher:
    """Each instance's process, by host (read off its log stream's name): `exit_codes[host]`
    ends it at once; a host not listed holds until killed."""

    def __init__(self, exit_codes):
        self.exit_codes, self.processes = exit_codes, {}

    def __call__(self, argv, env, cwd, log):
        host = Path(log.name).name.rpartition("-")[0]
        process = self.processes[host] = FakeProcess()
        if host in self.exit_codes:
            process.finish(self.exit_codes[host])
        return process


def cluster_body(minimal_request, count):
    request = body(minimal_request)
    request["ProcessingResources"] = {"ClusterConfig": {
        "InstanceCount": count, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}}
    return request


def test_one_failed_instance_fails_the_job_stops_the_others_and_publishes_nothing(
        tmp_path, minimal_request):
    launcher = HostLauncher({"algo-1": 0, "algo-2": 3})
    service, s3 = make(tmp_path, launcher, grace_seconds=0.05)
    service.create_processing_job(**cluster_body(minimal_request, 3))
    final = service.wait("job-1")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith("AlgorithmError: See job logs")
    assert final["SmliftLocal"]["Host"] == "algo-2" and final["SmliftLocal"]["ExitCode"] == 3
    assert launcher.processes["algo-3"].signals == [signal.SIGTERM]
    assert launcher.processes["algo-3"].code == -signal.SIGKILL
    assert s3.published == []


def test_every_instance_completed_publishes_every_instances_outputs(tmp_path, minimal_request):
    launcher = HostLauncher({"algo-1": 0, "algo-2": 0})
    service, s3 = make(tmp_path, launcher)
    service.create_processing_job(**cluster_body(minimal_request, 2))
    final = service.wait("job-1")
    assert final["ProcessingJobStatus"] == "Completed"
    assert len(s3.published) == 2
    assert [Path(p).name.rpartition("-")[0] for p in final["SmliftLocal"]["LogFiles"]] == [
        "algo-1", "algo-2"]
    assert [n.split("/")[1].rpartition("-")[0] for n in final["SmliftLocal"]["LogStreamNames"]] \
        == ["algo-1", "algo-2"]


def test_stopping_a_job_stops_every_instance(tmp_path, minimal_request):
    launcher = HostLauncher({})
    service, s3 = make(tmp_path, launcher, grace_seconds=0.05)
    service.create_processing_job(**cluster_body(minimal_request, 2))
    while len(launcher.processes) < 2:
        time.sleep(0.01)
    service.stop_processing_job(ProcessingJobName="job-1")
    final = service.wait("job-1")
    assert final["ProcessingJobStatus"] == "Stopped"
    assert all(p.signals == [signal.SIGTERM] for p in launcher.processes.values())
    assert s3.published == []
