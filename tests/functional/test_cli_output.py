"""`--output json|table|text` on every command that prints results: with json, stdout is exactly
one JSON document (parsed here, whole) and whatever a person should read goes to stderr."""

import json
from pathlib import Path

import pytest

PASS = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True, "Parameters": {
    "model.$": "$.model_name", "out.$": "$.output_uri"}}}}
FAIL = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E", "Cause": "c"}}}


def one_document(result):
    """The exit code and the one JSON document stdout holds (json.loads refuses two)."""
    code, out, err = result
    assert "Traceback" not in err, err
    return code, json.loads(out)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder laid out as a project: a Pass definition, scripts/, as the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine/definition.asl.json").write_text(json.dumps(PASS))
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts/preprocessing.py").write_text("print('pre')\n")
    (tmp_path / "fail.json").write_text(json.dumps(FAIL))
    return tmp_path


@pytest.fixture
def registered(project, run_cli):
    code, out, err = run_cli("models", "register", "churn", "--image", "sagemaker-churn:1",
                             "--local", "--output", "json")
    assert code == 0, err
    return json.loads(out)


START = ("start", "churn", "--input-uri", "s3://data/in/", "--output-uri", "s3://data/out/",
         "--local")


def test_models_commands_print_one_document(registered, run_cli):
    assert (registered["name"], registered["version"]) == ("churn", 1)
    code, listed = one_document(run_cli("models", "list", "--local", "--output", "json"))
    assert code == 0 and [m["name"] for m in listed] == ["churn"]
    code, shown = one_document(run_cli("models", "show", "churn", "--local", "-o", "json"))
    assert code == 0 and shown[0]["status"] == "PendingManualApproval"
    code, approved = one_document(run_cli("models", "approve", "churn", "--version", "1",
                                          "--local", "--output", "json"))
    assert code == 0 and approved["status"] == "Approved"
    code, rejected = one_document(run_cli("models", "reject", "churn", "--version", "1",
                                          "--local", "--output", "json"))
    assert code == 0 and rejected["status"] == "Rejected"


def test_models_list_table_and_text_are_one_line_per_model(registered, run_cli):
    code, out, _ = run_cli("models", "list", "--local")
    assert code == 0 and out.splitlines()[0].split() == ["name", "version", "status", "image_uri"]
    code, out, _ = run_cli("models", "list", "--local", "--output", "text")
    assert out.splitlines() == ["churn\t1\tPendingManualApproval\tsagemaker-churn:1"]


def test_start_prints_one_document_and_input_too(registered, run_cli):
    code, started = one_document(run_cli(*START, "--output", "json"))
    assert code == 0 and started["model"] == "churn" and "executionArn" in started
    code, values = one_document(run_cli("input", "churn", "--input-uri", "s3://data/in/",
                                        "--output-uri", "s3://data/out/", "--local",
                                        "--output", "json"))
    assert code == 0 and values["output_uri"] == "s3://data/out/"
    code, out, _ = run_cli("input", "churn", "--input-uri", "s3://data/in/", "--output-uri",
                           "s3://data/out/", "--local", "--output", "text")
    assert "output_uri\ts3://data/out/" in out.splitlines()


def test_start_wait_prints_exactly_one_document_the_ended_execution(registered, run_cli):
    code, out, err = run_cli(*START, "--wait")
    assert code == 0, err
    ended = json.loads(out)  # one document, not two
    assert ended["status"] == "SUCCEEDED" and ended["model"] == "churn" and ended["version"] == 1
    assert json.loads(ended["output"]) == {"model": "churn", "out": "s3://data/out/"}
    assert json.loads(ended["input"])["custom_image_uri"] == "sagemaker-churn:1"
    assert ended["executionArn"] in err  # a person is told what started, on stderr


def test_start_wait_text_and_table_are_one_row_with_the_status(registered, run_cli):
    code, out, _ = run_cli(*START, "--wait", "--output", "text")
    assert code == 0
    [line] = out.splitlines()
    model, version, status, _, arn = line.split("\t")
    assert (model, version, status) == ("churn", "1", "SUCCEEDED") and arn.startswith("arn:")
    code, out, _ = run_cli(*START, "--wait", "--output", "table")
    header, row = out.splitlines()
    assert header.split() == ["model", "version", "status", "startDate", "executionArn"]
    assert "SUCCEEDED" in row.split()


def test_start_all_prints_one_document(registered, run_cli):
    code, results = one_document(run_cli("start", "--all", "--local", "--input-prefix",
                                         "s3://data/in/", "--output-prefix", "s3://data/out/",
                                         "--output", "json"))
    assert code == 0 and [r["model"] for r in results] == ["churn"]


def test_execute_prints_one_document_and_a_table_on_request(project, run_cli):
    code, summary = one_document(run_cli("execute", "--definition", "fail.json"))
    assert code == 0 and summary["status"] == "FAILED" and summary["error"] == "E"
    code, out, _ = run_cli("execute", "--definition", "fail.json", "--output", "text")
    name, status, error, cause, arn = out.rstrip("\n").split("\t")
    assert (status, error, cause) == ("FAILED", "E", "c") and arn.endswith(name)


