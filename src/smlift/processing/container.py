"""Run one staged job in a Docker container, as SageMaker Processing runs it.

SageMaker starts the job's image with its own volumes mounted over a few container paths and
leaves the rest of the image alone (the code an image keeps in `/opt/program`, or even in
`/opt/ml/code`, stays visible). `docker_run_argv` does the same with bind mounts of the job root:

    ROOT/opt/ml/config                -> /opt/ml/config  (read-only: processingjobconfig.json,
                                                          resourceconfig.json)
    ROOT/opt/ml/output                -> /opt/ml/output  (the job may write `message` here)
    ROOT/<each input's LocalPath>     -> its LocalPath   (the staged S3 input, File mode)
    ROOT/<each output's LocalPath>    -> its LocalPath   (published by smlift on Completed)

**Command**: Docker applies the image's ENTRYPOINT/CMD and SageMaker's override rules itself:
`ContainerEntrypoint` becomes `--entrypoint FIRST` with the rest as the first arguments (Docker
then drops the image's CMD), `ContainerArguments` replace CMD.

**Environment**: exactly the job's `Environment` (`-e NAME`, so values never show in `ps`), on
top of the image's own ENV, as SageMaker does. Nothing of the caller's environment is passed.

**Network**: `NetworkConfig.EnableNetworkIsolation` -> `--network none`; otherwise Docker's
default bridge (a SageMaker job has network access unless isolated).

**Stopping** (`ContainerProcess`): SIGTERM reaches the container's main process through
`docker kill --signal TERM`, and after the grace period `docker kill` sends SIGKILL: `docker
stop`'s semantics, which SageMaker's StopProcessingJob follows. The container is removed when it
ends (`--rm`, then `docker rm -f` to be sure).

**Ownership**: the container runs as its image's user (root, as on SageMaker), so what it writes
into the mounted folders may belong to root. When smlift itself is not root, `reclaim_ownership`
hands those folders back to smlift's user (a `chown -R` in a throw-away container of the same
image) so that publishing and clean-up can move and remove them.

**Peak memory** (`MemorySampler`): a container's processes are not smlift's children, so no
wait4 sees them. While the container runs, its memory cgroup's resident (anonymous) memory is
read every SAMPLE_SECONDS (cgroup v1 `total_rss`, v2 `anon` in memory.stat: page cache left
out, as RSS leaves it out) and the largest value kept: a sample, so a spike shorter than the
interval can be missed. Where the engine's cgroups are not visible from here (a remote engine,
Docker Desktop), the peak is unknown (None).

**No container outlives smlift**: each container is named after the home and the job
(`container_name`) and labelled with the runner's pid. A small reaper process, in a session of its
own, waits for the smlift process that started the container and removes the container when
that process is gone (kill -9, OOM, a closed terminal). A container left over under the same name
(its reaper killed too) is removed before a job of that name starts, since the store already
guarantees that no live job has that name.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from .memory import PeakSampler
from .spec import JobSpec
from .staging import StagedJob

DOCKER = "docker"
SAMPLE_SECONDS = 0.25
CGROUP_ROOT = Path("/sys/fs/cgroup")
RESIDENT_KEYS = ("total_rss", "anon")  # memory.stat: cgroup v1, v2
_REAPER = ('while kill -0 "$1" 2>/dev/null; do sleep 1; done; '
           'docker rm -f "$2" >/dev/null 2>&1')


def container_name(staged: StagedJob, job_name: str) -> str:
    """A name unique to this job root (so to its home) and job: `smlift-<hash>-<job>`."""
    digest = hashlib.sha256(str(Path(staged.root).absolute()).encode()).hexdigest()[:10]
    return f"smlift-{digest}-{job_name.lower()}"


def docker_run_argv(spec: JobSpec, image: Any, staged: StagedJob, name: str) -> list[str]:
    """`docker run ...` for the job: SageMaker's mounts, the job's Environment, the overrides."""
    argv = ["docker", "run", "--rm", "--name", name, "--label", "smlift.job=" + spec.name,
            "--label", f"smlift.runner-pid={os.getpid()}"]
    argv += ["-v", f"{staged.opt_ml / 'config'}:/opt/ml/config:ro",
             "-v", f"{staged.opt_ml / 'output'}:/opt/ml/output"]
    for local_path in sorted({i.local_path.rstrip("/") for i in spec.inputs}
                             | {o.local_path.rstrip("/") for o in spec.outputs}):
        host = staged.root.joinpath(*[p for p in local_path.split("/") if p])
        argv += ["-v", f"{host}:{local_path}"]
    if _network_isolated(spec):
        argv += ["--network", "none"]
    for key in spec.environment:
        argv += ["-e", key]
    if spec.entrypoint:
        argv += ["--entrypoint", spec.entrypoint[0], image.docker_ref, *spec.entrypoint[1:],
                 *(spec.arguments or ())]
    else:
        argv += [image.docker_ref, *(spec.arguments or ())]
    return argv


def docker_client_env(spec: JobSpec) -> dict[str, str]:
    """The `docker` client's own environment: what it needs to reach the engine, plus the job's
    Environment, which `-e NAME` then passes into the container (and nothing else)."""
    keep = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH",
            "DOCKER_TLS_VERIFY", "XDG_RUNTIME_DIR", "LANG")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(spec.environment)
    return env


def _network_isolated(spec: JobSpec) -> bool:
    network = spec.config.get("NetworkConfig") or {}
    return bool(network.get("EnableNetworkIsolation"))


def reclaim_ownership(spec: JobSpec, image: Any, staged: StagedJob) -> None:
    """Give the job's writable mounts back to this process's user when it is not root."""
    if os.geteuid() == 0:
        return
    argv = ["docker", "run", "--rm", "--network", "none", "--entrypoint", "chown"]
    targets = []
    for index, host in enumerate([staged.opt_ml / "output", *(path for _, path in staged.outputs)]):
        argv += ["-v", f"{host}:/smlift-reclaim/{index}"]
        targets.append(f"/smlift-reclaim/{index}")
    _docker_quietly([*argv[1:], image.docker_ref, "-R", f"{os.geteuid()}:{os.getegid()}",
                     *targets])


def remove_container(name: str) -> None:
    """`docker rm -f NAME`, quietly (it may be gone already)."""
    _docker_quietly(["rm", "-f", name])


def _docker_quietly(args: list[str]) -> None:
    try:
        subprocess.run(["docker", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        pass  # the engine is gone or hung: the reaper and the next job's clean-up remain


def start_reaper(name: str) -> subprocess.Popen:
    """A process of its own session that removes the container once this process is gone."""
    return subprocess.Popen(["/bin/sh", "-c", _REAPER, "smlift-reaper", str(os.getpid()), name],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)


class ContainerProcess:
    """The runner's `Process` for a container: signals go to the container, not to the client.

    Wraps the launched `docker run` client process; `signal` is `docker kill --signal`, and
    `kill_group` SIGKILLs the container, removes it and ends the client and the reaper."""

    def __init__(self, client: Any, name: str, reaper: subprocess.Popen | None = None):
        self._client, self.name, self._reaper = client, name, reaper
        self.pid = client.pid

    def poll(self) -> int | None:
        return self._client.poll()

    def wait(self) -> int:
        return self._client.wait()

    def signal(self, signum: int) -> None:
        if self._client.poll() is None:
            _docker_quietly(["kill", "--signal", signal.Signals(signum).name, self.name])

    def kill_group(self) -> None:
        remove_container(self.name)
        self._client.kill_group()
        if self._reaper is not None and self._reaper.poll() is None:
            self._reaper.kill()
            self._reaper.wait()


class MemorySampler(PeakSampler):
    """The largest resident memory seen in container `name`'s cgroup (see the module
    docstring); `peak` is None until one sample was read."""

    source = f"container cgroup resident memory, sampled every {SAMPLE_SECONDS:g}s"

    def __init__(self, name: str, interval: float = SAMPLE_SECONDS):
        super().__init__(name, interval)
        self.name_of_container = name
        self._stat: Path | None = None

    def sample(self) -> int | None:
        if self._stat is None:
            pid, ident = container_process(self.name_of_container)
            self._stat = memory_stat_file(pid, ident) if pid else None
            if pid and self._stat is None:
                self.give_up()  # running, but its cgroup is not visible from here: no value
        return resident_bytes(self._stat) if self._stat is not None else None


def container_process(name: str) -> tuple[int, str]:
    """(host pid of running container `name`'s main process, container id); pid 0 until it
    runs."""
    try:
        done = subprocess.run(["docker", "inspect", "--format", "{{.State.Pid}} {{.Id}}", name],
                              capture_output=True, text=True, timeout=10)
        pid, ident = done.stdout.split() if done.returncode == 0 else ("0", "")
        return int(pid), ident
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0, ""


def memory_stat_file(pid: int, ident: str) -> Path | None:
    """The memory.stat of process `pid`'s memory cgroup, if visible from here and it is the
    container's (its path names the container id: a remote engine's pid may be any local
    process's)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if not ident or ident not in path:
            continue
        folder = (CGROUP_ROOT / "memory" if "memory" in controllers.split(",")
                  else CGROUP_ROOT if controllers == "" else None)
        if folder is not None and (folder / path.lstrip("/") / "memory.stat").is_file():
            return folder / path.lstrip("/") / "memory.stat"
    return None


def resident_bytes(stat: Path) -> int | None:
    """Resident anonymous memory in a cgroup's memory.stat (None once the cgroup is gone)."""
    try:
        fields = dict(line.split() for line in stat.read_text().splitlines() if " " in line)
    except (OSError, ValueError):
        return None
    for key in RESIDENT_KEYS:
        if key in fields:
            return int(fields[key])
    return None
