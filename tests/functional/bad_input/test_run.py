"""Bad input to smlift run: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import json
import shutil
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("args, needle", [
    (("--definition", "bad.json"), "bad.json#/States/A/Resource: Invalid State Machine Definition: "
                                   "no local handler for Task resource"),
    (("--definition", "jsonata.json"), "jsonata.json#/States/A/Output: Invalid State Machine "
                                       "Definition: The JSONata expression"),
    (("--definition", "list.json"), "list.json#/: the definition must be a JSON object (fix:"),
    (("--name", "bad name"), "Invalid Name: 'bad name'"),
    (("--data", "examples/input.json"), "examples/input.json: is a file, not a folder"),
    (("--code", "no-such-dir"), "no-such-dir: folder not found (fix: run from the project root, "
                                "or pass --code FOLDER)"),
    (("--input", "examples"), "examples: is a folder, not an input file"),
])
def test_run_refuses_bad_files_before_it_writes_local_s3_or_builds(run_cli, run_project, args,
                                                                   needle, tmp_path, assert_user_error, assert_nothing_prepared):
    (run_project / "bad.json").write_text(json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True}}}))
    (run_project / "jsonata.json").write_text(json.dumps({"QueryLanguage": "JSONata", "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": "{% $states.input.( %}", "End": True}}}))
    (run_project / "list.json").write_text("[]")
    text = assert_user_error(run_cli("run", "--no-build", *args), needle)
    assert "building image" not in text and "local S3:" not in text
    assert_nothing_prepared(tmp_path / "smlift-home")


def test_run_outside_the_project_root_says_where_to_run_it(run_cli, tmp_path, monkeypatch,
                                                           assert_user_error):
    monkeypatch.chdir(tmp_path)
    error = assert_user_error(run_cli("run"), "not inside an smlift project",
                              "smlift init DIR --from LEGACY_DIR")
    assert len(error.strip().splitlines()) == 1


@pytest.mark.slow
def test_run_report_starts_on_its_own_line_when_stderr_is_not_a_terminal(tmp_path):
    import os
    import subprocess
    import sys

    code = tmp_path / "code"
    shutil.copytree(ROOT / "scripts", code, ignore=shutil.ignore_patterns("__pycache__"))
    (code / "preprocessing.py").write_text("raise SystemExit('boom')\n")
    env = {**os.environ, "SMLIFT_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "smlift", "run", "--code", str(code), "--name", "f1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert "FAILED arn:aws:states:us-east-1:123456789012:execution:smlift-pipeline:f1" in lines
    assert "Traceback" not in done.stderr

