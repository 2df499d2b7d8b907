"""`smlift validate`: check the definition, an execution input, the IAM policies and the hand-offs.

Thin: calls `smlift.validate.validate_pipeline` and prints each problem with where it
is and the fix. Errors are what AWS would reject (or a request that cannot run): exit 1.
Warnings are smlift's advice (no Retry for capacity errors, no Catch to a Fail state, a
Dockerfile writing under /opt/ml): exit 0, unless --strict. `--output json` prints one
document: {"ok", "checked", "errors", "warnings"}, each problem {"where", "message", "fix"}.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import layout
from .output import emit, output_option

DEFAULT_DEFINITION = layout.DEFINITION
DEFAULT_INPUT = layout.INPUT
DEFAULT_IAM = layout.IAM
DEFAULT_CONTAINERS = layout.CONTAINERS  # every containers/*/ that holds a Dockerfile


@click.command()
@click.option("--definition", "definition", type=click.Path(path_type=Path), default=None,
              help=f"The state machine definition [default: the project's, {DEFAULT_DEFINITION}]. "
                   "The project's input, iam/ and containers are the defaults only for its own "
                   "definition.")
@click.option("--input", "input_path", type=click.Path(path_type=Path), default=None,
              help=f"An execution input to resolve the definition against [default: {DEFAULT_INPUT} "
                   "when it exists, else one synthesised from what the definition reads].")
@click.option("--iam", "iam_dir", type=click.Path(path_type=Path), default=None,
              help=f"The folder of IAM policy templates [default: {DEFAULT_IAM} when it exists].")
@click.option("--no-input", is_flag=True, help="Skip the input, request and hand-off checks.")
@click.option("--no-iam", is_flag=True, help="Skip the IAM checks.")
@click.option("--container", "containers", multiple=True, type=click.Path(path_type=Path),
              help=f"A build context whose Dockerfile to check; repeatable [default: every "
                   f"{DEFAULT_CONTAINERS}/*/ with a Dockerfile].")
@click.option("--strict", is_flag=True, help="Warnings (smlift's advice) fail too (exit 1).")
@output_option(default="text")
def validate(definition: Path, input_path: Path | None, iam_dir: Path | None, no_input: bool,
             no_iam: bool, containers: tuple[Path, ...], strict: bool, output: str) -> None:
    """Check the definition, an input, the IAM policies, the data hand-offs and the Dockerfiles.

    Each Task's Arguments are resolved against the input by the engine itself (a dry run with a
    recording SageMaker) and checked as CreateProcessingJob requests. A Dockerfile that puts
    anything under /opt/ml (reserved for SageMaker) gets a warning, as does a Task with no
    Retry for capacity errors or no Catch to a Fail state: advice, which fails only with
    --strict. What AWS would reject is an error: exit 1.

    Any definition is checked, not only smlift's: one written elsewhere is resolved against
    its own input shape. Without --input (and no examples/input.json), the input is
    synthesised from the paths the definition reads ($.x.y, $states.input.x), with
    placeholders typed by where they land (an s3:// URI for S3Uri, a role ARN for RoleArn,
    numbers for InstanceCount...), and a warning says so.

    \b
    Example:
      smlift validate
      smlift validate --input examples/input.local.json --iam iam --container containers/inference
      smlift validate --definition stepfunctions_config.json --input my-input.json --no-iam
      smlift validate --definition other.asl.json --no-iam --output json
    """
    from ..validate import validate_pipeline

    definition, default_input, default_iam, default_containers = _defaults(definition)
    synthesise = input_path is None and not no_input and not _exists(default_input)
    input_path = None if no_input else input_path or _if_exists(default_input)
    iam_dir = None if no_iam else iam_dir or _if_exists(default_iam)
    containers = containers or tuple(sorted(
        dockerfile.parent for dockerfile in (default_containers.glob("*/Dockerfile")
                                             if default_containers else ())))
    found = validate_pipeline(definition, input_path, iam_dir, containers,
                              synthesise=synthesise)
    checked = [str(p) for p in (definition, input_path, iam_dir, *containers) if p is not None]
    if synthesise:
        checked.insert(1, "a synthesised input")
    problems = [p for p in found if strict or p.severity != "warning"]
    warnings = [p for p in found if p.severity == "warning" and not strict]
    if output != "text":
        value = {"ok": not problems, "checked": checked,
                 "errors": [_as_dict(p) for p in problems],
                 "warnings": [_as_dict(p) for p in warnings]}
        rows = [dict(_as_dict(p), severity="error" if p in problems else "warning")
                for p in problems + warnings]
        emit(value, output, rows, ("severity", "where", "message", "fix"))
    else:
        _print_text(problems, warnings, ", ".join(checked))
    if problems:
        sys.exit(1)


def _as_dict(problem) -> dict:
    return {"where": problem.where, "message": problem.message, "fix": problem.fix}


def _print_text(problems, warnings, checked: str) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning.where}: {warning.message}")
        click.echo(f"  fix: {warning.fix}")
    if not problems:
        click.echo(f"ok: {checked}")
        return
    for problem in problems:
        click.echo(f"{problem.where}: {problem.message}")
        click.echo(f"  fix: {problem.fix}")
    click.echo(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in {checked}", err=True)


def _defaults(definition: Path | None):
    """(definition, input, iam, containers): the project's, when the definition is the
    project's own (or not given); for another definition only itself (None for the rest)."""
    from .project import current_project, project_default

    project = current_project()
    if definition is None:
        definition = project_default(lambda p: p.definition, DEFAULT_DEFINITION,
                                     "pass --definition FILE")
    if project is not None:
        own, base, paths = project.definition, project.root, project.file.paths
        parts = (Path(paths.input), Path(paths.iam), Path(paths.containers))
    else:
        own, base, parts = DEFAULT_DEFINITION, Path("."), (DEFAULT_INPUT, DEFAULT_IAM,
                                                           DEFAULT_CONTAINERS)
    if Path(definition).resolve() != Path(own).resolve():
        return definition, None, None, None
    from .project import shown

    return (definition, *(shown(base / part) for part in parts))


def _exists(path: Path | None) -> bool:
    return path is not None and path.exists()


def _if_exists(path: Path | None) -> Path | None:
    return path if _exists(path) else None
