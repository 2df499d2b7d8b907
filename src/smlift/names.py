"""AWS's naming rules and statuses, each defined once.

    execution statuses  what DescribeExecution says; RUNNING ones may still change, TERMINAL
                        ones never do (ListExecutions' statusFilter takes any of them)
    bucket names        S3's rule: 3 to 63 lowercase letters, digits, dots and hyphens
    execution names     AWS's rule lives with the engine that enforces it,
                        `smlift.asl.engine.check_name`: `smlift run`, `smlift start` and
                        `smlift execute` all call it (so `run(1)` is a name, as on AWS)
    remote builds       what `smlift build --remote` creates on AWS (`smlift.aws.remote_build`),
                        and the image-build role in iam/ covers (`smlift.pipeline.iam`)
"""

from __future__ import annotations

import re

RUNNING = ("RUNNING", "PENDING_REDRIVE")
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

BUILD_PROJECT_PREFIX = "smlift-build-"  # CodeBuild projects: smlift-build-<repository>-<8 hex>
BUILD_CONTEXT_PREFIX = "smlift/build/"  # zipped contexts: s3://BUCKET/smlift/build/<project>.zip

BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
