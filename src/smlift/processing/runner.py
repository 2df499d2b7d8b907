"""Launch one staged job instance as a local "container", supervise it, and say how it ended
(`cluster.py` runs the instances of a job of several in parallel, each through `run_job`).

The runner sees a `JobSpec`, a staged job root and a resolved image; never the request JSON.

**Command** (Docker's override rules against the image): `ContainerEntrypoint` replaces the
image's ENTRYPOINT and clears its CMD; `ContainerArguments` replace CMD. The command is
ENTRYPOINT + CMD after the overrides.

**Environment**: exactly the job's `Environment`, on top of the image's ENV, on top of a base of
PATH (`/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`), HOME (in the sandbox
/tmp, else the caller's HOME, else `/root`) and LANG=C.UTF-8. The image's `bin_dir` (its
python) is put first on PATH. Nothing else of the caller's environment leaks in. The working
directory is the image's WORKDIR.

**Isolation modes** (`MODES`, in auto-detection's order of preference), recorded in the
description (`SmliftLocal.IsolationMode`, and `SmliftLocal.Sandboxed`) and in
`logs/smlift-runner.log`:
- `bubblewrap`: the sandbox (`sandbox.py`). The job sees only a read-only system, its image's
  runtime, its own `/opt/ml` and a private /tmp, as uid 65534 in its own PID namespace; HOME is
  /tmp. Nothing is rewritten. A stop's SIGTERM reaches the job's main process inside it.
- `mount-namespace`: the job runs in a private mount namespace (`unshare --mount --propagation
  private` as root, `unshare -Urm` in an unprivileged user namespace otherwise) whose /opt is an
  overlay: the host's /opt below, the job root's `opt/` (its `/opt/ml`, the image's
  `/opt/program`, ...) on top, so what the job writes lands in its root and the host's /opt
  cannot change. Where overlayfs is refused, a tmpfs on /opt with the host's entries and the job
  root's `opt/*` bound onto it does the same (the host's /opt entries are then writable). The
  job sees the real `/opt/ml/...` paths; nothing outside its namespace changes.
- `docker`: for an image of a Docker engine (`image.engine == "docker"`), `docker run` with
  SageMaker's mounts only, the image's own files left visible (`container.py`).
- `path-rewrite`: where no namespace can be made, every `/opt/ml` prefix (and the image's file
  folders) in the arguments, the environment and the working directory is rewritten to the job
  root. A job that builds `/opt/ml/...` paths itself, or reads them from
  processingjobconfig.json, will not find them in this mode.

`mount-namespace` and `path-rewrite` are **not sandboxes**: the job has the caller's access to
the machine. The service says so once per process on stderr (`sandbox.warn_unsandboxed`).

**Stopping** (a StopProcessingJob, the execution stopping, or MaxRuntimeInSeconds reached): as
SageMaker, SIGTERM to the job's main process, a grace period (SageMaker: 120 s) to exit, then
SIGKILL to the job's whole process group; the job ends `Stopped`. When the main process exits
for any reason, what it left running in its process group is killed too (a container's end).

The process launcher and the clock are injected: tests drive timing with fakes; real runs use
`popen_launcher` (subprocess, one new session per job, stdout+stderr to one log file).
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Callable, Protocol

from ..asl.clock import RealClock
from ..confined import LinkRefused, open_file
from ..errors import ProcessingJobError
from . import container, sandbox
from .container import DOCKER
from .memory import PeakSampler, TreeMemorySampler
from .spec import JobSpec
from .staging import StagedJob, host_path

BUBBLEWRAP, NAMESPACE, REWRITE = "bubblewrap", "mount-namespace", "path-rewrite"
MODES = (BUBBLEWRAP, NAMESPACE, REWRITE)  # auto-detection's order of preference
SANDBOXED = (BUBBLEWRAP, DOCKER)          # the modes in which a job cannot reach the host
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
EXIT_MESSAGE_BYTES = 1024
NOT_UTF8_MESSAGE = ("ClientError: the file /opt/ml/output/message is not UTF-8 encoded; write "
                    "the exit message as UTF-8 text")
NOT_A_FILE_MESSAGE = ("ClientError: {what}; smlift does not follow links or read special files "
                      "out of a job's folders. Write the exit message to /opt/ml/output/message "
                      "as a regular UTF-8 file")
SETUP_FAILED = 125  # like `docker run`: the container could not be started
DEFAULT_GRACE_SECONDS = 120.0

# Runs inside the new mount namespace: a private /opt holding the host's /opt entries and the
# job root's opt/*, then the job's command in its WORKDIR.
_NAMESPACE_SCRIPT = r"""
root=$1; wd=$2; overlay=$3; shift 3
trap 'exit 125' EXIT
set -e
if [ "$overlay" != 1 ] || ! mount -t overlay smlift-opt \
    -o "lowerdir=/opt,upperdir=$root/opt,workdir=$root/.smlift/overlay-work" /opt 2>/dev/null
