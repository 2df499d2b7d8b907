import subprocess
import sys

import click

from smlift import cli as smlift_cli


def run_main(monkeypatch, command, *args):
    monkeypatch.setitem(smlift_cli.COMMANDS, "probe", ("probe", "probe", "test"))
    monkeypatch.setattr(smlift_cli.LazyGroup, "get_command",
                        lambda self, ctx, name: command if name == "probe" else None)
    try:
        smlift_cli.main(["probe", *args])
    except SystemExit as exc:
        return exc.code
    return 0


def test_a_command_exiting_non_zero_keeps_its_exit_code(monkeypatch):
    @click.command()
    def probe():
        raise click.exceptions.Exit(3)

    assert run_main(monkeypatch, probe) == 3


def test_a_smlift_error_is_one_line_and_exit_1(monkeypatch, capsys):
    from smlift.errors import InputError

    @click.command()
    def probe():
        raise InputError("must be an s3:// URI", where="input_uri", fix="use s3://bucket/prefix/")

    assert run_main(monkeypatch, probe) == 1
    err = capsys.readouterr().err
    assert err.strip() == "Error: input_uri: must be an s3:// URI (fix: use s3://bucket/prefix/)"


def test_an_unexpected_exception_is_reported_as_a_bug(monkeypatch, capsys):
    @click.command()
    def probe():
        raise RuntimeError("boom")

    assert run_main(monkeypatch, probe) == 3
    assert "This is a bug in smlift" in capsys.readouterr().err


def test_help_lists_every_command_with_an_example():
    from smlift.cli import COMMANDS

    done = subprocess.run([sys.executable, "-m", "smlift", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for name in COMMANDS:
        assert name in done.stdout
        sub = subprocess.run([sys.executable, "-m", "smlift", name, "--help"],
                             capture_output=True, text=True)
        assert sub.returncode == 0, (name, sub.stderr)
        assert "Example" in sub.stdout or "example" in sub.stdout, f"`smlift {name} --help` has no example"
