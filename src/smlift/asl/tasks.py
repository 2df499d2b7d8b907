"""The integration seam: Task `Resource` ARN -> handler.

The engine never knows what a resource does. It resolves the Task's parameters (Parameters or
Arguments), looks the resource up here and calls the handler with a `TaskRequest`. A handler
returns the task's result (any JSON value) or raises `StatesError(error, cause)`; the engine turns
that into TaskSucceeded / TaskFailed and applies Retry and Catch.

    registry = TaskRegistry()
    registry.register("arn:aws:states:::sagemaker:createProcessingJob.sync", run_job_sync)
    handler = registry.resolve("arn:aws:states:::sagemaker:createProcessingJob.sync")

Patterns are matched whole, with `*` standing for any run of characters, so one pattern can
accept every region's form of an ARN (`arn:aws:states:*:*:sagemaker:createProcessingJob.sync`
is tried as well as the region-less form). A resource with no handler is a definition error,
found before the execution starts (`TaskRegistry.check`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import StatesError


@dataclass
class TaskRequest:
    """What a handler gets. `parameters` are fully resolved (no `.$` keys, no `{% %}`)."""

    resource: str
    parameters: Any
    context: dict  # the context object ($$): Execution, State, StateMachine, Task
    state_name: str
    emit_submitted: Callable[[Any], None] = lambda output: None  # TaskSubmitted with this output
    heartbeat: Callable[[], None] = lambda: None  # for HeartbeatSeconds
    cancelled: threading.Event = field(default_factory=threading.Event)  # set: stop the work
    timeout_seconds: float | None = None
    # Resource-specific credentials etc. (AWS: `Credentials` field) pass through untouched.
    credentials: Any = None


Handler = Callable[[TaskRequest], Any]


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


class TaskRegistry:
    """Resource ARN patterns -> handlers. The first registered pattern that matches wins."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, re.Pattern[str], Handler]] = []

    def register(self, pattern: str, handler: Handler) -> None:
        self._handlers.append((pattern, _compile(pattern), handler))

    def resolve(self, resource: str) -> Handler | None:
        # arn:aws:states:REGION:ACCOUNT:service:api -> also try the region-less form
        canonical = re.sub(r"^arn:(aws[\w-]*):states:[^:]*:[^:]*:", r"arn:\1:states:::", resource)
        for _, regex, handler in self._handlers:
            if regex.match(resource) or regex.match(canonical):
                return handler
        return None

    def patterns(self) -> list[str]:
        return [pattern for pattern, _, _ in self._handlers]

    def check(self, resource: str) -> str | None:
        """None when `resource` has a handler, else a message that says what is supported."""
        if self.resolve(resource) is not None:
            return None
        known = ", ".join(self.patterns()) or "none registered"
        return (f"no local handler for Task resource '{resource}'; the embedded default "
                f"supports: {known}")


def fail(error: str, cause: str | None = None) -> StatesError:
    """Build the error a handler raises: `raise fail('SageMaker.ResourceInUse', '...')`."""
    return StatesError(error, cause)