then
  hold="$root/.smlift/host-opt"
  mount --rbind /opt "$hold"
  mount -t tmpfs -o mode=0755 smlift-opt /opt
  for entry in "$hold"/* "$hold"/.[!.]*; do
    if [ ! -e "$entry" ] && [ ! -L "$entry" ]; then continue; fi
    name=${entry##*/}
    if [ -e "$root/opt/$name" ]; then continue; fi
    if [ -L "$entry" ]; then cp -P "$entry" "/opt/$name"
    elif [ -d "$entry" ]; then mkdir "/opt/$name"; mount --rbind "$entry" "/opt/$name"
    else : > "/opt/$name"; mount --bind "$entry" "/opt/$name"; fi
  done
  for entry in "$root/opt"/*; do
    name=${entry##*/}; mkdir "/opt/$name"; mount --rbind "$entry" "/opt/$name"
  done
fi
cd "$wd"
trap - EXIT
unset OLDPWD PWD
exec "$@"
"""


class Process(Protocol):
    pid: int

    def poll(self) -> int | None: ...
    def wait(self) -> int: ...
    def signal(self, signum: int) -> None: ...
    def kill_group(self) -> None: ...


Launcher = Callable[[list[str], dict[str, str], str, IO[bytes]], Process]


class PopenProcess:
    """A real child process in its own session (so its whole group can be killed)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, log: IO[bytes]):
        try:
            self._popen = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                           stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True, close_fds=True)
        except OSError as exc:
            raise ProcessingJobError(f"cannot start the job's command {argv[0]!r}: {exc}",
                                     fix="check ContainerEntrypoint and the image's ENTRYPOINT")
        self.pid = self._popen.pid

    def poll(self) -> int | None:
        return self._popen.poll()

    def wait(self) -> int:
        return self._popen.wait()

    def signal(self, signum: int) -> None:
        if self._popen.poll() is None:
            self._popen.send_signal(signum)

    def kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def popen_launcher(argv: list[str], env: dict[str, str], cwd: str, log: IO[bytes]) -> Process:
    """Launch for real. Where util-linux's `setpriv` exists, the job gets SIGKILL if the smlift
    process running it dies (PR_SET_PDEATHSIG), so no job outlives its runner."""
    return PopenProcess([*_death_signal_prefix(), *argv], env, cwd, log)


_setpriv: list[str | None] = []


def _death_signal_prefix() -> list[str]:
    if not _setpriv:
        _setpriv.append(shutil.which("setpriv"))
    return [_setpriv[0], "--pdeathsig", "KILL", "--"] if _setpriv[0] else []


@dataclass
class JobControl:
    """Shared between the runner and whoever may stop the job (StopProcessingJob, a Task)."""

    wake: threading.Event = field(default_factory=threading.Event)
    stop_reason: str | None = None

    def stop(self, reason: str = "StopRequested") -> None:
        self.stop_reason = self.stop_reason or reason
        self.wake.set()


