"""The `bubblewrap` isolation mode: a local job in a sandbox made by bwrap(1).

bubblewrap (Debian's `bubblewrap`, the sandbox of Flatpak) builds the job a filesystem of its own
from bind mounts on an empty tmpfs root, in new mount, PID, IPC and UTS namespaces:

    /usr, /bin, /sbin, /lib*     the host's, read-only (or the same symlinks into /usr)
    /etc                         a few files only: passwd, group, hosts, resolv.conf, nsswitch,
                                 ld.so.*, localtime, ssl certificates, alternatives (read-only)
    the image's runtime          its venv (and the interpreter it was made from), read-only
    /opt/ml                      the job root's opt/ml, writable; /opt/ml/config read-only
    /opt/<x>, other image paths  the job root's copies of the image's files
    /tmp                         a private tmpfs; HOME is /tmp
    /proc, /dev                  a fresh /proc of the job's own PID namespace; a minimal /dev

Nothing else exists in it: not $HOME, SMLIFT_HOME (local S3, the store, other jobs' roots), the
project, the host's /opt, the runtime cache's other runtimes, nor the host's processes.

**The user.** The job runs as uid/gid 65534 (nobody) with no capabilities: it cannot undo its
mounts (umount needs CAP_SYS_ADMIN) or read a root-owned process's /proc entries. As root, bwrap
builds the mounts and `setpriv` (util-linux, inside the sandbox) drops to 65534 for real, so
every host file is checked against an unprivileged uid; the job's writable folders are chowned
to it first (`prepare_root`). Not as root, bwrap makes an unprivileged user namespace (the job
is uid 65534 inside it, the caller outside), and the bind mounts alone bound what it can reach.

**Its processes.** `--unshare-pid --die-with-parent`: when the job's main process ends, or the
smlift process running it dies, the kernel kills every process left in its PID namespace, even
one started with setsid (`--new-session` also keeps it off smlift's terminal). A stop's SIGTERM
goes to the job's main process inside the sandbox (`SandboxProcess`), as SageMaker sends it.

**The network** is the host's, as a SageMaker job has network access unless its NetworkConfig
isolates it; loopback services of the host are reachable (docs/fidelity.md, Security model).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

JOB_UID = JOB_GID = 65534
SYSTEM_DIRS = ("/usr",)
TOP_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("passwd", "group", "hosts", "host.conf", "resolv.conf", "nsswitch.conf", "gai.conf",
             "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "ssl",
             "ca-certificates", "ca-certificates.conf", "alternatives", "mime.types",
             "os-release")


def bwrap() -> str | None:
    return shutil.which("bwrap")


def _is_root() -> bool:
    return os.geteuid() == 0


def user_args() -> tuple[list[str], list[str]]:
    """(bwrap options, command prefix inside the sandbox) that make the job uid 65534."""
    if _is_root():
        return [], ["/usr/bin/setpriv", f"--reuid={JOB_UID}", f"--regid={JOB_GID}",
                    "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                    "--no-new-privs", "--"]
    return ["--unshare-user", "--uid", str(JOB_UID), "--gid", str(JOB_GID)], []


def _dirs(path: str) -> list[str]:
    """`--dir` for each folder above `path`, made 0755 (bwrap makes them 0700 as root)."""
    out: list[str] = []
    parts = Path(path).parts[1:-1]
    for index in range(len(parts)):
        out += ["--perms", "0755", "--dir", "/" + "/".join(parts[:index + 1])]
    return out


def _under_system(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)


def provides(folder: str) -> bool:
    """Does the sandbox have `folder` without a bind of the job's: `/`, the private /tmp, or
    the read-only system?"""
    return folder in ("/", "/tmp") or folder.startswith("/tmp/") or _under_system(folder)


def system_args() -> list[str]:
    """The read-only host system, /etc's few files, /proc, /dev and a private /tmp."""
    args = [arg for d in SYSTEM_DIRS for arg in ("--ro-bind", d, d)]
    for top in TOP_LINKS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args + ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]


def runtime_dirs(bin_dir: Path) -> list[str]:
    """The folders the image's python needs: its venv and the installation it was made from
    (resolved through the python symlink and pyvenv.cfg), outside /usr, outermost only."""
    bin_dir = Path(bin_dir)
    found = {str(bin_dir.parent)}
    for name in ("python3", "python"):
        real = Path(os.path.realpath(bin_dir / name))
        if real.exists():
            found.add(str(real.parent.parent))
    cfg = bin_dir.parent / "pyvenv.cfg"
    if cfg.is_file():
        for line in cfg.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                found.add(str(Path(value.strip()).parent))
    found = {d for d in found if not _under_system(d) and d != "/"}
    return sorted(d for d in found
                  if not any(d != other and d.startswith(other + "/") for other in found))


