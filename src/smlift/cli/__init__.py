"""The `smlift` command line. Commands are thin: parse, call one library function, render.

Each command lives in its own module under `smlift.cli` and is imported only when it runs, so
`smlift --help` stays fast (no boto3, pandas or jsonata at start-up). To add a command, add a
line to `COMMANDS` and a module with a click command or group named in it.

Exit codes (the README's table says the same):

    0    success
    1    failure: a `SmliftError` (bad input, a failed execution, an AWS error), one message
    2    usage error: an unknown option, a missing argument, a bad choice (click's convention)
    3    a bug in smlift: the traceback is shown with a line saying so
    124  `smlift wait --timeout` ran out before the execution ended (as timeout(1) exits)
    130  interrupted (Ctrl-C);  143  terminated (SIGTERM)
"""

from __future__ import annotations

import contextlib
import importlib
import sys

import click

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_TIMEOUT = 124
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# command name -> (module under smlift.cli, attribute, one-line help shown by `smlift --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "execute": ("execute", "execute", "Run one state machine execution locally and print its result as JSON."),
    "executions": ("executions", "executions", "List, describe, stop and show the history of executions (AWS or local)."),
    "validate": ("validate", "validate", "Check the definition, an input, the IAM policies and the hand-offs."),
    "graph": ("graph", "graph", "Draw the state machine as Mermaid or Graphviz dot."),
    "run": ("run", "run", "Run the whole pipeline locally (the embedded default)."),
    "jobs": ("jobs", "jobs", "List, describe, stop and read the logs of processing jobs (AWS or local)."),
    "s3": ("s3", "s3", "Copy, list and sync objects in local S3."),
    "images": ("images", "images", "List local images; make the prebuilt scikit-learn image for Docker."),
    "build": ("build", "build", "Build an image from a Dockerfile folder (locally, or --remote on CodeBuild)."),
    "deploy": ("deploy", "deploy", "Deploy the state machine, roles and code to AWS (plan, then apply)."),
    "destroy": ("deploy", "destroy", "Remove exactly what `smlift deploy` created."),
    "models": ("models", "models", "Register, list, approve and reject model versions."),
    "start": ("start", "start", "Start a pipeline execution for a registered model."),
    "input": ("start", "input_", "Print the execution input JSON for a registered model."),
    "status": ("executions", "describe", "Alias of `executions describe`."),
    "wait": ("follow", "wait", "Wait for an execution to end, showing its progress (AWS or local)."),
    "history": ("executions", "history_alias", "Alias of `executions history`, a table by default."),
    "redrive": ("redrive", "redrive", "Redrive a failed execution from its unsuccessful steps (AWS or local)."),
    "init": ("init", "init", "Start a migration of a legacy program: lift it first, then split it."),
    "parity": ("parity", "parity", "Compare the migrated steps' results with the legacy program's."),
    "data": ("data", "data", "Make input data for large runs with the project's generator."),
    "console": ("console", "console", "Serve the local console: executions live, job logs, local S3, images."),
    "serve": ("endpoints", "serve", "Serve an image's hosting mode (/ping, /invocations) in the foreground."),
    "endpoints": ("endpoints", "endpoints", "Deploy, invoke, list, describe and delete model endpoints."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"smlift.cli.{module_name}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="smlift")
def cli() -> None:
    """smlift: lift legacy ML scripts into SageMaker Processing + Step Functions.

    The same statemachine/definition.asl.json runs on AWS and, with no AWS account and no
    Docker engine, on this machine (the embedded default, state under $SMLIFT_HOME).

    \b
    Example:
      smlift run                      # the whole pipeline, locally
      smlift execute --definition statemachine/definition.asl.json --input examples/input.local.json
    """


@contextlib.contextmanager
def sigterm_interrupts():
    """Within: SIGTERM (kill, a CI timeout) raises `Terminated`, a KeyboardInterrupt, as Ctrl-C
    does, so a local execution run by this process ends ABORTED instead of staying RUNNING with
    no process; the process then exits 143, as a process killed by SIGTERM does."""
    import signal

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def interrupts_deferred(say):
    """Within: a further Ctrl-C or SIGTERM only calls `say(text)`. An interrupted command that
    is stopping its execution (a job in its grace period) must not be cut short by a second
    one: the job would be recorded Failed and could leave partial outputs."""
    import signal

    def deferred(signum, frame):
        say("still stopping: the running job gets its grace period, then smlift exits")

    previous = {sig: signal.signal(sig, deferred) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is, but the process exits 143 (128 + SIGTERM), not 130."""


def _raise_interrupt(signum, frame):
    raise Terminated


def _printable(text: str) -> str:
    """`text` with what cannot be written as UTF-8 (lone surrogates, from a name given in bytes
    that are not UTF-8) escaped as `\\udcff`, so the error can always be shown."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def main(argv: list[str] | None = None) -> None:
    from ..errors import SmliftError, WaitTimeout

    try:
        # Without standalone mode click *returns* the code of `ctx.exit(n)` / `Exit(n)`.
        code = cli.main(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SmliftError as exc:
        # as the AWS CLI says it, where AWS would answer with an error code
        code = f"An error occurred ({exc.code}): " if exc.code else ""
        click.echo(f"Error: {code}{_printable(str(exc))}", err=True)
        sys.exit(EXIT_TIMEOUT if isinstance(exc, WaitTimeout) else EXIT_FAILURE)
    except click.exceptions.Abort as exc:  # click turns a KeyboardInterrupt into Abort
        if isinstance(exc.__cause__, Terminated):
            click.echo("Terminated.", err=True)
            sys.exit(EXIT_TERMINATED)
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Terminated:
        click.echo("Terminated.", err=True)
        sys.exit(EXIT_TERMINATED)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception:
        import traceback

        traceback.print_exc()
        click.echo("This is a bug in smlift: please report it with the traceback above.", err=True)
        sys.exit(EXIT_BUG)
