import pytest

from smlift.asl.engine import check_name
from smlift.errors import InputError


@pytest.mark.parametrize("name", ["run-1", "a" * 80, "Nightly_2024.01", "été"])
def test_names_aws_accepts_are_accepted(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "a" * 81, "a b", "a\u00a0b", "a\u2003b", "a:b", "a/b",
                                  "a*", "a\x01", "a\x85"])
def test_names_with_whitespace_punctuation_or_control_characters_are_refused(name):
    # StartExecution: 1-80 characters, no whitespace (any kind), brackets, wildcards,
    # special characters or control characters
    with pytest.raises(InputError, match="Invalid Name"):
        check_name(name)
