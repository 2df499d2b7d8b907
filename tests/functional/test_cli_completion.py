"""Shell completion (click's, as the README documents it) works through the lazy command group:
commands, subcommands and --output's choices complete."""

import pytest

from smlift.cli import cli


def _complete(monkeypatch, capsys, words: str) -> list[str]:
    monkeypatch.setenv("_SMLIFT_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split()) - (0 if words.endswith(" ") else 1)))
    with pytest.raises(SystemExit) as exited:
        cli.main(args=[], prog_name="smlift", complete_var="_SMLIFT_COMPLETE")
    assert exited.value.code == 0
    return [line.split(",", 1)[1] for line in capsys.readouterr().out.splitlines()]


def test_commands_complete(monkeypatch, capsys):
    assert _complete(monkeypatch, capsys, "smlift ex") == ["execute", "executions"]


def test_subcommands_and_output_choices_complete(monkeypatch, capsys):
    assert _complete(monkeypatch, capsys, "smlift jobs l") == ["list", "logs"]
    assert _complete(monkeypatch, capsys, "smlift models list --output ") == [
        "json", "table", "text"]


def test_the_bash_script_names_the_completion_variable(monkeypatch, capsys):
    monkeypatch.setenv("_SMLIFT_COMPLETE", "bash_source")
    with pytest.raises(SystemExit):
        cli.main(args=[], prog_name="smlift", complete_var="_SMLIFT_COMPLETE")
    script = capsys.readouterr().out
    assert "_SMLIFT_COMPLETE=bash_complete" in script and "complete " in script
