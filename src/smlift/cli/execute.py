"""`smlift execute`: run one execution locally and print its result as one JSON object.

Thin: calls `smlift.execute.execute` (which reads the two files and runs the engine with the
embedded default's Task integrations and store) and prints `{"executionArn", "name", "status", "output", "error",
"cause"}`. Exit 0 whatever the execution's status; 1 for a usage, file or definition error.
Outside checks (the conformance runner) drive the engine through this command: keep it stable.
"""

from __future__ import annotations

import click

from .output import dump, emit, output_option


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
@output_option()
def execute(definition, input_, name, state_machine_name, engine, output) -> None:
    """Run one execution locally and print {"executionArn", "name", "status", "output",
    "error", "cause"} as JSON. Exit 0 whatever the status.

    \b
    Example:
      smlift execute --definition statemachine/definition.asl.json --input examples/input.local.json
      smlift execute --definition my.asl.json --input in.json --engine docker
    """
    from ..execute import execute as execute_files
    from ..images.engine import choose_engine
    from . import sigterm_interrupts

    with sigterm_interrupts():
        summary = execute_files(definition, input_, name, state_machine_name,
                                engine=choose_engine(engine) if engine else None)
    if output == "json":  # one line: the contract with outside runners
        click.echo(dump(summary, compact=True))
    else:
        emit(summary, output, None, ("name", "status", "error", "cause", "executionArn"))
