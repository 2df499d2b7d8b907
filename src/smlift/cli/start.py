"""`smlift start` and `smlift input`: an execution of a registered model, or its input JSON.

AWS by default (the deployed state machine, the SageMaker Model Registry, Approved versions
only unless --allow-unapproved); `--local` runs on the embedded default with the local registry.
Thin: `smlift.starter.start` and `start_every` do the work.
"""

from __future__ import annotations

import click

from .. import layout

from .models import backend_options
from .output import emit, output_option

_STARTED_COLUMNS = ("model", "version", "status", "startDate", "executionArn")
_ALL_COLUMNS = ("model", "version", "executionArn", "error")


def _common(command):
    command = click.option("--definition", default=None, type=click.Path(dir_okay=False),
                           help="With --local: the state machine definition to run [default: "
                                f"the project's, {layout.DEFINITION}].")(command)
    command = click.option("--deployment", default="smlift", show_default=True,
                           help="The deployment's name (`smlift deploy --name`); AWS only.",
                           )(command)
    command = click.option("--allow-unapproved", is_flag=True,
                           help="On AWS, also run a version that is not Approved.")(command)
    command = click.option("--version", type=int,
                           help="The model version (default: the latest Approved one).")(command)
    return backend_options(command, local_help="Run on the embedded default (local engine and "
                                               "local registry) instead of AWS.")


def _backend(local: bool, region, profile, deployment: str, definition: str | None):
    """AWS (no project needed), or with --local the project's engine, registry and scripts."""
    from ..backend import open_backend
    from .project import current_project, project_default, require_state

    code_dir = layout.SCRIPTS
    if local:
        require_state("run it on AWS (leave out --local)")
        if definition is None:
            definition = project_default(lambda p: p.definition, layout.DEFINITION,
                                         "pass --definition FILE")
        project = current_project()
        code_dir = project.scripts if project else code_dir
    return open_backend(local=local, region=region, profile=profile, deployment=deployment,
                        definition_path=definition or layout.DEFINITION, code_dir=code_dir)


@click.command()
@click.argument("name", required=False)
@click.option("--input-uri", help="s3:// prefix of the model's input data (AWS default: the "
                                  "deployment's input prefix + NAME/).")
@click.option("--output-uri", help="s3:// prefix the results go under (AWS default: the "
                                   "deployment's output prefix + NAME/).")
@click.option("--name", "execution", help="The execution name (default: MODEL-vN-TIME-RANDOM).")
@click.option("--all", "all_models", is_flag=True, help="Start every registered model.")
@click.option("--input-prefix", help="With --all: input_uri is INPUT_PREFIX/<model>/ "
                                     "(AWS default: the deployment's).")
@click.option("--output-prefix", help="With --all: output_uri is OUTPUT_PREFIX/<model>/ "
                                      "(AWS default: the deployment's).")
@click.option("--max-concurrency", type=int, default=4, show_default=True,
              help="With --all: how many models are started at the same time.")
@click.option("--wait", is_flag=True, help="Wait for the execution to end; exit 1 unless it "
                                           "SUCCEEDED (one model only).")
@_common
@output_option()
def start(name, input_uri, output_uri, execution, all_models, input_prefix, output_prefix,
          max_concurrency, wait, version, allow_unapproved, deployment, definition, local, region,
          profile, output) -> None:
    """Start a pipeline execution for registered model NAME (or --all models).

    Prints the execution (executionArn, startDate, model, version, input); follow it with
    `smlift wait ARN`. With --wait, prints one document once it has ended: its
    DescribeExecution (status, output, error...) with the model and version.

    \b
    Example:
      smlift start churn --input-uri s3://bucket/in/churn/ --output-uri s3://bucket/out/churn/
      smlift start churn --input-uri s3://data/in/ --output-uri s3://data/out/ --local
      smlift start --all --input-prefix s3://bucket/in/ --output-prefix s3://bucket/out/
    """
    from ..errors import ExecutionError, InputError
    from ..follow import failure_message
    from ..starter import start as start_model

    if all_models == bool(name):
        raise InputError("give a model NAME or --all, not both or neither", where="NAME",
                         fix="e.g. `smlift start churn --input-uri ... --output-uri ...`")
    if all_models:
        if version is not None or execution or wait:
            raise InputError("--version, --name and --wait apply to one model, not --all",
                             where="--all", fix="leave them out with --all")
        return _start_all(input_prefix, output_prefix, max_concurrency, allow_unapproved,
                          deployment, definition, local, region, profile, output)
    backend = _backend(local, region, profile, deployment, definition)
    with _interruptible(backend):
        started = start_model(backend, name, input_uri, output_uri, version=version,
                              allow_unapproved=allow_unapproved, execution=execution, wait=wait,
                              on_started=lambda s: _announce(s, wait, backend.runs_in_process,
                                                             output))
    if started.ended is not None:
        ended = final_description(started)
        emit(ended, output, None, _STARTED_COLUMNS)
        problem = failure_message(started.ended)
        if problem:
            raise ExecutionError(problem, where=started.execution_arn,
                                 fix=f"see `smlift history {started.execution_arn}`")


