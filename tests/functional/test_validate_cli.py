"""`smlift validate` end to end: exit codes, one line per problem with its fix."""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the repository's pipeline files, as the current directory."""
    for folder in ("statemachine", "iam", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_validate_the_repository_files_and_exit_zero(run_cli, project):
    code, out, err = run_cli("validate")
    assert code == 0, out + err
    assert out.strip() == "ok: statemachine/definition.asl.json, examples/input.json, iam"


def test_the_local_input_validates_too(run_cli, project):
    code, out, _ = run_cli("validate", "--input", "examples/input.local.json")
    assert code == 0 and out.startswith("ok: ")


def test_problems_are_listed_with_fixes_and_exit_one(run_cli, project):
    data = json.loads((project / "examples/input.json").read_text())
    data["output_uri"] = "results/"
    (project / "examples/input.json").write_text(json.dumps(data))
    code, out, err = run_cli("validate")
    assert code == 1
    assert out.splitlines()[:2] == [
        "examples/input.json:output_uri: must be an s3:// URI such as s3://my-bucket/smlift/, not 'results/'",
        '  fix: set "output_uri" as in docs/pipeline.md, e.g. "s3://my-bucket/smlift/output/"']
    assert err.strip() == "1 problem in statemachine/definition.asl.json, examples/input.json, iam"


def test_a_policy_without_put_rule_fails_the_command(run_cli, project):
    path = project / "iam/stepfunctions-policy.json"
    path.write_text(path.read_text().replace('"events:PutRule", ', ""))
    code, out, _ = run_cli("validate")
    assert code == 1
    assert "iam/stepfunctions-policy.json: does not allow events:PutRule on arn:aws:events:us-east-1:" \
           "111122223333:rule/StepFunctionsGetEventsForSageMakerProcessingJobsRule" in out


def test_skipping_input_and_iam_checks_only_the_definition(run_cli, project):
    code, out, _ = run_cli("validate", "--no-input", "--no-iam")
    assert code == 0 and out.strip() == "ok: statemachine/definition.asl.json"


def test_a_missing_definition_file_is_a_problem_not_a_traceback(run_cli, project):
    code, out, _ = run_cli("validate", "--definition", "nope.json", "--no-iam")
    assert code == 1 and out.startswith("nope.json: file not found")


def test_help_has_an_example(run_cli):
    code, out, _ = run_cli("validate", "--help")
    assert code == 0 and "Example:" in out and "smlift validate --input" in out
