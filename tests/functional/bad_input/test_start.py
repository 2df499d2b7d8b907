"""Bad input to smlift start: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import json

import pytest


@pytest.mark.parametrize("args, line", [
    (("start", "churn", "--local"),
     "Error: --input-uri: is required (fix: pass --input-uri s3://BUCKET/PREFIX/)"),
    (("start", "--all", "--local", "--input-prefix", "s3://my-bucket/in/", "--output-prefix",
      "s3://my-bucket/out/", "--max-concurrency", "0"),
     "Error: --max-concurrency: must be at least 1 (fix: pass --max-concurrency 4)"),
])
def test_start_names_the_option_once(run_cli, args, line, assert_user_error):
    assert run_cli("models", "register", "churn", "--image", "churn:1", "--local")[0] == 0
    assert assert_user_error(run_cli(*args)).strip() == line


def test_start_without_a_deployment_names_the_deployment_option(run_cli, moto_aws,
                                                                assert_user_error):
    assert run_cli("models", "register", "churn", "--image", "churn:1")[0] == 0
    assert_user_error(run_cli("start", "churn", "--deployment", "ghost"),
                      "Error: --deployment: no deployment named 'ghost'")


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_interrupting_a_local_start_aborts_its_execution_without_a_traceback(run_cli, tmp_path,
                                                                             how, wait_json):
    import os
    import signal
    import subprocess
    import sys
    import time

    assert run_cli("models", "register", "churn", "--image", "churn:1", "--local")[0] == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "smlift", "start", "churn", "--local", "--definition",
         str(tmp_path / "wait.json"), "--input-uri", "s3://my-bucket/in/", "--output-uri",
         "s3://my-bucket/out/", "--name", "st"], env=dict(os.environ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, seen = time.monotonic() + 60, []
    while time.monotonic() < deadline:  # stderr is line-buffered: wait for the "Started" line
        seen.append(process.stderr.readline())
        if seen[-1].startswith("Started churn") or not seen[-1]:
            break
    assert seen[-1].startswith("Started churn"), seen
    process.send_signal(getattr(signal, how))
    _, err = process.communicate(timeout=60)
    expected = {"SIGINT": 130, "SIGTERM": 143}[how]  # 128 + the signal, as the shell reports
    assert process.returncode == expected and "Traceback" not in err, err
    code, out, _ = run_cli("executions", "describe", "st")
    assert json.loads(out)["status"] == "ABORTED" and json.loads(out)["error"] == "smlift.StartInterrupted"