def test_redrive_prints_one_document(project, run_cli):
    _, summary = one_document(run_cli("execute", "--definition", "fail.json"))
    code, described = one_document(run_cli("redrive", summary["executionArn"], "--local",
                                            "--output", "json"))
    assert code == 1  # it fails again, and says so on stderr
    assert described["status"] == "FAILED" and described["redriveCount"] == 1


def test_s3_commands_print_one_document(project, run_cli):
    (project / "data").mkdir()
    (project / "data/a.csv").write_text("x\n1\n")
    code, copied = one_document(run_cli("s3", "cp", "data/a.csv", "s3://bucket/in/a.csv",
                                        "--output", "json"))
    assert code == 0 and copied["transfers"] == [
        {"action": "upload", "src": "data/a.csv", "dst": "s3://bucket/in/a.csv"}]
    code, listed = one_document(run_cli("s3", "ls", "s3://bucket/in/", "--output", "json"))
    assert code == 0 and [(e["name"], e["size"]) for e in listed["entries"]] == [("a.csv", 4)]
    code, synced = one_document(run_cli("s3", "sync", "s3://bucket/in/", "back",
                                        "--output", "json"))
    assert code == 0 and [t["action"] for t in synced["transfers"]] == ["download"]
    code, out, _ = run_cli("s3", "ls", "s3://bucket/in/")  # the default: `aws s3 ls`'s lines
    assert out.rstrip("\n").endswith("4 a.csv")


def test_images_list_prints_one_document_and_a_table(project, run_cli):
    code, listed = one_document(run_cli("images", "list"))
    assert code == 0 and listed == {"images": []}
    code, out, _ = run_cli("images", "list", "--output", "table")
    assert out.split() == ["Uri", "Engine", "Digest", "ContextDir", "Created"]


def test_validate_prints_one_document_with_errors_and_warnings_apart(project, run_cli):
    code, report = one_document(run_cli("validate", "--no-iam", "--output", "json"))
    assert code == 0 and report["ok"] is True and report["errors"] == []
    assert report["checked"][:2] == ["statemachine/definition.asl.json", "a synthesised input"]
    assert any("synthesised" in w["message"] for w in report["warnings"])
    assert any("no Task state runs" in w["message"] for w in report["warnings"])  # AWS accepts it
    (project / "broken.json").write_text(json.dumps(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}))
    code, report = one_document(run_cli("validate", "--definition", "broken.json", "--no-iam",
                                        "--output", "json"))
    assert code == 1 and report["ok"] is False
    [error] = report["errors"]
    assert set(error) == {"where", "message", "fix"} and "Nowhere" in error["message"]


def test_build_prints_one_document_and_its_lines_on_stderr(project, run_cli, local_engine):
    context = project / "image"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY run.py /opt/run.py\n")
    (context / "run.py").write_text("print(1)\n")
    code, out, err = run_cli("build", str(context), "--tag", "tiny:1", "--output", "json")
    assert code == 0, err
    built = json.loads(out)
    assert built["Uri"] == "tiny:1" and built["Digest"].startswith("sha256:")
    assert "tiny:1" in err  # the build's own lines
    code, listed = one_document(run_cli("images", "list"))
    assert [i["Uri"] for i in listed["images"]] == ["tiny:1"]


def test_every_command_that_prints_results_offers_output(run_cli):
    from smlift.cli import COMMANDS

    without = {"console", "serve", "endpoints",  # a server, or checked in their own tests
               "graph",  # a drawing: --format picks its language, --output FILE where to
               "status", "history", "wait"}  # aliases and wait: checked in their own tests
    groups = {"executions": ("list", "describe", "history", "stop"),
              "jobs": ("list", "describe", "logs"), "models": ("register", "list", "show",
                                                               "approve", "reject"),
              "s3": ("cp", "ls", "sync"), "images": ("list", "build-sklearn"),
              "data": ("make",)}
    missing = []
    for name in sorted(set(COMMANDS) - without):
        for sub in groups.get(name, ("",)):
            args = [name, sub] if sub else [name]
            code, out, _ = run_cli(*args, "--help")
            if code != 0 or "--output [json|table|text]" not in out and \
                    "--output, -o [json|table|text]" not in out and "-o, --output" not in out:
                missing.append(" ".join(args))
    assert missing == []


def test_data_make_prints_one_document_with_the_file_it_wrote(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the example project: its [data]
    code, made = one_document(run_cli("data", "make", "--rows", "40", "--seed", "3",
                                      "--out", str(tmp_path / "d"), "--output", "json"))
    assert code == 0 and (made["rows"], made["seed"]) == (40, 3)
    written = Path(made["path"])
    assert written.parent == tmp_path / "d" and written.stat().st_size == made["bytes"]
    assert len(written.read_text().splitlines()) == 41
