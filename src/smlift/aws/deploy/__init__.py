"""Deploying the pipeline to AWS: plan, then execute (the shape of chalice's deployer).

    desired.py    project files (iam/, scripts/, statemachine/) -> a `Deployment` (desired state)
    planner.py    reads the current state through `AwsClient` and returns a `Plan` of API calls;
                  it never writes. An up-to-date deployment plans no call at all.
    executor.py   `Executor` applies a plan call by call; `DisplayOnlyExecutor` prints it
                  (`--dry-run`). Either way the very same plan object is used.
    record.py     what a deployment created (tags, the record object in the bucket, a local copy),
                  so that `destroy` removes exactly that, and `lookup_deployment`.
    deployer.py   ties them together: `deploy(...)` and `destroy(...)`, what the CLI calls.

Nothing is deleted by a deploy; a destroy deletes only what the record lists.
"""

from __future__ import annotations

from .deployer import DeployResult, deploy, destroy
from .record import lookup_deployment

__all__ = ["DeployResult", "deploy", "destroy", "lookup_deployment"]