def _interruptible(backend):
    """When executions run in this process, from the moment one starts, Ctrl-C or SIGTERM must
    stop it rather than leave it RUNNING with no process behind it."""
    import contextlib

    from . import sigterm_interrupts

    return sigterm_interrupts() if backend.runs_in_process else contextlib.nullcontext()


def final_description(started) -> dict:
    """`start --wait`'s one document: the ended execution's DescribeExecution, with the model
    and version start chose (its input is DescribeExecution's, the JSON text sent)."""
    return {**started.ended, "model": started.model, "version": started.version}


def _announce(started, wait: bool, in_process: bool, output: str) -> None:
    if wait:  # one document, once it has ended; until then a line for a person
        click.echo(f"Started {started.model} version {started.version}: "
                   f"{started.execution_arn}; waiting for it to end.", err=True)
        return
    emit(started.to_dict(), output, None, _STARTED_COLUMNS)
    click.echo(f"Started {started.model} version {started.version}. Follow it: "
               f"smlift wait {started.execution_arn}", err=True)
    if in_process:
        click.echo("It runs in this process: the command returns when the execution ends.",
                   err=True)


def _start_all(input_prefix, output_prefix, max_concurrency, allow_unapproved, deployment,
               definition, local, region, profile, output) -> None:
    from ..errors import SmliftError
    from ..starter import start_every

    backend = _backend(local, region, profile, deployment, definition)

    def report(started) -> None:
        if started.error:
            click.echo(f"FAILED  {started.model}: {started.error}", err=True)
        else:
            click.echo(f"started {started.model} v{started.version}: {started.execution_arn}",
                       err=True)

    def announce(results) -> None:
        rows = [r.to_dict() for r in results]
        emit(rows, output, rows, _ALL_COLUMNS)
        if not any(r.error for r in results):
            click.echo(f"{len(results)} executions started.", err=True)

    with _interruptible(backend):
        results = start_every(backend, input_prefix, output_prefix,
                              allow_unapproved=allow_unapproved, max_concurrency=max_concurrency,
                              on_done=report, on_started=announce)
    failed = [r.model for r in results if r.error]
    if failed:
        raise SmliftError(f"{len(failed)} of {len(results)} models did not start: "
                          f"{', '.join(failed)}", fix="see the FAILED lines above")


@click.command(name="input")
@click.argument("name")
@click.option("--input-uri", help="s3:// prefix of the model's input data (AWS default: the "
                                  "deployment's input prefix + NAME/).")
@click.option("--output-uri", help="s3:// prefix the results go under (AWS default: the "
                                   "deployment's output prefix + NAME/).")
@_common
@output_option()
def input_(name, input_uri, output_uri, version, allow_unapproved, deployment, definition, local,
           region, profile, output) -> None:
    """Print the execution input JSON `smlift start` would use, paste-ready for the console.

    \b
    Example:
      smlift input churn --input-uri s3://bucket/in/churn/ --output-uri s3://bucket/out/churn/
    """
    from ..starter import prepare

    backend = _backend(local, region, profile, deployment, definition)
    _, values = prepare(backend.registry, backend.target, name, input_uri, output_uri, version=version,
                        allow_unapproved=allow_unapproved)
    emit(values, output, [{"field": k, "value": v} for k, v in values.items()],
         ("field", "value"))
