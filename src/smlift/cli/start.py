"""`smlift start` and `smlift input`: an execution of a registered model, or its input JSON.

AWS by default (the deployed state machine, the SageMaker Model Registry, Approved versions
only unless --allow-unapproved); `--local` runs on the embedded default with the local registry.
Thin: `smlift.starter` does the work.
"""

from __future__ import annotations

import click

from .. import layout

from .models import backend_options
from .output import dump as _dump


def _common(command):
    command = click.option("--definition", default=str(layout.DEFINITION),
                           show_default=True, type=click.Path(dir_okay=False),
                           help="With --local: the state machine definition to run.")(command)
    command = click.option("--deployment", default="smlift", show_default=True,
                           help="The deployment's name (`smlift deploy --name`); AWS only.",
                           )(command)
    command = click.option("--allow-unapproved", is_flag=True,
                           help="On AWS, also run a version that is not Approved.")(command)
    command = click.option("--version", type=int,
                           help="The model version (default: the latest Approved one).")(command)
    return backend_options(command, local_help="Run on the embedded default (local engine and "
                                               "local registry) instead of AWS.")


def _backend(local: bool, region, profile, deployment: str, definition: str):
    from ..backend import open_backend

    return open_backend(local=local, region=region, profile=profile, deployment=deployment,
                        definition_path=definition)


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
def start(name, input_uri, output_uri, execution, all_models, input_prefix, output_prefix,
          max_concurrency, wait, version, allow_unapproved, deployment, definition, local, region,
          profile) -> None:
    """Start a pipeline execution for registered model NAME (or --all models).

    Prints the execution as JSON; follow it with `smlift wait|status|history ARN`.

    \b
    Example:
      smlift start churn --input-uri s3://bucket/in/churn/ --output-uri s3://bucket/out/churn/
      smlift start churn --input-uri s3://data/in/ --output-uri s3://data/out/ --local
      smlift start --all --input-prefix s3://bucket/in/ --output-prefix s3://bucket/out/
    """
    from ..errors import InputError

    if all_models == bool(name):
        raise InputError("give a model NAME or --all, not both or neither", where="NAME",
                         fix="e.g. `smlift start churn --input-uri ... --output-uri ...`")
    if all_models:
        if version is not None or execution or wait:
            raise InputError("--version, --name and --wait apply to one model, not --all",
                             where="--all", fix="leave them out with --all")
        return _start_all(input_prefix, output_prefix, max_concurrency, allow_unapproved,
                          deployment, definition, local, region, profile)
    import contextlib

    from ..follow import stop_in_process
    from ..starter import start_model
    from . import sigterm_interrupts

    backend = _backend(local, region, profile, deployment, definition)
    # When the execution runs in this process, from the moment it starts, Ctrl-C or SIGTERM
    # must stop it rather than leave it RUNNING with no process behind it.
    with sigterm_interrupts() if backend.runs_in_process else contextlib.nullcontext():
        started = start_model(backend.registry, backend.target, name, input_uri, output_uri,
                              version=version, allow_unapproved=allow_unapproved,
                              execution=execution)
        try:  # one handler from the start to the end of the wait: no gap for a signal
            _announce(started, wait, backend.runs_in_process)
            _wait_local(backend, [started.execution_arn])
        except KeyboardInterrupt:
            stop_in_process(backend, [started.execution_arn])
            raise
    if wait:
        return _wait(backend, started.execution_arn)


def _announce(started, wait: bool, in_process: bool) -> None:
    click.echo(_dump(started.to_dict()))
    if not wait:
        click.echo(f"Started {started.model} version {started.version}. Follow it: "
                   f"smlift wait {started.execution_arn}", err=True)
        if in_process:
            click.echo("It runs in this process: the command returns when the execution ends.",
                       err=True)


def _wait_local(backend, arns: list[str]) -> None:
    from ..follow import wait_in_process
    from . import sigterm_interrupts

    with sigterm_interrupts():
        wait_in_process(backend, arns)


def _wait(backend, arn: str) -> None:
    from ..errors import ExecutionError
    from ..follow import failure_message, wait as wait_for

    described = wait_for(backend, arn)
    click.echo(_dump(described))
    problem = failure_message(described)
    if problem:
        raise ExecutionError(problem, where=arn, fix=f"see `smlift history {arn}`")


def _start_all(input_prefix, output_prefix, max_concurrency, allow_unapproved, deployment,
               definition, local, region, profile) -> None:
    import contextlib

    from ..errors import SmliftError
    from ..follow import stop_in_process
    from ..starter import start_all
    from . import sigterm_interrupts

    backend = _backend(local, region, profile, deployment, definition)

    def report(started) -> None:
        if started.error:
            click.echo(f"FAILED  {started.model}: {started.error}", err=True)
        else:
            click.echo(f"started {started.model} v{started.version}: {started.execution_arn}",
                       err=True)

    with sigterm_interrupts() if backend.runs_in_process else contextlib.nullcontext():
        results = start_all(backend.registry, backend.target, input_prefix, output_prefix,
                            allow_unapproved=allow_unapproved, max_concurrency=max_concurrency,
                            on_done=report)
        arns = [r.execution_arn for r in results if not r.error]
        try:  # one handler from the start to the end of the wait, as for one model
            if not results:
                raise SmliftError("no registered model to start",
                                  fix="register one with `smlift models register NAME --image URI`")
            click.echo(_dump([r.to_dict() for r in results]))
            failed = [r.model for r in results if r.error]
            if not failed:
                click.echo(f"{len(results)} executions started.", err=True)
            _wait_local(backend, arns)
        except KeyboardInterrupt:
            stop_in_process(backend, arns)
            raise
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
def input_(name, input_uri, output_uri, version, allow_unapproved, deployment, definition, local,
           region, profile) -> None:
    """Print the execution input JSON `smlift start` would use, paste-ready for the console.

    \b
    Example:
      smlift input churn --input-uri s3://bucket/in/churn/ --output-uri s3://bucket/out/churn/
    """
    from ..starter import prepare

    backend = _backend(local, region, profile, deployment, definition)
    _, values = prepare(backend.registry, backend.target, name, input_uri, output_uri, version=version,
                        allow_unapproved=allow_unapproved)
    click.echo(_dump(values))