@dataclass(frozen=True)
class RunResult:
    status: str                      # Completed | Failed | Stopped
    exit_code: int | None
    exit_message: str | None
    failure_reason: str | None
    mode: str
    log_file: Path
    host: str = "algo-1"
    log_files: tuple[Path, ...] = ()  # every instance's stream, for a job of several
    peaks: tuple[tuple[str, int | None], ...] = ()  # (host, peak memory or None) of each instance


@dataclass(frozen=True)
class Command:
    argv: list[str]          # what is launched (in namespace mode: unshare ... sh -c ...)
    env: dict[str, str]
    cwd: str                 # the launcher's cwd (host path)
    mode: str
    job_argv: list[str]      # the job's own command, as the job sees it
    workdir: str             # the job's working directory, as the job sees it
    container: str | None = None  # the container's name, in docker mode


# --- the command --------------------------------------------------------------------------------

def container_command(spec: JobSpec, image: Any) -> list[str]:
    """ENTRYPOINT + CMD after Docker's override rules."""
    if spec.entrypoint is not None:
        entrypoint, cmd = list(spec.entrypoint), list(spec.arguments or ())
    else:
        entrypoint = list(image.entrypoint or ())
        cmd = list(spec.arguments) if spec.arguments is not None else list(image.cmd or ())
    argv = entrypoint + cmd
    if not argv:
        raise ProcessingJobError(
            f"the job has no command: image {spec.image_uri} has no ENTRYPOINT or CMD and the "
            "request gives no ContainerEntrypoint", where="AppSpecification.ContainerEntrypoint",
            fix='set AppSpecification.ContainerEntrypoint, e.g. ["python3", "/opt/ml/processing/'
                'input/code/step.py"]')
    return argv


def job_environment(spec: JobSpec, image: Any, home: str | None = None) -> dict[str, str]:
    """The job's environment: base, then the image's ENV, then the job's Environment. HOME is
    `home`, else the caller's (a sandbox has no caller's HOME: it passes /tmp)."""
    env = {"PATH": BASE_PATH, "HOME": home or os.environ.get("HOME") or "/root",
           "LANG": "C.UTF-8"}
    env.update(image.env or {})
    env.update(spec.environment)
    bin_dir = str(image.bin_dir)
    if env["PATH"].split(":")[0] != bin_dir:
        env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return env


def plan_command(spec: JobSpec, image: Any, staged: StagedJob, mode: str, *,
                 overlay: bool = True) -> Command:
    """The argv, environment and working directory to launch, for `mode` (`overlay=False`:
    build the namespace's /opt from a tmpfs and bind mounts even where overlayfs works)."""
    if mode == DOCKER:
        return docker_command(spec, image, staged)
    if mode == BUBBLEWRAP:
        return bubblewrap_command(spec, image, staged)
    argv, env = container_command(spec, image), job_environment(spec, image)
    workdir = image.workdir or "/"
    prefixes = _image_folders(image)
    if mode == REWRITE:
        prefixes.add("/opt/ml")
    else:
        prefixes = {p for p in prefixes if not (p + "/").startswith("/opt/")}
    rewrite = _rewriter(prefixes, staged.root)
    workdir = _working_dir(workdir, mode, staged, rewrite)
    argv = [rewrite(arg) for arg in argv]
    env = {key: rewrite(value) for key, value in env.items()}
    if mode == NAMESPACE:
        for helper in ("host-opt", "overlay-work"):
            (staged.root / ".smlift" / helper).mkdir(parents=True, exist_ok=True)
        launch = [*namespace_prefix(), "/bin/sh", "-c", _NAMESPACE_SCRIPT, "smlift-job",
                  str(staged.root), workdir, "1" if overlay else "0", *argv]
        return Command(launch, env, str(staged.root), mode, argv, workdir)
    return Command(argv, env, workdir, mode, argv, workdir)


def docker_command(spec: JobSpec, image: Any, staged: StagedJob) -> Command:
    """`docker run` of an image of the Docker engine (see container.py)."""
    name = container.container_name(staged, spec.name)
    argv = container.docker_run_argv(spec, image, staged, name)
    job_argv = argv[argv.index(image.docker_ref):]
    return Command(argv, container.docker_client_env(spec), str(staged.root), DOCKER, job_argv,
                   image.workdir or "/", container=name)


