"""Bad input to any command's options: one clear line naming the file or field and the fix,
exit code 2 (a usage error, as click and most CLIs exit), never a traceback."""

import pytest


@pytest.mark.parametrize("args, needle", [
    (("jobs", "list", "--status", "Bogus"), "'Bogus' is not one of 'InProgress'"),
    (("jobs", "list", "--max-results", "0"), "0 is not in the range 1<=x<=100"),
    (("jobs", "list", "--max-results", "-1"), "-1 is not in the range"),
    (("graph", "--format", "png"), "'png' is not one of 'mermaid', 'dot'"),
    (("executions", "list", "--status-filter", "BOGUS"), "'BOGUS' is not one of"),
    (("no-such-command",), "No such command"),
])
def test_a_bad_option_value_is_a_usage_error_with_exit_code_two(run_cli, args, needle,
                                                                assert_usage_error):
    assert_usage_error(run_cli(*args), needle)

