"""Bad input to smlift execute: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import json
import sys

import pytest


@pytest.mark.parametrize("command", ["execute", "graph"])
def test_a_definition_that_is_not_utf8_is_named_not_a_crash(run_cli, tmp_path, command,
                                                            assert_user_error):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"Comment": "caf\xe9"}')
    assert_user_error(run_cli(command, "--definition", str(path)),
                      f"{path}: the definition is not UTF-8 text", "fix: save the file as UTF-8")


def test_execute_names_an_input_that_is_not_utf8(run_cli, tmp_path, assert_user_error, pass_json):
    (tmp_path / "in.json").write_bytes(b'{"a": "caf\xe9"}')
    assert_user_error(run_cli("execute", "--definition", str(tmp_path / "pass.json"),
                              "--input", str(tmp_path / "in.json")), "the input is not UTF-8 text")


def test_execute_calls_a_bad_stdin_input_stdin(run_cli, tmp_path, monkeypatch, assert_user_error,
                                               pass_json):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert_user_error(run_cli("execute", "--definition", str(tmp_path / "pass.json"), "--input", "-"),
                      "<stdin>: the input is not valid JSON")


def test_sigterm_ends_smlift_execute_with_the_execution_aborted(run_cli, tmp_path,
                                                                started_in_background):
    import signal

    process = started_in_background(tmp_path, "term")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in err, err  # 128 + SIGTERM
    code, out, _ = run_cli("executions", "describe", "term")
    assert code == 0 and json.loads(out)["status"] == "ABORTED"


def test_execute_refuses_stdin_for_both_the_definition_and_the_input(run_cli, assert_user_error):
    assert_user_error(run_cli("execute", "--definition", "-", "--input", "-"),
                      "--input: --definition and --input cannot both read standard input")

