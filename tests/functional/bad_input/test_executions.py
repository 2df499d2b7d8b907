"""Bad input to smlift executions: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import json


def test_executions_list_of_an_unknown_state_machine_is_an_error_not_an_empty_list(run_cli,
                                                                                   tmp_path,
                                                                                   assert_user_error,
                                                                                   pass_json):
    assert run_cli("execute", "--definition", str(tmp_path / "pass.json"))[0] == 0
    assert_user_error(run_cli("executions", "list", "--state-machine-arn",
                              "arn:aws:states:us-east-1:123456789012:stateMachine:ghost"),
                      "State Machine Does Not Exist", "fix:")
    code, out, _ = run_cli("executions", "list", "--state-machine-arn",
                           "arn:aws:states:us-east-1:123456789012:stateMachine:pass")
    assert code == 0 and json.loads(out)["executions"][0]["status"] == "SUCCEEDED"

