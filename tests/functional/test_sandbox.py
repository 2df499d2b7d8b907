"""The bubblewrap sandbox through the real CLI (issue 15, findings 3, 5 and 6).

A preprocessing step that tries every escape the reviews found, run by `smlift run`: each try
must end in "permission denied" or "no such file" (or a read-only file system), and nothing on
the host, in the store or in the runtime cache may change. Under CI=true a missing bwrap is a
failure, not a skip: a sandbox test that silently skips hides a regression.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from smlift.images.runtimes import runtimes_dir
from smlift.processing.runner import BUBBLEWRAP, bubblewrap_available

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _needs_bubblewrap(require):
    require(bubblewrap_available(), "bubblewrap (bwrap) is missing or cannot make namespaces",
            "apt-get install -y bubblewrap")


# Each try prints `NAME: DENIED|NOFILE|ESCAPED detail`; then the step fails, so that
# `smlift run` shows its log tail.
ESCAPES = r'''
import ctypes, errno, os, subprocess, sys

def attempt(name, action):
    try:
        detail = action()
    except FileNotFoundError as exc:
        print(f"{name}: NOFILE {exc}")
    except (PermissionError, OSError) as exc:
        kind = "DENIED" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else "ESCAPED"
        print(f"{name}: {kind} {exc}")
    else:
        print(f"{name}: ESCAPED {detail!r}")

def umount():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(b"/opt/ml", 2) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return "unmounted /opt/ml"

def write(path, data="escaped"):
    with open(path, "a") as handle:
        handle.write(data)
    return f"wrote {path}"

def secrets_in_proc():
    found = []
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            if b"AWS_SECRET_ACCESS_KEY" in open(f"/proc/{pid}/environ", "rb").read():
                found.append(pid)
        except OSError:
            pass
    if found:
        return f"AWS_SECRET_ACCESS_KEY in /proc/{found}/environ"
    raise PermissionError(errno.EACCES, "no process environment holds the secret")

attempt("shadow", lambda: open("/etc/shadow").read())
attempt("home", lambda: open(HOME_SECRET).read())
attempt("s3", lambda: write(SMLIFT_HOME + "/s3/smlift-local/input/planted.csv"))
attempt("store", lambda: write(SMLIFT_HOME + "/smlift.db"))
attempt("umount", umount)
attempt("host-opt", lambda: write("/opt/smlift-escaped"))
attempt("parent-environ", lambda: open(f"/proc/{os.getppid()}/environ", "rb").read())
attempt("any-environ", secrets_in_proc)
attempt("runtime", lambda: write(os.path.join(sys.prefix, "smlift-escaped")))
attempt("runtime-cache", lambda: write(RUNTIME_CACHE + "/smlift-escaped"))
subprocess.Popen(["sh", "-c", f"sleep 300; echo {MARKER}"], start_new_session=True)
print("uid:", os.getuid())
raise SystemExit("tried every escape")
'''


@pytest.fixture
def home_secret():
    path = Path.home() / f".smlift-sandbox-test-{uuid.uuid4().hex[:8]}"
    path.write_text("the caller's secret")
    yield path
    path.unlink()


def test_a_job_trying_every_escape_is_denied_and_changes_nothing(tmp_path, home_secret):
    home, marker = tmp_path / "home", f"smlift-escape-{uuid.uuid4().hex[:8]}"
    code = tmp_path / "code"
    shutil.copytree(ROOT / "scripts", code, ignore=shutil.ignore_patterns("__pycache__"))
    constants = {"HOME_SECRET": str(home_secret), "SMLIFT_HOME": str(home), "MARKER": marker,
                 "RUNTIME_CACHE": str(runtimes_dir(home))}
    (code / "preprocessing.py").write_text(
        "".join(f"{key} = {value!r}\n" for key, value in constants.items()) + ESCAPES)
    env = {**os.environ, "SMLIFT_HOME": str(home), "COLUMNS": "200",
           "AWS_SECRET_ACCESS_KEY": "fake-secret-for-the-sandbox-test"}
    done = subprocess.run([sys.executable, "-m", "smlift", "run", "--code", str(code),
                           "--name", "escape"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 1, done.stderr
    tries = dict(line.strip().split(": ", 1) for line in done.stderr.splitlines()
                 if line.strip().split(":")[0] in _TRIES)
    assert {name: outcome.split()[0] for name, outcome in tries.items()} == {
        "shadow": "NOFILE", "home": "NOFILE", "s3": "NOFILE", "store": "NOFILE",
        "umount": "DENIED", "host-opt": "DENIED", "parent-environ": "DENIED",
        "any-environ": "DENIED", "runtime": "DENIED", "runtime-cache": "DENIED"}, done.stderr
    assert "uid: 65534" in done.stderr
    assert BUBBLEWRAP in done.stderr  # smlift run says which isolation ran
    assert not (home / "s3/smlift-local/input/planted.csv").exists()
    assert not Path("/opt/smlift-escaped").exists()
    assert list(runtimes_dir(home).glob("**/smlift-escaped")) == []
    assert not (Path(sys.prefix) / "smlift-escaped").exists()
    assert _still_running(marker) == []  # the setsid child died with the job
    job = _only_job(env)
    assert job["SmliftLocal"]["IsolationMode"] == BUBBLEWRAP
    assert job["SmliftLocal"]["Sandboxed"] is True
    with sqlite3.connect(home / "smlift.db") as db:  # the store is intact and readable
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


_TRIES = ("shadow", "home", "s3", "store", "umount", "host-opt", "parent-environ",
          "any-environ", "runtime", "runtime-cache")


def _still_running(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return found.stdout.split()


def _only_job(env) -> dict:
    listing = subprocess.run([sys.executable, "-m", "smlift", "jobs", "list"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)
    name = json.loads(listing.stdout)["ProcessingJobSummaries"][0]["ProcessingJobName"]
    described = subprocess.run([sys.executable, "-m", "smlift", "jobs", "describe", name],
                               cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(described.stdout)
