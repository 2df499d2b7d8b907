import dataclasses
import signal
import time
from pathlib import Path

import pytest

from smlift.asl.clock import VirtualClock
from smlift.errors import ProcessingJobError
from smlift.processing import runner as R
from smlift.processing.spec import build_spec
from smlift.processing.staging import create_root


@dataclasses.dataclass(frozen=True)
class Image:
    bin_dir: Path = Path("/images/sk/bin")
    entrypoint: list | None = None
    cmd: list | None = None
    env: dict = dataclasses.field(default_factory=dict)
    workdir: str = "/"
    files: tuple = ()


class FakeProcess:
    """Runs for `runs_for` virtual seconds; exits on SIGTERM if `honours_sigterm`."""

    def __init__(self, clock, runs_for=1.0, exit_code=0, honours_sigterm=True):
        self.pid, self.clock, self.started = 4242, clock, clock.now()
        self.runs_for, self.exit_code, self.honours = runs_for, exit_code, honours_sigterm
        self.signals, self.group_killed, self._end = [], False, None

    def poll(self):
        if self._end is None:
            if self.clock.now() - self.started >= self.runs_for:
                self._end = self.exit_code
            elif signal.SIGTERM in self.signals and self.honours:
                self._end = -signal.SIGTERM
        return self._end

    def wait(self):
        while self.poll() is None:
            time.sleep(0.001)
        return self._end

    def signal(self, signum):
        self.signals.append(signum)

    def kill_group(self):
        self.group_killed = True
        if self.poll() is None:
            self._end = -signal.SIGKILL


@pytest.fixture
def spec(minimal_request):
    return build_spec(minimal_request, arn="arn:x")


def with_app(spec, entrypoint=None, arguments=None):
    return dataclasses.replace(spec, entrypoint=entrypoint, arguments=arguments)


# --- Docker's override rules -----------------------------------------------------------------

def test_arguments_replace_the_image_cmd_and_follow_its_entrypoint(spec):
    image = Image(entrypoint=["python3", "/opt/program/predict.py"], cmd=["--help"])
    assert R.container_command(with_app(spec, arguments=("--x",)), image) == [
        "python3", "/opt/program/predict.py", "--x"]


def test_without_overrides_the_image_entrypoint_and_cmd_run(spec):
    image = Image(entrypoint=["python3", "/opt/program/predict.py"], cmd=["--help"])
    assert R.container_command(spec, image) == ["python3", "/opt/program/predict.py", "--help"]


def test_container_entrypoint_replaces_entrypoint_and_clears_cmd(spec):
    image = Image(entrypoint=["python3", "/opt/program/predict.py"], cmd=["--help"])
    assert R.container_command(with_app(spec, entrypoint=("python3", "s.py")), image) == [
        "python3", "s.py"]
    assert R.container_command(with_app(spec, ("python3", "s.py"), ("-v",)), image) == [
        "python3", "s.py", "-v"]


def test_no_command_at_all_is_a_clear_error(spec):
    with pytest.raises(ProcessingJobError, match="no ENTRYPOINT or CMD"):
        R.container_command(spec, Image())


# --- environment -----------------------------------------------------------------------------

def test_job_gets_exactly_its_environment_over_the_image_env(spec, monkeypatch):
    monkeypatch.setenv("LEAKY_SECRET", "x")
    image = Image(env={"A": "image", "B": "image", "PATH": "/usr/bin"})
    env = R.job_environment(spec, image)
    assert env["A"] == "1" and env["B"] == "image"
    assert env["PATH"] == "/images/sk/bin:/usr/bin"
    assert set(env) == {"A", "B", "PATH", "HOME", "LANG"}


# --- isolation modes -------------------------------------------------------------------------