def bubblewrap_command(spec: JobSpec, image: Any, staged: StagedJob) -> Command:
    """`bwrap ...` (sandbox.py) of the job's own command, which sees its real paths: nothing is
    rewritten. WORKDIR is created under the job root when the sandbox would not have it."""
    argv, env = container_command(spec, image), job_environment(spec, image, home="/tmp")
    workdir = image.workdir or "/"
    folders = _image_folders(image)
    if not sandbox.provides(workdir):
        host_path(staged.root, workdir).mkdir(parents=True, exist_ok=True)
        if not (workdir + "/").startswith("/opt/"):
            folders.add(workdir)  # bound at its path, like the image's folders
    sandbox.prepare_root(staged.root)
    launch = sandbox.command(staged.root, folders, Path(image.bin_dir), workdir, argv)
    return Command(launch, env, str(staged.root), BUBBLEWRAP, argv, workdir)


def _working_dir(workdir: str, mode: str, staged: StagedJob,
                 rewrite: Callable[[str], str]) -> str:
    """WORKDIR as the job will `cd` to it; created when missing, as Docker does."""
    if mode == NAMESPACE and (workdir + "/").startswith("/opt/"):
        host_path(staged.root, workdir).mkdir(parents=True, exist_ok=True)
        return workdir
    rewritten = rewrite(workdir)
    if os.path.isdir(rewritten):
        return rewritten
    target = host_path(staged.root, workdir)
    target.mkdir(parents=True, exist_ok=True)
    return str(target)


def _image_folders(image: Any) -> set[str]:
    folders = set()
    for source, container_path in image.files or ():
        path = container_path.rstrip("/") or "/"
        is_dir = container_path.endswith("/") or Path(source).is_dir()
        folders.add(path if is_dir else os.path.dirname(path))
    return {folder for folder in folders if folder not in ("", "/")}


def _rewriter(prefixes: set[str], root: Path) -> Callable[[str], str]:
    if not prefixes:
        return lambda text: text
    ordered = sorted(prefixes, key=len, reverse=True)
    regex = re.compile(r"(?<![\w.\-/])(" + "|".join(re.escape(p) for p in ordered)
                       + r")(?=/|$|[^\w.\-])")
    return lambda text: regex.sub(lambda m: str(root) + m.group(1), text)


# --- isolation mode -----------------------------------------------------------------------------

def namespace_prefix() -> list[str]:
    if os.geteuid() == 0:
        return ["unshare", "--mount", "--propagation", "private", "--"]
    return ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private", "--"]


_probed: dict[str, bool] = {}


def bubblewrap_available() -> bool:
    """Can bwrap make its sandbox here? Probed once per process (one short-lived `bwrap`)."""
    if BUBBLEWRAP not in _probed:
        _probed[BUBBLEWRAP] = sandbox.available()
    return _probed[BUBBLEWRAP]


