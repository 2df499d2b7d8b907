"""Executing one definition on one input on the embedded default: the `execute` use case.

`execute(definition, input_)` reads the two JSON files ('-': standard input), runs one
execution with `smlift.asl.engine.run_execution` on the embedded default's store and Task
integrations (built only when a Task state needs them), and returns its summary:
`{"executionArn", "name", "status", "output", "error", "cause"}`. `read_json` is the one reader
of a user's JSON file that names the file in its errors (`smlift graph` uses it too).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .asl.engine import run_execution
from .embedded.tasks import task_registry
from .errors import DefinitionError, InputError
from .jsontext import loads
from .local.home import smlift_home
from .local.store import open_store


def read_json(path: str, what: str):
    """The JSON document in file `path` ('-': stdin); InputError naming the file otherwise."""
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


def execute(definition: str, input_: str | None = None, name: str | None = None,
            state_machine_name: str | None = None, *, clock=None,
            engine: str | None = None) -> dict:
    """Run the definition in file `definition` on the input in file `input_`; the summary.
    (`clock`: the engine's clock, real time by default; tests pass a VirtualClock.)"""
    if definition == "-" and input_ == "-":
        raise InputError("--definition and --input cannot both read standard input ('-')",
                         where="--input", fix="pass one of them as a file")
    document = read_json(definition, "definition")
    value = read_json(input_, "input") if input_ else {}
    home = smlift_home()
    try:
        result = run_execution(document, value, name=name,
                               state_machine_name=state_machine_name or state_machine_name_of(definition),
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
            self._registry = task_registry(self.home, self._engine)
        return self._registry

    def resolve(self, resource: str):
        return self._get().resolve(resource)

    def check(self, resource: str):
        return self._get().check(resource)


def state_machine_name_of(path: str) -> str:
    stem = Path(path).name.split(".")[0] if path != "-" else "stdin"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:80] or "StateMachine"
