"""`smlift validate`: check the definition, an execution input, the IAM policies and the hand-offs.

Thin: calls `smlift.pipeline.validate.validate_pipeline` and prints each problem with where it
is and the fix. Exit 0 when everything holds, 1 when there is any problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

DEFAULT_DEFINITION = Path("statemachine/definition.asl.json")
DEFAULT_INPUT = Path("examples/input.json")
DEFAULT_IAM = Path("iam")


@click.command()
@click.option("--definition", "definition", type=click.Path(path_type=Path),
              default=DEFAULT_DEFINITION, show_default=True, help="The state machine definition.")
@click.option("--input", "input_path", type=click.Path(path_type=Path), default=None,
              help=f"An execution input to resolve the definition against [default: {DEFAULT_INPUT} "
                   "when it exists].")
@click.option("--iam", "iam_dir", type=click.Path(path_type=Path), default=None,
              help=f"The folder of IAM policy templates [default: {DEFAULT_IAM} when it exists].")
@click.option("--no-input", is_flag=True, help="Skip the input, request and hand-off checks.")
@click.option("--no-iam", is_flag=True, help="Skip the IAM checks.")
def validate(definition: Path, input_path: Path | None, iam_dir: Path | None, no_input: bool,
             no_iam: bool) -> None:
    """Check the definition, an input, the IAM policies and the data hand-offs.

    Each Task's Arguments are resolved against the input by the engine itself (a dry run with a
    recording SageMaker) and checked as CreateProcessingJob requests.

    \b
    Example:
      smlift validate
      smlift validate --input examples/input.local.json --iam iam
    """
    from ..pipeline.validate import validate_pipeline

    input_path = None if no_input else input_path or _if_exists(DEFAULT_INPUT)
    iam_dir = None if no_iam else iam_dir or _if_exists(DEFAULT_IAM)
    problems = validate_pipeline(definition, input_path, iam_dir)
    checked = ", ".join(str(p) for p in (definition, input_path, iam_dir) if p is not None)
    if not problems:
        click.echo(f"ok: {checked}")
        return
    for problem in problems:
        click.echo(f"{problem.where}: {problem.message}")
        click.echo(f"  fix: {problem.fix}")
    click.echo(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in {checked}", err=True)
    sys.exit(1)


def _if_exists(path: Path) -> Path | None:
    return path if path.exists() else None