def namespace_available() -> bool:
    """Can this machine make a private mount namespace with its own /opt? Probed once per
    process (one short-lived `unshare`)."""
    if NAMESPACE not in _probed:
        probe = [*namespace_prefix(), "/bin/sh", "-c",
                 "mount -t tmpfs smlift-probe /opt && mkdir /opt/ml"]
        try:
            ok = subprocess.run(probe, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        _probed[NAMESPACE] = ok
    return _probed[NAMESPACE]


def detect_mode() -> str:
    """The first mode of MODES this machine can run: `bubblewrap` (a sandbox), else
    `mount-namespace`, else `path-rewrite`."""
    if bubblewrap_available():
        return BUBBLEWRAP
    return NAMESPACE if namespace_available() else REWRITE


def resolve_mode(requested: str | None) -> str:
    """`None`/"auto" -> detect; a named mode must be one of MODES and available."""
    if requested in (None, "auto"):
        return detect_mode()
    if requested not in MODES:
        raise ProcessingJobError(f"unknown isolation mode {requested!r}",
                                 fix=f"use one of: auto, {', '.join(MODES)}")
    if requested == BUBBLEWRAP and not bubblewrap_available():
        raise ProcessingJobError("bubblewrap cannot run a sandbox on this machine",
                                 fix="install bubblewrap (apt-get install bubblewrap), or use "
                                     "mode auto")
    if requested == NAMESPACE and not namespace_available():
        raise ProcessingJobError("this machine cannot create a private mount namespace",
                                 fix=f"use mode {REWRITE!r} (or auto)")
    return requested


# --- running ------------------------------------------------------------------------------------

def run_job(spec: JobSpec, image: Any, staged: StagedJob, *, mode: str, control: JobControl,
            launcher: Launcher = popen_launcher, clock: Any = None,
            grace_seconds: float = DEFAULT_GRACE_SECONDS,
            on_stopping: Callable[[], None] = lambda: None, overlay: bool = True) -> RunResult:
    """Run the job to its end; Completed, Failed (exit code != 0) or Stopped."""
    if clock is None:
        clock = RealClock()
    command = plan_command(spec, image, staged, mode, overlay=overlay)
    log_file = staged.log_dir / f"{staged.host}-{int(clock.now())}"
    note = _runner_log(staged)
    note(f"mode={mode} command={command.job_argv} workdir={command.workdir}")
    with open(log_file, "ab", buffering=0) as log:
        process = _launch(command, launcher, log)
        sampler = _sampler(process, command)
        if sampler is not None:
            sampler.start()
        if mode == BUBBLEWRAP:
            process = sandbox.SandboxProcess(process)
        try:
            exit_code, reason = supervise(process, control, spec.max_runtime, clock,
                                          grace_seconds, on_stopping, note)
        finally:
            if sampler is not None:
                sampler.stop()
    peak, source = (sampler.peak, sampler.source) if sampler is not None else (None, "unknown")
    note(f"exit_code={exit_code} stop_reason={reason} peak_memory_bytes={peak} ({source})")
    if command.container is not None:
        container.reclaim_ownership(spec, image, staged)
    return replace(_result(staged, mode, log_file, exit_code, reason, spec.max_runtime,
                           command.job_argv[0]), host=staged.host,
                   peaks=((staged.host, peak),))


def _sampler(process: Process, command: Command) -> PeakSampler | None:
    """What measures this instance's peak memory: its container's cgroup, or the process tree
    of a real process of ours; None for anything else (a test's fake process)."""
    if command.container is not None:
        return container.MemorySampler(command.container)
    if isinstance(process, PopenProcess):
        return TreeMemorySampler(process.pid)
    return None


def _launch(command: Command, launcher: Launcher, log: IO[bytes]) -> Process:
    """Launch the command; a container is first cleared of a leftover of its name, watched by a
    reaper, and driven through `docker kill` (container.ContainerProcess)."""
    if command.container is None:
        return launcher(command.argv, command.env, command.cwd, log)
    container.remove_container(command.container)
    reaper = container.start_reaper(command.container)
    try:
        client = launcher(command.argv, command.env, command.cwd, log)
    except BaseException:
        reaper.kill()
        raise
    return container.ContainerProcess(client, command.container, reaper)


def supervise(process: Process, control: JobControl, max_runtime: float, clock: Any,
              grace_seconds: float, on_stopping: Callable[[], None] = lambda: None,
              note: Callable[[str], None] = lambda text: None) -> tuple[int, str | None]:
    """Wait for the process; on a stop or the deadline: SIGTERM, grace, SIGKILL."""
    exited = threading.Event()
    threading.Thread(target=_wait_and_wake, args=(process, exited, control.wake),
                     daemon=True, name=f"smlift-wait-{process.pid}").start()
    started = clock.monotonic()
    while process.poll() is None and control.stop_reason is None:
        remaining = max_runtime - (clock.monotonic() - started)
        if remaining <= 0:
            control.stop_reason = "MaxRuntimeExceeded"
            break
        clock.sleep(remaining, control.wake)
    if process.poll() is None:
        on_stopping()
        note(f"stopping ({control.stop_reason}): SIGTERM, {grace_seconds:g}s grace")
        process.signal(signal.SIGTERM)
        clock.sleep(grace_seconds, exited)
        if process.poll() is None:
            note("grace period over: SIGKILL")
    process.kill_group()  # the main process is gone (or must go): end what it left behind
    return process.wait(), control.stop_reason


def _wait_and_wake(process: Process, exited: threading.Event, wake: threading.Event) -> None:
    process.wait()
    exited.set()
    wake.set()


def read_exit_message(staged: StagedJob) -> str | None:
    """The first 1 KB of /opt/ml/output/message, or None when the job wrote none. Raises
    UnicodeDecodeError when the file is not UTF-8 (SageMaker then fails the job: ClientError),
    and LinkRefused when it, or a folder on its way, is a link, a FIFO or a device: that is
    never followed nor read, so a job cannot make smlift read a host file or block on a pipe."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        fd = open_file(staged.root, staged.message_path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    with os.fdopen(fd, "rb") as handle:
        head = handle.read(EXIT_MESSAGE_BYTES)
        decoder.decode(head)
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    # a character cut by the 1 KB limit is dropped, not replaced
    return head.decode("utf-8", errors="ignore") or None


def _result(staged: StagedJob, mode: str, log_file: Path, exit_code: int,
            reason: str | None, max_runtime: float, program: str = "") -> RunResult:
    try:
        message = read_exit_message(staged)
    except (UnicodeDecodeError, LinkRefused) as exc:
        if reason is None:
            why = (NOT_UTF8_MESSAGE if isinstance(exc, UnicodeDecodeError)
                   else NOT_A_FILE_MESSAGE.format(what=_what(exc, staged.root)))
            return RunResult("Failed", exit_code, None, why, mode, log_file)
        message = None
    if reason is not None:
        why = (f"MaxRuntimeExceeded: the job ran longer than MaxRuntimeInSeconds "
               f"({max_runtime:g} s) and was stopped" if reason == "MaxRuntimeExceeded"
               else None)
        return RunResult("Stopped", exit_code, message, why, mode, log_file)
    if exit_code == 0:
        return RunResult("Completed", 0, message, None, mode, log_file)
    return RunResult("Failed", exit_code, message, failure_reason(exit_code, message, program),
                     mode, log_file)


def _what(exc: LinkRefused, root: Path) -> str:
    """'/opt/ml/output/message is a FIFO': the refused path as the job sees it."""
    where = Path(str(exc.where))
    shown = "/" + where.relative_to(root).as_posix() if where.is_relative_to(root) else str(where)
    return exc.message.split(";")[0].replace(str(where), shown, 1)


def failure_reason(exit_code: int, message: str | None, program: str = "") -> str:
    """SageMaker's wording: `AlgorithmError: ...` (at most 1024 characters)."""
    if exit_code in (126, 127) and not message:
        why = "was not found" if exit_code == 127 else "is not executable"
        text = (f"AlgorithmError: the command {program!r} {why} (exit code {exit_code}); check "
                "ContainerEntrypoint and the image's ENTRYPOINT. See job logs for more "
                "information")
    elif exit_code == SETUP_FAILED:
        text = ("ClientError: smlift could not set up the job's mount namespace or working "
                "directory; see the job's log")
    elif message:
        text = f"AlgorithmError: {message.strip()}"
    elif exit_code < 0:
        text = (f"AlgorithmError: See job logs for more information (killed by signal "
                f"{signal.Signals(-exit_code).name})")
    else:
        text = f"AlgorithmError: See job logs for more information (exit code {exit_code})"
    return text[:1024]


def _runner_log(staged: StagedJob) -> Callable[[str], None]:
    path = staged.log_dir / "smlift-runner.log"
    who = f"{staged.host} " if len(staged.hosts) > 1 else ""

    def note(text: str) -> None:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {who}{text}\n")

    return note

