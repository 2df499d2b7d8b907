"""The inspecting commands on the embedded default: the same output formats as on AWS
(tests/functional/aws/test_inspect_aws.py), and `wait`'s progress off a terminal."""

import json

import pytest

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                   "B": {"Type": "Pass", "End": True}}}


@pytest.fixture
def done(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SMLIFT_HOME", str(tmp_path / "home"))
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    code, out, err = run_cli("execute", "--definition", str(tmp_path / "pass.json"),
                             "--name", "done")
    assert code == 0, err
    return json.loads(out)


def test_wait_off_a_terminal_prints_one_line_per_state_and_status(run_cli, done):
    code, out, err = run_cli("wait", "done")
    arn = json.loads(out)["executionArn"]
    assert code == 0
    assert err.splitlines() == ["state entered: A", "state entered: B", f"{arn} SUCCEEDED"]


def test_wait_quiet_prints_only_the_result(run_cli, done):
    code, out, err = run_cli("wait", "done", "--quiet", "--output", "text")
    assert code == 0 and err == ""
    assert out.split("\t")[:2] == ["done", "SUCCEEDED"]


def test_executions_list_as_a_table_has_a_header_and_one_row_per_execution(run_cli, done):
    code, out, _ = run_cli("executions", "list", "--output", "table")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["name", "status", "startDate", "stopDate",
                                              "executionArn"]
    assert lines[1].split()[:2] == ["done", "SUCCEEDED"] and len(lines) == 2


def test_history_alias_keeps_its_json_flag_and_executions_history_is_one_document(run_cli, done):
    code, out, _ = run_cli("history", "done", "--json")
    assert code == 0 and [e["type"] for e in json.loads(out)][0] == "ExecutionStarted"
    code, out, _ = run_cli("executions", "history", "done", "--output", "text")
    assert code == 0 and out.splitlines()[0].split("\t")[2] == "ExecutionStarted"


def test_a_usage_error_exits_2(run_cli, done):
    assert run_cli("executions", "list", "--output", "yaml")[0] == 2
