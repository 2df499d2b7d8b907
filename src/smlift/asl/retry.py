"""Retry and Catch: which retrier or catcher handles an error, and how long to wait before retrying.

AWS semantics (States Language spec, "Error handling in Step Functions"):
- A retrier or catcher matches when the error name is in its `ErrorEquals`. `States.ALL` matches
  every error name except the terminal ones: `States.Runtime` (never retried nor caught) and
  `States.DataLimitExceeded` (caught only when named). `States.TaskFailed` matches every error
  except `States.Timeout` and the terminal ones ("States.TaskFailed ... matches any known error
  name except for States.Timeout"). A missed heartbeat is reported as `States.Timeout` ("a Task
  state either ran longer than the TimeoutSeconds value, or failed to send a heartbeat for a
  period longer than the HeartbeatSeconds value"; so AWS's recorded histories show it) but is
  matched under the name `States.HeartbeatTimeout` (`match_name`), which `States.Timeout`,
  `States.HeartbeatTimeout` and `States.ALL` match, and `States.TaskFailed` does not.
- Retriers are tried in order; the first match decides. Each retrier counts its own attempts;
  `MaxAttempts: 0` never retries.
- The n-th retry (n from 0) waits `IntervalSeconds * BackoffRate ** n`, capped by
  `MaxDelaySeconds`; with `JitterStrategy: FULL` the wait is uniform in [0, that value].
"""

from __future__ import annotations

import random as _random
from typing import Callable, Sequence

NEVER_CAUGHT = frozenset({"States.Runtime"})
ONLY_WHEN_NAMED = frozenset({"States.DataLimitExceeded"})
TIMEOUTS = frozenset({"States.Timeout", "States.HeartbeatTimeout"})


def match_name(error) -> str:
    """The name a StatesError is matched under: its own, or `match_as` (a heartbeat timeout)."""
    return getattr(error, "match_as", None) or error.error


def error_matches(error_equals: Sequence[str], error: str) -> bool:
    """True when an `ErrorEquals` list matches the error name `error`."""
    if error in NEVER_CAUGHT:
        return False
    if error in error_equals:
        return True
    if error in ONLY_WHEN_NAMED:
        return False
    if "States.ALL" in error_equals:
        return True
    if error in TIMEOUTS:
        return "States.Timeout" in error_equals
    return "States.TaskFailed" in error_equals


def find_retrier(retriers: Sequence, error: str):
    """(index, retrier) of the first retrier matching `error`, or (None, None)."""
    for index, retrier in enumerate(retriers):
        if error_matches(retrier.error_equals, error):
            return index, retrier
    return None, None


def should_retry(retrier, attempts_so_far: int) -> bool:
    """True while this retrier still has attempts left (`attempts_so_far` retries already done)."""
    return attempts_so_far < retrier.max_attempts


def next_delay(retrier, attempts_so_far: int,
               random: Callable[[], float] = _random.random) -> float:
    """Seconds to wait before retry number `attempts_so_far` (0-based) of this retrier."""
    delay = retrier.interval_seconds * (retrier.backoff_rate ** attempts_so_far)
    if retrier.max_delay_seconds is not None:
        delay = min(delay, retrier.max_delay_seconds)
    if retrier.jitter_strategy == "FULL":
        delay = delay * random()
    return delay


def matching_catcher(catchers: Sequence, error: str):
    """The first catcher whose ErrorEquals matches `error`, or None."""
    for catcher in catchers:
        if error_matches(catcher.error_equals, error):
            return catcher
    return None
