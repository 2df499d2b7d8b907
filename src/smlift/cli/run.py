"""`smlift run`: the whole pipeline on the embedded default, with live progress."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import interrupts_deferred, sigterm_interrupts

_STYLE = {"PENDING": "dim", "RUNNING": "yellow", "SUCCEEDED": "green", "FAILED": "red"}


def _table(steps, execution):
    from rich.table import Table
    from rich.text import Text

    now = time.time()
    table = Table(title=f"{execution['name']}: {execution['status']}", title_justify="left")
    for column in ("step", "state", "processing job", "job status", "isolation", "elapsed"):
        table.add_column(column)
    for step in steps:  # names come from the definition: text, not Rich markup
        elapsed = step.elapsed(now)
        table.add_row(Text(step.state), Text(step.status, style=_STYLE.get(step.status, "")),
                      Text(step.job_name or ""), Text(step.job_status or ""),
                      Text(step.isolation or ""),
                      "" if elapsed is None else f"{elapsed:5.1f}s")
    return table


@click.command()
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              default=Path("examples/input.local.json"), show_default=True,
              help="Execution input JSON (the pipeline contract, docs/pipeline.md).")
@click.option("--name", default=None, help="Execution name (default: a new UUID).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=Path("examples/data"), show_default=True,
              help="Local folder uploaded to input_uri before the run (input_uri then holds "
                   "exactly its files).")
@click.option("--code", "code_dir", type=click.Path(path_type=Path), default=Path("scripts"),
              show_default=True, help="Local folder uploaded to code_uri before the run.")
@click.option("--image-context", type=click.Path(path_type=Path),
              default=Path("containers/inference"), show_default=True,
              help="Dockerfile folder of custom_image_uri, rebuilt when it changed.")
@click.option("--definition", "definition_path", type=click.Path(path_type=Path),
              default=Path("statemachine/definition.asl.json"), show_default=True)
@click.option("--build/--no-build", default=True, show_default=True,
              help="Build the inference image when missing or stale; with --no-build a "
                   "missing image is an error before anything runs.")
@click.option("--engine", type=click.Choice(["auto", "docker", "local"]), default=None,
              help="Where the jobs run: docker (the real images, in containers), local "
                   "(smlift's own runner, no Docker) or auto (docker when an engine answers). "
                   "Default: $SMLIFT_ENGINE, else auto.")
@click.option("--parity", is_flag=True,
              help="After success, run the legacy program (legacy_src/) on the same data and "
                   "compare its result files with the published ones, byte for byte.")
def run(input_path, name, data_dir, code_dir, image_context, definition_path, build, engine,
        parity):
    """Run the whole pipeline locally, with no AWS: in Docker containers where an engine
    answers, else on smlift's own runner.

    Uploads the data and step scripts to local S3, builds the inference image when it is
    missing or stale, runs statemachine/definition.asl.json on the local engine and shows each
    step live. Exits non-zero when the execution fails, with the failing step's ExitMessage and
    log tail.

    \b
    Example:
      smlift run
      smlift run --input examples/input.local.json --name nightly-2026-11-22
      smlift run --parity             # and prove the result equals the legacy program's
      smlift run --engine docker      # every job in its real image, as SageMaker runs it
    """
    from rich.console import Console

    from ..local import run as local_run
    from ..images.engine import choose_engine, describe_engine

    console = Console(stderr=True)
    engine = choose_engine(engine)
    sources = local_run.RunSources(input_path, data_dir, code_dir, image_context, definition_path)
    run_input = local_run.load_run_input(input_path)
    local_run.check_run(sources, name=name)
    def echo(line: str) -> None:
        console.print(line, style="dim", markup=False, highlight=False)

    console.print(f"engine: {describe_engine(engine)}", highlight=False, markup=False)
    with local_run.run_lock():
        local_run.prepare_run(run_input, sources, build=build, engine=engine, echo=echo)
        local_run.preflight(run_input, sources, engine=engine, echo=echo)
        sfn, arn = local_run.start_run(run_input, sources, name=name, engine=engine)
        console.print(f"execution: {arn}", highlight=False)
        outcome = _watch(local_run, sfn, arn, sources, console)
    _end_live(console)
    _report(outcome, console)
    if not outcome.succeeded:
        sys.exit(1)
    if parity:
        from ..parity import render

        report = local_run.check_run_parity(outcome, sources)
        click.echo(render(report).replace("parity:", "parity with the legacy program:", 1))
        if not report.ok:
            sys.exit(1)


def _watch(local_run, sfn, arn, sources, console):
    from rich.live import Live

    try:
        with sigterm_interrupts(), Live(console=console, refresh_per_second=8,
                                        transient=False) as live:
            return local_run.watch_run(
                sfn, arn, sources, on_update=lambda steps, ex: live.update(_table(steps, ex)))
    except KeyboardInterrupt:
        _end_live(console)
        console.print("interrupted: stopping the execution and its running job ...")
        with interrupts_deferred(lambda text: console.print(text, markup=False)):
            local_run.abort_run(sfn, arn, "smlift run was interrupted")
        raise


def _end_live(console) -> None:
    if not console.is_terminal:
        console.line()  # rich leaves a non-terminal Live's last frame without a newline


def _report(outcome, console) -> None:
    execution = outcome.execution
    style = "green" if outcome.succeeded else "red"
    console.print(f"[{style}]{execution['status']}[/] {execution['executionArn']}", highlight=False)
    if outcome.succeeded:
        console.print(f"result: {outcome.output_uri}", markup=False, highlight=False)
        for line in outcome.preview:
            click.echo(line)
        return
    # what a job wrote is text, never Rich markup ("[/oops]" would crash the report)
    console.print(f"error: {execution.get('error')}", markup=False, highlight=False)
    if outcome.failed_step:
        console.print(f"failed step: {outcome.failed_step}", markup=False, highlight=False)
    if outcome.exit_message:
        console.print(f"ExitMessage: {outcome.exit_message}", markup=False, highlight=False)
    if outcome.log_tail:
        console.print("log tail:")
        for line in outcome.log_tail:
            console.print(f"  {line}", markup=False, highlight=False)
