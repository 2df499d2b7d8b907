"""The context object (`$$` in JSONPath, `$states.context` in JSONata).

    {"Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount"[, "RedriveDate"]},
     "StateMachine": {"Id", "Name"},
     "State": {"EnteredTime", "Name"[, "RetryCount"]},
     "Task": {"Token"}            only in Task states that wait for a token
     "Map": {"Item": {"Index", "Value"}}   only while evaluating a Map's ItemSelector}

Timestamps use AWS's format, `2024-01-01T00:00:00.000Z`. The execution part is built once per
execution; each state gets a new small dict around it (cheap: no copies of the input).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/smlift-local-execution"


def iso_timestamp(seconds: float) -> str:
    """Epoch seconds -> `2024-01-01T00:00:00.000Z`."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def execution_context(*, execution_arn: str, name: str, input_: object, role_arn: str | None,
                      start_time: float, state_machine_arn: str, state_machine_name: str,
                      redrive_count: int = 0, redrive_date: float | None = None) -> dict:
    """The parts of the context object that stay the same for the whole execution (attempt: a
    redrive counts `RedriveCount` and has a `RedriveDate`)."""
    execution = {"Id": execution_arn, "Input": input_, "StartTime": iso_timestamp(start_time),
                 "Name": name, "RoleArn": role_arn or DEFAULT_ROLE_ARN,
                 "RedriveCount": redrive_count}
    if redrive_date is not None:
        execution["RedriveDate"] = iso_timestamp(redrive_date)
    return {"Execution": execution,
            "StateMachine": {"Id": state_machine_arn, "Name": state_machine_name}}


def state_context(base: dict, state_name: str, entered_time: float,
                  retry_count: int | None = None) -> dict:
    """The context object seen by one state (`retry_count` for states that can retry)."""
    state = {"Name": state_name, "EnteredTime": iso_timestamp(entered_time)}
    if retry_count is not None:
        state["RetryCount"] = retry_count
    return {"Execution": base["Execution"], "StateMachine": base["StateMachine"], "State": state}


def map_item_context(state_ctx: dict, index: int, value: object) -> dict:
    """The context object of a Map's ItemSelector for item `index`."""
    return {**state_ctx, "Map": {"Item": {"Index": index, "Value": value}}}


_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                        r"(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(text: object) -> float | None:
    """An ISO-8601 extended offset date-time (`2016-03-14T01:59:00Z`, fractions and `+01:00`
    allowed) -> epoch seconds; None when `text` is not one (AWS requires the offset)."""
    match = _TIMESTAMP.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          tzinfo=timezone.utc)
    except ValueError:
        return None
    seconds = moment.timestamp() + (float(fraction) if fraction else 0.0)
    if offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        seconds -= sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    return seconds
