"""AWS's naming rules and statuses, each defined once.

    execution statuses  what DescribeExecution says; RUNNING ones may still change, TERMINAL
                        ones never do (ListExecutions' statusFilter takes any of them)
    bucket names        S3's rule: 3 to 63 lowercase letters, digits, dots and hyphens
    execution names     AWS's rule lives with the engine that enforces it,
                        `smlift.asl.engine.check_name`: `smlift run`, `smlift start` and
                        `smlift execute` all call it (so `run(1)` is a name, as on AWS)
"""

from __future__ import annotations

import re

RUNNING = ("RUNNING", "PENDING_REDRIVE")
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
