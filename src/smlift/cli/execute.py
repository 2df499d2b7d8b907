"""`smlift execute`: run one execution locally and print its result as one JSON object.

Thin: reads the two files, calls `smlift.asl.engine.run_execution` with the embedded default's
Task integrations and store, and prints `{"executionArn", "name", "status", "output", "error",
"cause"}`. Exit 0 whatever the execution's status; 1 for a usage, file or definition error.
Outside checks (the conformance runner) drive the engine through this command: keep it stable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def read_json(path: str, what: str):
    """The JSON document in file `path` ('-': stdin); InputError naming the file otherwise."""
    from ..errors import InputError
    from ..jsontext import loads

    where = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else \
            Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror}", where=where,
                         fix=f"pass an existing {what} file (paths are relative to "
                             f"{Path.cwd()})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"the {what} is not UTF-8 text (byte {exc.start})", where=where,
                         fix="save the file as UTF-8 JSON") from None
    try:
        return loads(text)
    except ValueError as exc:
        raise InputError(f"the {what} is not valid JSON: {exc}", where=where,
                         fix="check the file with a JSON linter") from None


def execute_files(definition: str, input_: str | None, name: str | None,
                  state_machine_name: str | None, *, clock=None, engine: str | None = None
                  ) -> dict:
    """Run the definition in file `definition` on the input in file `input_`; the summary.
    (`clock`: the engine's clock, real time by default; tests pass a VirtualClock.)"""
    from ..asl.engine import run_execution
    from ..errors import DefinitionError, InputError
    from ..local.home import smlift_home
    from ..local.store import open_store

    if definition == "-" and input_ == "-":
        raise InputError("--definition and --input cannot both read standard input ('-')",
                         where="--input", fix="pass one of them as a file")
    document = read_json(definition, "definition")
    value = read_json(input_, "input") if input_ else {}
    home = smlift_home()
    try:
        result = run_execution(document, value, name=name,
                               state_machine_name=state_machine_name or _stem(definition),
                               store=open_store(home), tasks=LazyTasks(home, engine),
                               clock=clock)
    except DefinitionError as exc:
        raise exc.with_context(f"{definition}#") from None
    return result.summary()


class LazyTasks:
    """The embedded default's TaskRegistry, built only when a Task state needs it (a
    definition without Task states does not pay for importing the integrations)."""

    def __init__(self, home: Path, engine: str | None = None):
        self.home, self._engine, self._registry = home, engine, None

    def _get(self):
        if self._registry is None:
            from ..local.embedded import task_registry

            self._registry = task_registry(self.home, self._engine)
        return self._registry

    def resolve(self, resource: str):
        return self._get().resolve(resource)

    def check(self, resource: str):
        return self._get().check(resource)


def _stem(path: str) -> str:
    stem = Path(path).name.split(".")[0] if path != "-" else "stdin"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:80] or "StateMachine"


@click.command()
@click.option("--definition", "definition", required=True, metavar="FILE",
              help="The state machine definition (Amazon States Language JSON).")
@click.option("--input", "input_", metavar="FILE",
              help="The execution input (a JSON file; default {}; '-' reads stdin).")
@click.option("--name", help="The execution name (default: a new UUID).")
@click.option("--state-machine-name", help="The state machine name (default: the definition "
                                           "file's name without extension).")
@click.option("--engine", type=click.Choice(["auto", "docker", "local"]), default=None,
              help="Where processing jobs run: docker (real containers), local (smlift's own "
                   "runner) or auto (docker when an engine answers; default: $SMLIFT_ENGINE, "
                   "else auto).")
def execute(definition, input_, name, state_machine_name, engine) -> None:
    """Run one execution locally and print {"executionArn", "name", "status", "output",
    "error", "cause"} as JSON. Exit 0 whatever the status.

    \b
    Example:
      smlift execute --definition statemachine/definition.asl.json --input examples/input.local.json
      smlift execute --definition my.asl.json --input in.json --engine docker
    """
    from ..images.engine import choose_engine
    from . import sigterm_interrupts

    with sigterm_interrupts():
        summary = execute_files(definition, input_, name, state_machine_name,
                                engine=choose_engine(engine) if engine else None)
    click.echo(json.dumps(summary, ensure_ascii=False))