def test_path_rewrite_mode_rewrites_opt_ml_and_image_folders_only(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    image = Image(entrypoint=["python3", "/opt/program/predict.py"],
                  files=((tmp_path / "predict.py", "/opt/program/predict.py"),),
                  workdir="/opt/program")
    job = dataclasses.replace(spec, arguments=("--in=/opt/ml/processing/input", "/opt/mlx",
                                               "/usr/opt/ml"),
                              environment={"OUT": "/opt/ml/processing/output"})
    command = R.plan_command(job, image, staged, R.REWRITE)
    root = str(staged.root)
    assert command.argv == ["python3", f"{root}/opt/program/predict.py",
                            f"--in={root}/opt/ml/processing/input", "/opt/mlx", "/usr/opt/ml"]
    assert command.env["OUT"] == f"{root}/opt/ml/processing/output"
    assert command.cwd == f"{root}/opt/program" and Path(command.cwd).is_dir()


def test_namespace_mode_keeps_real_paths_and_wraps_the_command_in_unshare(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    image = Image(entrypoint=["python3", "/opt/program/predict.py"], workdir="/opt/program",
                  files=((tmp_path / "predict.py", "/opt/program/predict.py"),))
    command = R.plan_command(spec, image, staged, R.NAMESPACE)
    assert command.argv[0] == "unshare" and "--mount" in command.argv
    assert command.argv[-2:] == ["python3", "/opt/program/predict.py"]
    assert command.job_argv == ["python3", "/opt/program/predict.py"]
    assert command.workdir == "/opt/program"
    assert (staged.root / "opt" / "program").is_dir()


def test_unknown_mode_is_refused():
    with pytest.raises(ProcessingJobError, match="unknown isolation mode"):
        R.resolve_mode("chroot")


# --- supervision -----------------------------------------------------------------------------

def test_process_ending_in_time_is_not_signalled():
    clock = VirtualClock()
    process = FakeProcess(clock, runs_for=5)
    assert R.supervise(process, R.JobControl(), 10, clock, 120) == (0, None)
    assert process.signals == []


def test_deadline_sends_sigterm_and_a_process_that_obeys_is_not_killed_first():
    clock = VirtualClock()
    process = FakeProcess(clock, runs_for=1000)
    code, reason = R.supervise(process, R.JobControl(), 10, clock, 120)
    assert reason == "MaxRuntimeExceeded" and code == -signal.SIGTERM
    assert process.signals == [signal.SIGTERM]


def test_process_ignoring_sigterm_is_killed_after_the_grace_period():
    clock = VirtualClock()
    process = FakeProcess(clock, runs_for=1000, honours_sigterm=False)
    stopping = []
    code, reason = R.supervise(process, R.JobControl(), 10, clock, 120,
                               on_stopping=lambda: stopping.append(True))
    assert code == -signal.SIGKILL and reason == "MaxRuntimeExceeded"
    assert clock.sleeps == [10, 120] and stopping == [True]


def test_stop_request_stops_at_once():
    clock = VirtualClock()
    process = FakeProcess(clock, runs_for=1000)
    control = R.JobControl()
    control.stop()
    code, reason = R.supervise(process, control, 10, clock, 120)
    assert reason == "StopRequested" and process.signals == [signal.SIGTERM]
    assert clock.sleeps == [120]


def test_run_job_fails_with_the_exit_message_and_records_the_mode(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    staged.message_path.write_text("KeyError: 'price'\n")
    clock, launched = VirtualClock(), []

    def launcher(argv, env, cwd, log):
        launched.append((argv, env, cwd))
        return FakeProcess(clock, runs_for=1, exit_code=1)

    result = R.run_job(with_app(spec, ("python3", "/opt/ml/processing/input/s.py")), Image(),
                       staged, mode=R.REWRITE, control=R.JobControl(), launcher=launcher,
                       clock=clock)
    assert result.status == "Failed" and result.exit_code == 1
    assert result.exit_message == "KeyError: 'price'\n"
    assert result.failure_reason == "AlgorithmError: KeyError: 'price'"
    assert launched[0][0] == ["python3", f"{staged.root}/opt/ml/processing/input/s.py"]
    assert "mode=path-rewrite" in (staged.log_dir / "smlift-runner.log").read_text()
    assert result.log_file.parent == staged.log_dir


def test_exit_message_is_the_first_kilobyte(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    staged.message_path.write_bytes(b"x" * 5000)
    assert R.read_exit_message(staged) == "x" * 1024


def test_exit_message_cut_at_one_kilobyte_drops_a_split_character(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    staged.message_path.write_bytes(b"x" * 1023 + "é".encode())  # é is 2 bytes: 1025 in all
    assert R.read_exit_message(staged) == "x" * 1023


def test_a_message_that_is_not_utf8_fails_the_job_with_a_client_error(spec, tmp_path):
    # SageMaker: "If the data in this file isn't UTF-8 encoded, the job fails and returns a
    # ClientError" -- even when the container exited 0, and even past the first kilobyte.
    staged = create_root(tmp_path / "job", spec)
    staged.message_path.write_bytes(b"ok" * 600 + b"\xff\xfe")
    clock = VirtualClock()
    result = R.run_job(with_app(spec, ("python3", "s.py")), Image(), staged, mode=R.REWRITE,
                       control=R.JobControl(),
                       launcher=lambda *a: FakeProcess(clock, runs_for=1, exit_code=0),
                       clock=clock)
    assert result.status == "Failed" and result.exit_message is None
    assert result.failure_reason.startswith("ClientError: ")
    assert "/opt/ml/output/message is not UTF-8" in result.failure_reason


def test_failure_reason_without_a_message_points_at_the_logs():
    assert R.failure_reason(2, None) == ("AlgorithmError: See job logs for more information "
                                         "(exit code 2)")
    assert "SIGKILL" in R.failure_reason(-9, None)


def test_docker_engine_mounts_only_what_sagemaker_provides_not_all_of_opt_ml(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    image = dataclasses.replace(Image(), entrypoint=["python3", "/opt/program/predict.py"])
    image = type("DockerImage", (), {**dataclasses.asdict(image), "docker_ref": "inference:1",
                                      "engine": "docker"})()
    command = R.plan_command(with_app(spec, ("python3", "s.py"), ("-v",)), image, staged, R.DOCKER)
    assert command.argv[:4] == ["docker", "run", "--rm", "--name"]
    options = command.argv[:command.argv.index("inference:1")]
    mounts = [options[i + 1] for i, arg in enumerate(options) if arg == "-v"]
    assert f"{staged.opt_ml}:/opt/ml" not in mounts  # the image's own /opt/ml files stay visible
    assert f"{staged.opt_ml / 'config'}:/opt/ml/config:ro" in mounts
    assert f"{staged.opt_ml / 'output'}:/opt/ml/output" in mounts
    for local_path in [i.local_path for i in spec.inputs] + [o.local_path for o in spec.outputs]:
        assert any(m.endswith(":" + local_path.rstrip("/")) for m in mounts), local_path
    assert command.container and command.container in command.argv
    assert command.argv[-5:] == ["--entrypoint", "python3", "inference:1", "s.py", "-v"]
    assert ["-e", "A"] == command.argv[command.argv.index("-e"):command.argv.index("-e") + 2]
