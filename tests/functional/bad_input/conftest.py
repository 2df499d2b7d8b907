"""What the bad-input tests of every command share: the project copies they run in, the one
assertion that an error is a user error, and the small definitions they execute.

Bad input at the command line gives one clear line naming the file or field and the fix, exit
code 1 (2 for a usage error: an unknown option or command, a bad choice), never a traceback
(exit code 3 is smlift's "this is a bug"). One file per command.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}}


def _assert_user_error(result, *needles: str, exit_code: int = 1) -> str:
    code, out, err = result
    text = out + err
    assert code == exit_code, text
    assert "Traceback" not in text and "bug in smlift" not in text, text
    for needle in needles:
        assert needle in text, text
    return text


@pytest.fixture
def assert_user_error():
    """`assert_user_error(run_cli(...), *needles)`: exit 1, no traceback, each needle said; the
    text."""
    return _assert_user_error


@pytest.fixture
def assert_usage_error():
    """`assert_usage_error(run_cli(...), *needles)`: exit 2, no traceback, each needle said."""
    return lambda result, *needles: _assert_user_error(result, *needles, exit_code=2)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the repository's pipeline files, as the current directory."""
    for folder in ("statemachine", "iam", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("data"))
    shutil.copyfile(ROOT / "smlift.toml", tmp_path / "smlift.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run_project(tmp_path, monkeypatch):
    """The files `smlift run` reads, as the current directory."""
    for folder in ("statemachine", "examples", "scripts"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copyfile(ROOT / "smlift.toml", tmp_path / "smlift.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def assert_nothing_prepared():
    def check(home: Path):
        assert not (home / "s3").exists() or not any((home / "s3").rglob("*.*")), \
            "local S3 was written"

    return check


@pytest.fixture
def moto_aws(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture
def pass_json(tmp_path) -> Path:
    """tmp_path/pass.json: a one-Pass-state definition."""
    path = tmp_path / "pass.json"
    path.write_text(json.dumps(PASS))
    return path


@pytest.fixture
def wait_json(tmp_path) -> Path:
    """tmp_path/wait.json: a definition that waits 100 seconds."""
    path = tmp_path / "wait.json"
    path.write_text(json.dumps(WAIT))
    return path


@pytest.fixture
def started_in_background(wait_json):
    """`started_in_background(tmp_path, name)`: `smlift execute` of a 100-second Wait, in a
    subprocess, once its execution is recorded."""
    def start(tmp_path, name):
        env = {**os.environ, "SMLIFT_HOME": os.environ["SMLIFT_HOME"]}
        process = subprocess.Popen([sys.executable, "-m", "smlift", "execute", "--definition",
                                    str(wait_json), "--name", name], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(200):
            listed = subprocess.run([sys.executable, "-m", "smlift", "executions", "list"],
                                    env=env, capture_output=True, text=True)
            if f'"name": "{name}"' in listed.stdout:
                return process
            time.sleep(0.1)
        process.kill()
        raise AssertionError("the execution never started")

    return start
