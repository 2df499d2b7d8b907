"""Inputs that used to crash smlift with a traceback (issue 18): each one is now one clear line,
exit code 1, through the real CLI."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def assert_user_error(result, *needles: str) -> str:
    """Exit 1, and the error is one line (after whatever progress `smlift run` printed)."""
    code, out, err = result
    text = out + err
    assert code == 1, text
    assert "Traceback" not in text and "bug in smlift" not in text, text
    error = err.strip().splitlines()[-1]
    assert error.startswith("Error: ") and err.count("Error: ") == 1, err
    for needle in needles:
        assert needle in error, err
    return error


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smlift.toml").write_text((ROOT / "smlift.toml").read_text())  # a project
    (tmp_path / "def.json").write_text(json.dumps(PASS))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    return tmp_path


# --- JSON that Python parses but AWS does not, or that is too deep --------------------------------

@pytest.mark.parametrize("args", [
    ("execute", "--definition", "def.json", "--input", "deep.json"),
    ("execute", "--definition", "deep.json"),
    ("graph", "--definition", "deep.json"),
    ("validate", "--definition", "deep.json"),
    ("validate", "--input", "deep.json"),
    ("run", "--input", "deep.json"),
])
def test_json_nested_100000_deep_is_refused_as_too_deep_not_a_recursion_crash(run_cli, files,
                                                                             args):
    code, out, err = run_cli(*args)
    assert code == 1, out + err
    assert "nested more than 256 levels deep" in out + err
    assert "Traceback" not in out + err and "RecursionError" not in out + err


@pytest.mark.parametrize("text, needle", [
    ('{"a": NaN}', "NaN is not a JSON value"),
    ('{"a": -Infinity}', "-Infinity is not a JSON value"),
    ('{"a": 1e999}', "the number 1e999 is out of range"),
])
def test_an_input_with_nan_infinity_or_an_overflowing_number_is_refused(run_cli, files, text,
                                                                        needle):
    (files / "input.json").write_text(text)
    assert_user_error(run_cli("execute", "--definition", "def.json", "--input", "input.json"),
                      "input.json", needle)


def test_an_input_file_holding_a_json_string_is_that_string_not_decoded_again(run_cli, files):
    (files / "input.json").write_text(json.dumps('{"a": 1}'))
    code, out, err = run_cli("execute", "--definition", "def.json", "--input", "input.json")
    assert code == 0, err
    assert json.loads(out)["output"] == '{"a": 1}'


# --- names ----------------------------------------------------------------------------------------

def test_an_empty_execution_name_is_refused_not_replaced_by_a_uuid(run_cli, files):
    assert_user_error(run_cli("execute", "--definition", "def.json", "--name", ""),
                      "Invalid Name: ''")
    assert json.loads(run_cli("executions", "list")[1])["executions"] == []


def test_an_execution_name_that_is_not_utf8_is_an_invalid_name(run_cli, files):
    assert_user_error(run_cli("execute", "--definition", "def.json", "--name", "a\udcffb"),
                      "Invalid Name")


@pytest.mark.parametrize("args", [
    ("jobs", "describe", "a\udcffb"),
    ("executions", "describe", "a\udcffb"),
    ("models", "show", "a\udcffb", "--local"),
])
def test_a_name_that_is_not_utf8_is_a_one_line_error_when_looked_up(run_cli, files, args):
    assert_user_error(run_cli(*args), "not valid UTF-8")


@pytest.mark.parametrize("key, needle", [
    ("a\udcffb", "not valid UTF-8"),
    ("x" * 300, "longer than 255 bytes"),
    ("ok/" + "é" * 130 + "/y", "longer than 255 bytes"),
])
def test_an_s3_key_that_cannot_be_a_file_name_is_a_one_line_error(run_cli, files, key, needle):
    assert_user_error(run_cli("s3", "cp", "def.json", f"s3://bucket1/{key}"), needle)
    assert not (Path(os.environ["SMLIFT_HOME"]) / "s3" / "bucket1").exists()


# --- the home and its store -----------------------------------------------------------------------

COMMANDS_THAT_OPEN_THE_STORE = [("executions", "list"), ("jobs", "list"),
                                ("models", "list", "--local"),
                                ("execute", "--definition", "def.json")]


@pytest.mark.parametrize("args", COMMANDS_THAT_OPEN_THE_STORE)
def test_smlift_home_being_a_file_is_one_line_with_the_fix(run_cli, files, monkeypatch, args):
    (files / "home-file").write_text("not a folder")
    monkeypatch.setenv("SMLIFT_HOME", str(files / "home-file"))
    assert_user_error(run_cli(*args), "SMLIFT_HOME is a file, not a folder",
                      "fix: point SMLIFT_HOME at a folder")


def _home() -> Path:
    home = Path(os.environ["SMLIFT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home


@pytest.mark.parametrize("args", COMMANDS_THAT_OPEN_THE_STORE)
def test_a_store_that_is_not_a_database_is_one_line_with_the_fix(run_cli, files, args):
    (_home() / "smlift.db").write_bytes(os.urandom(3) * 10_000)
    assert_user_error(run_cli(*args), "the store is damaged or not smlift's",
                      "fix: move the file aside")


@pytest.mark.parametrize("args", COMMANDS_THAT_OPEN_THE_STORE)
def test_a_database_with_a_foreign_schema_is_refused_as_not_an_smlift_store(run_cli, files, args):
    db = sqlite3.connect(_home() / "smlift.db")
    db.execute("CREATE TABLE executions (id INTEGER, payload TEXT)")
    db.commit()
    db.close()
    assert_user_error(run_cli(*args), "not an smlift store: table 'executions'",
                      "fix: move the file aside")


def test_a_bit_flipped_store_is_one_line_with_the_fix(run_cli, files):
    assert run_cli("execute", "--definition", "def.json", "--name", "first")[0] == 0
    db = _home() / "smlift.db"
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(db.read_bytes())
    for index in range(4096, len(data), 97):  # every page after the first (the header)
        data[index] ^= 0x5A
    db.write_bytes(bytes(data))
    assert_user_error(run_cli("execute", "--definition", "def.json", "--name", "second"),
                      "the store is damaged or not smlift's", "fix: move the file aside")


# --- what a job could never store, refused before anything runs -----------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("output_uri, needle", [
    ("s3://smlift-local/output/../elsewhere/", "output_uri: the key has a '..' segment"),
    ("s3://smlift-local/output/" + "y" * 300 + "/", "output_uri: a key segment is longer than 255"),
])
def test_run_refuses_an_output_uri_that_could_never_be_uploaded_before_preprocess(
        run_cli, files, output_uri, needle):
    data = json.loads((ROOT / "examples" / "input.local.json").read_text())
    (files / "input.json").write_text(json.dumps({**data, "output_uri": output_uri}))
    assert_user_error(run_cli("run", "--input", "input.json"), needle)
    assert not (Path(os.environ["SMLIFT_HOME"]) / "smlift.db").exists()  # nothing ran


def test_an_image_tag_over_128_characters_is_refused_as_docker_refuses_it(run_cli, files):
    assert_user_error(run_cli("models", "register", "churn", "--image", "x:" + "t" * 129,
                              "--local"), "(129 characters) is not a Docker tag")
    data = json.loads((ROOT / "examples" / "input.local.json").read_text())
    (files / "input.json").write_text(json.dumps({**data, "custom_image_uri": "x:" + "t" * 200}))
    code, out, err = run_cli("validate", "--input", "input.json")
    assert code == 1 and "(200 characters) is not a Docker tag" in out + err


# --- Wait states longer than AWS allows -----------------------------------------------------------

def test_a_wait_of_more_than_99999999_seconds_is_an_invalid_definition(run_cli, files):
    (files / "wait.json").write_text(
        '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100000000000000000000, '
        '"End": true}}}')
    assert_user_error(run_cli("execute", "--definition", "wait.json"),
                      "wait.json#/States/W/Seconds", "an integer from 0 to 99999999")


@pytest.mark.parametrize("wait", [{"SecondsPath": "$.s"}, {"Timestamp": "9999-12-31T00:00:00Z"}])
def test_a_wait_too_long_at_run_time_fails_the_execution_with_states_runtime(run_cli, files,
                                                                            wait):
    (files / "wait.json").write_text(json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", **wait, "End": True}}}))
    (files / "input.json").write_text('{"s": 100000000000000000000}')
    code, out, err = run_cli("execute", "--definition", "wait.json", "--input", "input.json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["status"], summary["error"]) == ("FAILED", "States.Runtime")
    assert "the most a Wait state can wait is 99999999 seconds" in summary["cause"]


# --- runs on one home -----------------------------------------------------------------------------

def test_run_with_an_empty_data_folder_does_not_rerun_objects_left_in_input_uri(
        run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    (tmp_path / "old.csv").write_text("a,b\n1,2\n")
    assert run_cli("s3", "cp", str(tmp_path / "old.csv"), "s3://smlift-local/input/old.csv")[0] == 0
    (tmp_path / "empty").mkdir()
    assert_user_error(run_cli("run", "--data", str(tmp_path / "empty"), "--no-build"),
                      "input_uri: no objects under s3://smlift-local/input/")
    assert json.loads(run_cli("executions", "list")[1])["executions"] == []


def test_a_second_run_on_a_home_where_one_runs_is_refused_naming_it(run_cli, monkeypatch):
    import fcntl

    monkeypatch.chdir(ROOT)
    home = _home()
    with open(home / "run.lock", "w") as held:  # what a running `smlift run` holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        assert_user_error(run_cli("run", "--no-build"),
                          "another `smlift run` (pid 4242) is running on this home",
                          "fix: wait for it to end, or give this run its own SMLIFT_HOME")
    assert not (home / "s3").exists()  # nothing was uploaded
