"""For notebook users: the deployed state machine as a Step Functions Data Science SDK `Workflow`.

    from smlift.aws.notebook import attach
    workflow = attach("smlift")                  # the deployment's name (default "smlift")
    execution = workflow.execute(inputs=input_json)
    workflow.list_executions()
    execution.render_progress()

`stepfunctions` is an optional extra (`pip install 'smlift[notebook]'`, pinned to a set that
imports: it needs `sagemaker<3` and a setuptools that still ships `pkg_resources`). The core never
imports it; this module imports it only inside `attach`.
"""

from __future__ import annotations

from typing import Any

from ..errors import SmliftError
from .client import AwsClient
from .deploy import lookup_deployment

INSTALL_FIX = "pip install 'smlift[notebook]'"


def workflow_class() -> Any:
    """`stepfunctions.workflow.Workflow`, or a SmliftError saying how to install it."""
    try:
        from stepfunctions.workflow import Workflow
    except ImportError as exc:  # ModuleNotFoundError, or pkg_resources missing under it
        raise SmliftError(f"the Step Functions Data Science SDK cannot be imported ({exc})",
                          where="smlift.aws.notebook", fix=INSTALL_FIX) from None
    return Workflow


def attach(name: str = "smlift", *, client=None, region: str | None = None,
           profile: str | None = None) -> Any:
    """The `Workflow` of deployment `name`'s state machine, on the Step Functions client of
    `client` (an `AwsClient`; default: a new one honouring AWS_PROFILE, AWS_REGION and
    AWS_ENDPOINT_URL)."""
    workflow = workflow_class()
    if client is None:
        client = AwsClient(region=region, profile=profile)

    arn = lookup_deployment(client, name)["state_machine_arn"]
    return workflow.attach(arn, client=client.client("stepfunctions"))
