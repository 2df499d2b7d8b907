"""`smlift wait EXECUTION`: wait for an execution, local or on AWS, showing its progress.

Thin: `smlift.follow.wait` polls on the side `backends.chosen` picks; this module only draws
the progress on stderr. On a terminal, one status line rewritten in place; elsewhere (a pipe,
a CI log), one full line per state entered, per job status change (submitted with its full
ARN, then its end) and per execution status change, never wrapped. A timeout exits 124, a
failed execution 1 (see `smlift --help`).
"""

from __future__ import annotations

import json
import sys
import time

import click

from .backends import backend_options, chosen
from .output import output_option, render


class _Progress:
    """What `wait` says while it waits, on stderr."""

    def __init__(self, backend, arn: str, stream=None):
        self.backend, self.arn = backend, arn
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.seen_events = 0
        self.status = None
        self.state = ""
        self.started = time.monotonic()

    def __call__(self, described: dict) -> None:
        events = self.backend.history(self.arn)
        for event in events[self.seen_events:]:
            if event.get("type", "").endswith("StateEntered"):
                self.state = event.get("stateEnteredEventDetails", {}).get("name", "")
                if not self.terminal:
                    self._line(f"state entered: {self.state}")
            elif not self.terminal:
                line = job_line(event, self.state)
                if line:
                    self._line(line)
        self.seen_events = len(events)
        status = described.get("status")
        if status != self.status and not self.terminal:
            self._line(f"{described.get('executionArn', self.arn)} {status}")
        self.status = status
        if self.terminal:
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r\x1b[K{status} {elapsed:6.0f}s {self.state}")
            self.stream.flush()

    def done(self) -> None:
        if self.terminal:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def job_line(event: dict, state: str) -> str | None:
    """A job's status change, from a Task event of a processing job: submitted (its full ARN),
    then Completed / Failed / Stopped (or the task's error)."""
    kind = event.get("type", "")
    details = next((v for k, v in event.items() if k.endswith("EventDetails")
                    and isinstance(v, dict)), {})
    if kind == "TaskFailed":
        return f"{state}: task failed: {details.get('error', '')}: {details.get('cause', '')}"
    if kind not in ("TaskSubmitted", "TaskSucceeded"):
        return None
    try:
        output = json.loads(details.get("output") or "{}")
    except ValueError:
        return None
    job = output.get("ProcessingJobArn") if isinstance(output, dict) else None
    if not job:
        return None
    status = "InProgress" if kind == "TaskSubmitted" else output.get("ProcessingJobStatus", "")
    return f"{state}: job {job} {status}".rstrip()


@click.command()
@click.argument("execution")
@click.option("--timeout", type=float, help="Give up after this many seconds (exit 124).")
@click.option("--poll", type=float, help="Seconds between checks (default: 5 on AWS, 0.5 locally).")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@backend_options
@output_option()
def wait(execution, timeout, poll, quiet, output, **options) -> None:
    """Wait for an execution to end; print its DescribeExecution; exit 1 unless it SUCCEEDED,
    124 when --timeout runs out first (the execution keeps running).

    \b
    Example:
      smlift wait arn:aws:states:eu-west-1:123456789012:execution:smlift-pipeline:churn-1 \\
          --timeout 3600
    """
    from ..errors import ExecutionError
    from ..follow import failure_message, wait as wait_for

    backend = chosen(options, execution=execution)
    progress = None if quiet else _Progress(backend, execution)
    try:
        described = wait_for(backend, execution, timeout=timeout, poll=poll, on_poll=progress)
    finally:
        if progress:
            progress.done()
    click.echo(render(described, output, None,
                      ("name", "status", "startDate", "stopDate", "error", "executionArn")))
    problem = failure_message(described)
    if problem:
        raise ExecutionError(problem, where=described.get("executionArn"),
                             fix="see `smlift executions history EXECUTION` for the failing step")
