"""Bad input to smlift validate: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import json

import pytest


@pytest.mark.parametrize("option", ["--definition", "--input"])
def test_validate_names_a_folder_given_as_a_json_file(run_cli, project, option, assert_user_error):
    (project / "adir").mkdir()
    assert_user_error(run_cli("validate", option, "adir"), "adir: is a folder, not a JSON file", "fix:")


def test_validate_says_a_definition_that_is_a_list_must_be_an_object(run_cli, project,
                                                                     assert_user_error):
    (project / "list.json").write_text("[1, 2]")
    assert_user_error(run_cli("validate", "--definition", "list.json"),
                      "list.json:/: the definition must be a JSON object", "StartAt")


def test_validate_names_a_missing_iam_folder(run_cli, project, assert_user_error):
    assert_user_error(run_cli("validate", "--iam", "no-such-iam"),
                      "no-such-iam: no such folder", "fix: pass --iam")


def test_validate_names_a_file_given_as_the_iam_folder(run_cli, project, assert_user_error):
    assert_user_error(run_cli("validate", "--iam", "examples/input.json"),
                      "examples/input.json: not a folder")


@pytest.mark.parametrize("text", ["[1]", '"a string"'])
def test_validate_says_a_policy_must_be_an_object(run_cli, project, text, assert_user_error):
    (project / "iam/sagemaker-trust.json").write_text(text)
    assert_user_error(run_cli("validate"), "iam/sagemaker-trust.json: a policy must be a JSON object")


def test_validate_points_at_a_statement_that_is_not_an_object(run_cli, project, assert_user_error):
    (project / "iam/sagemaker-policy.json").write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}, "oops"]}))
    assert_user_error(run_cli("validate"),
                      "iam/sagemaker-policy.json:/Statement/1: a statement must be a JSON object")


def test_validate_names_a_policy_path_that_is_a_folder(run_cli, project, assert_user_error):
    (project / "iam/imagebuild-policy.json").unlink()
    (project / "iam/imagebuild-policy.json").mkdir()
    assert_user_error(run_cli("validate"), "iam/imagebuild-policy.json: is a folder, not a JSON file")


def test_validate_names_a_file_that_is_not_utf8(run_cli, project, assert_user_error):
    (project / "latin1.json").write_bytes(b'{"input_uri": "caf\xe9"}')
    assert_user_error(run_cli("validate", "--input", "latin1.json"), "latin1.json: not UTF-8 text")


def test_validate_outside_the_project_root_says_where_to_run_it(run_cli, tmp_path, monkeypatch,
                                                                assert_user_error):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("validate"), "not inside an smlift project",
                      "cd into a project (a folder with smlift.toml), or start one: smlift init")

