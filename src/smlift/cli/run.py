"""`smlift run`: the whole pipeline on the embedded default, with live progress.

Thin: `smlift.embedded.run.run_pipeline` does the run; this module draws its progress and report.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from . import interrupts_deferred, sigterm_interrupts
from .output import emit, output_option
from .parity import parity_document, report_text

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
              default=None,
              help="Execution input JSON (the pipeline contract, docs/pipeline.md; default: the "
                   "project file's paths.local_input).")
@click.option("--name", default=None, help="Execution name (default: a new UUID).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              default=None,
              help="Local folder uploaded to input_uri before the run (input_uri then holds "
                   "exactly its files; default: the project file's paths.data).")
@click.option("--rows", type=click.IntRange(1), default=None,
              help="Run on this many rows made by the project's data generator (the project "
                   "file's [data]; made once under .smlift/data/ and reused) instead of "
                   "paths.data.")
@click.option("--code", "code_dir", type=click.Path(path_type=Path), default=None,
              help="Local folder uploaded to code_uri before the run (default: paths.scripts).")
@click.option("--image-context", type=click.Path(path_type=Path),
              default=None,
              help="Dockerfile folder of custom_image_uri, rebuilt when it changed (default: "
                   "paths.image_context).")
@click.option("--definition", "definition_path", type=click.Path(path_type=Path),
              default=None, help="The state machine (default: the project file's).")
@click.option("--build/--no-build", default=True, show_default=True,
              help="Build the inference image when missing or stale; with --no-build a "
                   "missing image is an error before anything runs.")
@click.option("--engine", type=click.Choice(["auto", "docker", "local"]), default=None,
              help="Where the jobs run: docker (the real images, in containers), local "
                   "(smlift's own runner, no Docker) or auto (docker when an engine answers). "
                   "Default: $SMLIFT_ENGINE, else auto.")
@click.option("--parity", is_flag=True,
              help="After success, run the legacy program (the project file's [legacy]) on the "
                   "same data and compare its result files with the published ones.")
@click.option("--redrive", "redrive", metavar="EXECUTION", default=None,
              help="Redrive this failed, aborted or killed execution (ARN or name) instead of "
                   "starting one: changed code is uploaded and a changed image rebuilt first, "
                   "then only the steps that did not succeed run again.")
@output_option(default="text")
def run(input_path, name, data_dir, rows, code_dir, image_context, definition_path, build,
        engine, parity, redrive, output):
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
      smlift run --rows 1000000 --parity   # a million generated rows (smlift data make)
      smlift run --redrive nightly-2026-11-22   # after a fix: resume where it failed
      smlift run --parity --output json   # progress on stderr, one JSON document on stdout
    """
    from rich.console import Console

    from ..images.engine import choose_engine, describe_engine
    from ..embedded.run import RunSources, run_pipeline

    console = Console(stderr=True)
    if not console.is_terminal:  # a pipe or a CI log: full ARNs and names, never wrapped
        console = Console(stderr=True, soft_wrap=True, width=10_000)
    engine = choose_engine(engine)
    from ..project import load_project

    if rows:
        console.print(f"data: {rows:,} rows from the project's generator (made on first use)",
                      style="dim", markup=False, highlight=False)
    sources = RunSources.of(load_project(), rows=rows, input_path=input_path, data_dir=data_dir,
                            code_dir=code_dir, image_context=image_context,
                            definition_path=definition_path)
    report = run_pipeline(sources, name=name, build=build, engine=engine, parity=parity,
                          progress=LiveProgress(console, describe_engine(engine)),
                          redrive=redrive)
    _end_live(console)
    _report(report.outcome, console, preview=output == "text")
    if output != "text":
        document = run_document(report)
        emit(document, output, document["steps"],
             ("state", "status", "job", "job_status", "isolation", "seconds"))
    elif report.outcome.succeeded and report.parity is not None:
        click.echo(report_text(report.parity, "parity with the legacy program:"))
    if not report.ok:
        sys.exit(1)


def _step_row(step) -> dict:
    seconds = step.elapsed(step.ended or step.started or 0.0)
    return {"state": step.state, "status": step.status, "job": step.job_name,
            "job_status": step.job_status, "isolation": step.isolation,
            "seconds": None if seconds is None else round(seconds, 2)}


def run_document(report) -> dict:
    """What `run --output json` prints: the execution, each step, where the result went, why it
    failed, and the parity report when one was asked for."""
    outcome = report.outcome
    execution = outcome.execution
    parity = report.parity
    return {"executionArn": execution.get("executionArn"), "name": execution.get("name"),
            "status": execution.get("status"), "resultUri": outcome.output_uri,
            "steps": [_step_row(s) for s in outcome.steps],
            "failedStep": outcome.failed_step, "error": execution.get("error"),
            "exitMessage": outcome.exit_message, "logTail": outcome.log_tail,
            "parity": None if parity is None else parity_document(parity)}


class LiveProgress:
    """`smlift run`'s progress on stderr: preparation lines, then a live table of the steps.
    While the execution is watched SIGTERM interrupts as Ctrl-C does; while an interrupted
    execution is stopped, a further interrupt only says so."""

    def __init__(self, console, engine: str):
        self.console, self.engine = console, engine

    def checked(self) -> None:
        self.console.print(f"engine: {self.engine}", highlight=False, markup=False)

    def line(self, text: str) -> None:
        self.console.print(text, style="dim", markup=False, highlight=False)

    def started(self, arn: str) -> None:
        self.console.print(f"execution: {arn}", highlight=False)

    @contextlib.contextmanager
    def watching(self):
        from rich.live import Live

        if not self.console.is_terminal:  # one line per step status change, no redrawn table
            try:
                with sigterm_interrupts():
                    yield self._changed
            except KeyboardInterrupt:
                self.console.print("interrupted: stopping the execution and its running job ...")
                raise
            return
        try:
            with sigterm_interrupts(), Live(console=self.console, refresh_per_second=8,
                                            transient=False) as live:
                yield lambda steps, execution: live.update(_table(steps, execution))
        except KeyboardInterrupt:
            _end_live(self.console)
            self.console.print("interrupted: stopping the execution and its running job ...")
            raise

    def _changed(self, steps, execution) -> None:
        seen = self.__dict__.setdefault("_seen", {})
        for step in steps:
            now = (step.status, step.job_name, step.job_status, step.isolation)
            if step.status != "PENDING" and seen.get(step.state) != now:
                seen[step.state] = now
                job = f" job {step.job_name} {step.job_status or ''}".rstrip() if step.job_name else ""
                job += f" (isolation: {step.isolation})" if step.isolation else ""
                self.console.print(f"{step.state}: {step.status}{job}", markup=False,
                                   highlight=False)

    def stopping(self):
        return interrupts_deferred(lambda text: self.console.print(text, markup=False))


def _end_live(console) -> None:
    """Nothing left to end: a Live table is drawn only on a terminal, where it ends itself."""


def _report(outcome, console, preview: bool = True) -> None:
    """The outcome on stderr; with `preview`, the result's first lines on stdout."""
    execution = outcome.execution
    style = "green" if outcome.succeeded else "red"
    console.print(f"[{style}]{execution['status']}[/] {execution['executionArn']}", highlight=False)
    if outcome.succeeded:
        console.print(f"result: {outcome.output_uri}", markup=False, highlight=False)
        for line in outcome.preview if preview else ():
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