def job_args(root: Path, image_folders: set[str], bin_dir: Path, workdir: str) -> list[str]:
    """Binds of the runtime (read-only), the job root's /opt entries and /opt/ml (config
    read-only), the image's folders outside /opt, and the working directory."""
    args: list[str] = []
    for folder in runtime_dirs(bin_dir):
        args += _dirs(folder) + ["--ro-bind", folder, folder]
    args += ["--perms", "0755", "--dir", "/opt"]
    for entry in sorted((root / "opt").iterdir()):
        target = f"/opt/{entry.name}"
        args += ["--bind", str(entry), target]
    args += ["--ro-bind", str(root / "opt/ml/config"), "/opt/ml/config"]
    for folder in sorted(image_folders):
        if not (folder + "/").startswith("/opt/"):
            args += _dirs(folder) + ["--bind", str(root / folder.lstrip("/")), folder]
    return args + ["--chdir", workdir]


def command(root: Path, image_folders: set[str], bin_dir: Path, workdir: str,
            argv: list[str]) -> list[str]:
    """The whole `bwrap ... -- [setpriv ...] JOB ARGV` launch line."""
    options, prefix = user_args()
    return [bwrap() or "bwrap", "--die-with-parent", "--new-session", "--unshare-pid",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "algo-1",
            *options, *system_args(), *job_args(root, image_folders, bin_dir, workdir),
            "--", *prefix, *argv]


def prepare_root(root: Path) -> None:
    """As root, make the job's writable folders (everything under opt/ but opt/ml/config) belong
    to the sandbox's uid; links are never followed (lchown)."""
    if not _is_root():
        return
    config = root / "opt" / "ml" / "config"
    for folder, dirs, files in os.walk(root / "opt"):
        here = Path(folder)
        if here == config:
            dirs[:] = []
            continue
        for name in [*dirs, *files]:
            if here / name != config:
                os.chown(here / name, JOB_UID, JOB_GID, follow_symlinks=False)


def available(run: Callable[..., Any] = subprocess.run) -> bool:
    """Can this machine run a job in the sandbox? One short bwrap of /bin/true, probed once
    per process by the runner."""
    if not bwrap() or (_is_root() and not os.path.exists("/usr/bin/setpriv")):
        return False
    options, prefix = user_args()
    probe = [bwrap(), "--die-with-parent", "--unshare-pid", *options, *system_args(), "--",
             *prefix, "/bin/true"]
    try:
        return run(probe, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class SandboxProcess:
    """A launched `bwrap` whose stop signal reaches the job's main process inside the sandbox
    (bwrap -> its PID namespace's init -> the job), not bwrap itself: SIGTERM to bwrap would
    kill the sandbox at once, with no grace period for the job."""

    def __init__(self, process: Any):
        self._process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self._process.poll()

    def wait(self) -> int:
        return self._process.wait()

    def signal(self, signum: int) -> None:
        job = _grandchild(self.pid)
        if job is None or self.poll() is not None:
            self._process.signal(signum)
            return
        try:
            os.kill(job, signum)
        except ProcessLookupError:
            pass

    def kill_group(self) -> None:
        self._process.kill_group()  # bwrap goes; --die-with-parent takes the namespace with it


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _grandchild(pid: int) -> int | None:
    """The job's host pid: bwrap's child (its namespace's init) has it as only child."""
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "bwrap":
            return None  # not a sandbox (a test's fake process): nothing to look up
    except OSError:
        return None
    for child in _children(pid):
        for grandchild in _children(child):
            return grandchild
    return None


_warned: list[bool] = []


def warn_unsandboxed(mode: str, stream: Any = None) -> None:
    """Say once per process, loudly, that jobs run with the caller's full access."""
    if _warned:
        return
    _warned.append(True)
    why = ("bubblewrap (bwrap) is not installed" if not bwrap()
           else "bubblewrap cannot create its namespaces here")
    (stream or sys.stderr).write(
        f"smlift: WARNING: local jobs run WITHOUT a sandbox ({why}); isolation mode {mode!r} "
        "gives a job your full access to this machine (your files, SMLIFT_HOME, the store). "
        "Fix: install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap). "
        "See docs/fidelity.md, Security model.\n")
    (stream or sys.stderr).flush()
