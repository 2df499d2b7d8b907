"""Executors take a `Plan` and either apply it (`Executor`) or print it (`DisplayOnlyExecutor`).

`--dry-run` hands the very plan that would be applied to the display executor, so what is shown
is what would run. The applying executor calls each `AwsClient` method in order; if a call fails
part-way through a deploy, it still records what the calls before it created, so `destroy` can
remove a half-finished deployment too.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ...errors import AwsError, DeployError
from .models import Plan, Resource, record_key
from .record import build_record_from, record_json

# method -> (AWS error codes worth retrying, attempts, seconds between): a role created seconds
# ago is not yet assumable by Step Functions (IAM is eventually consistent).
RETRIES = {
    "create_state_machine": (("AccessDeniedException", "InvalidArn"), 10, 3.0),
    "update_state_machine": (("AccessDeniedException", "InvalidArn"), 10, 3.0),
}


def format_call(index: int, call: Any) -> str:
    params = ", ".join(f"{key}={json.dumps(value, default=str)}"
                       for key, value in call.shown_params().items())
    return f"{index:>3}. {call.description}\n       {call.method}({params})"


class DisplayOnlyExecutor:
    """Prints the plan, one numbered call per entry; changes nothing."""

    def __init__(self, echo: Callable[[str], None] = print):
        self.echo = echo

    def execute(self, plan: Plan) -> list[Resource]:
        if plan.is_empty:
            self.echo(f"Plan for {plan.action} {plan.name!r}: nothing to do, AWS already matches.")
            return []
        self.echo(f"Plan for {plan.action} {plan.name!r}: {len(plan.calls)} API call(s)")
        for index, call in enumerate(plan.calls, 1):
            self.echo(format_call(index, call))
        return []


class Executor:
    """Applies a plan through an `AwsClient`; returns the resources the calls created."""

    def __init__(self, client, echo: Callable[[str], None] = print):
        self.client = client
        self.echo = echo

    def execute(self, plan: Plan) -> list[Resource]:
        created: list[Resource] = []
        for index, call in enumerate(plan.calls, 1):
            self.echo(f"[{index}/{len(plan.calls)}] {call.description}")
            try:
                self._invoke(call.method, call.params)
            except BaseException as exc:  # an AWS error, or Ctrl-C: record what exists first
                if plan.action == "deploy" and plan.record is not None:
                    self._record_partial(plan, created)
                if not isinstance(exc, AwsError):
                    raise
                raise DeployError(f"{call.description} failed: {exc.message}",
                                  where=exc.where, fix=exc.fix) from None
            if call.creates:
                created.append(call.creates)
        return created

    def _invoke(self, method: str, params: dict) -> dict:
        codes, attempts, pause = RETRIES.get(method, ((), 1, 0.0))
        for attempt in range(1, attempts + 1):
            try:
                return getattr(self.client, method)(**params)
            except AwsError as exc:
                if exc.code not in codes or attempt == attempts:
                    raise
                self.echo(f"       ({exc.code}: the new role is not usable yet; retrying in "
                          f"{pause:g} s)")
                self.client.sleep(pause)
        raise AssertionError("unreachable")

    def _record_partial(self, plan: Plan, created: list[Resource]) -> None:
        """After a failure: the previous record plus what this run created, written to S3."""
        record = build_record_from(plan.record, plan.previous_record, created)
        try:
            self.client.put_object(Bucket=plan.bucket, Key=record_key(plan.name),
                                   Body=record_json(record), ContentType="application/json")
        except AwsError:
            self.echo("warning: could not write the deployment record; resources created so far: "
                      + ", ".join(res.id for res in created))
