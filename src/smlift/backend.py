"""The seam between the two sides: one `Backend`, built by `aws_backend` or `local_backend`.

Like httpx's transports, the two sides are two implementations of one interface, and the code
above them (starting, following, the CLI) never asks which one it has. A backend holds:

    sfn             a boto3-like Step Functions client: start_execution, describe_execution,
                    get_execution_history (-> {"events": [...]}), stop_execution, list_executions,
                    redrive_execution
                    (`AwsClient` on AWS, `LocalStepFunctions` on the embedded default)
    jobs            SageMaker Processing jobs: describe_processing_job, list_processing_jobs,
                    stop_processing_job, log_lines(name), follow_log(name)
                    (`AwsJobs` over CloudWatch Logs on AWS, `LocalProcessing` locally)
    registry        the model registry (SageMaker Model Registry, or the local one)
    endpoints       model endpoints: deploy, invoke, invoke_async, describe, list, delete
                    (`AwsEndpoints` on SageMaker, `LocalEndpoints` servers on this machine;
                    the interface is drawn in `smlift.serving`)
    target          the state machine executions start on, its role and input defaults
                    (`Target`): on AWS read from the deployment record, locally
                    the one `smlift-pipeline` created from the definition, as `smlift run` does
    poll_seconds    how often `wait` asks
    open_folder     an s3:// prefix as a local folder: in place on the embedded default's S3,
                    downloaded into a scratch folder from AWS (`fetch_result`: parity's baseline)
    runs_in_process whether executions run in threads of this process (locally: the process
                    must outlive them, and stop them when interrupted)

`jobs`, `registry`, `endpoints` and `target` are built on first use: following an execution
needs none of them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from .aws.client import AwsClient
from .aws.deploy import lookup_deployment
from .aws.jobs import AwsJobs
from .embedded.run import create_pipeline, LOCAL_CODE_URI, LOCAL_ROLE, read_definition
from .embedded.sfn import LocalStepFunctions
from .errors import AwsError, DeployError, InputError
from .layout import DEFINITION, SCRIPTS
from .local.home import smlift_home
from .local.s3 import LocalS3, sync_objects
from .prebuilt import default_scikit_image
from .processing.service import LocalProcessing
from .registry import LocalRegistry, ModelRegistry, SageMakerRegistry
from .serving import LocalEndpoints
from .serving.remote import AwsEndpoints


@dataclass
class Target:
    """Where executions run (made by `aws_target` or `local_target`)."""

    state_machine_arn: str
    role: str
    defaults: dict[str, str] = field(default_factory=dict)   # code_uri, scikit_image_uri
    sfn: Any = None                            # has start_execution(stateMachineArn, name, input)
    prefixes: dict[str, str] = field(default_factory=dict)   # input_prefix, output_prefix
    require_approved: bool = True              # only Approved versions run (AWS)
    every_model: bool = False                  # start --all: every model, not only smlift's


@dataclass
class Backend:
    """One side: where executions run and models are registered."""

    sfn: Any
    open_registry: Callable[[], ModelRegistry] = field(repr=False)
    open_target: Callable[[], Target] = field(repr=False)
    poll_seconds: float
    runs_in_process: bool
    unknown_hint: str = ""  # added to an AWS error: where else the execution was looked for
    open_jobs: Callable[[], Any] = field(default=lambda: None, repr=False)
    open_state_machine: Callable[[], str] = field(default=lambda: None, repr=False)
    open_folder: Callable[[str, Path], Path] = field(default=None, repr=False)
    open_endpoints: Callable[[], Any] = field(default=lambda: None, repr=False)

    @functools.cached_property
    def jobs(self) -> Any:
        return self.open_jobs()

    @functools.cached_property
    def endpoints(self) -> Any:
        return self.open_endpoints()

    def list_executions(self, state_machine_arn: str | None = None,
                        status: str | None = None) -> dict:
        """ListExecutions' answer; on AWS, without `state_machine_arn`, the deployment's."""
        arn = state_machine_arn or self.open_state_machine()
        options = {"statusFilter": status} if status else {}
        return self._ask(lambda: self.sfn.list_executions(stateMachineArn=arn, **options))

    def stop(self, arn: str, error: str | None = None, cause: str | None = None) -> dict:
        """StopExecution's answer ({"stopDate"})."""
        options = {k: v for k, v in (("error", error), ("cause", cause)) if v}
        return self._ask(lambda: self.sfn.stop_execution(executionArn=arn, **options))

    @functools.cached_property
    def registry(self) -> ModelRegistry:
        return self.open_registry()

    @functools.cached_property
    def target(self) -> Target:
        return self.open_target()

    def describe(self, arn: str) -> dict:
        """DescribeExecution's answer."""
        return self._ask(lambda: self.sfn.describe_execution(executionArn=arn))

    def redrive(self, arn: str, client_token: str | None = None) -> dict:
        """RedriveExecution's answer ({"redriveDate"}); the same call on both sides."""
        options = {"clientToken": client_token} if client_token else {}
        return self._ask(lambda: self.sfn.redrive_execution(executionArn=arn, **options))

    def history(self, arn: str) -> list[dict]:
        """Every history event, oldest first, as GetExecutionHistory returns them."""
        return self._ask(lambda: self.sfn.get_execution_history(executionArn=arn))["events"]

    def _ask(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except AwsError as exc:
            exc.message += self.unknown_hint
            raise


def open_backend(*, local: bool = False, region: str | None = None, profile: str | None = None,
                 deployment: str = "smlift", definition_path: str | Path = DEFINITION,
                 code_dir: str | Path = SCRIPTS, engine: str | None = None) -> Backend:
    """The backend a command's `--local/--region/--profile` options choose (`engine`: where
    local jobs and endpoint servers run)."""
    if local:
        return local_backend(definition_path=definition_path, code_dir=code_dir, engine=engine)
    return aws_backend(region=region, profile=profile, deployment=deployment)


# -- AWS ----------------------------------------------------------------------------------------
def aws_backend(client: Any = None, *, region: str | None = None, profile: str | None = None,
                deployment: str = "smlift", unknown_hint: str = "") -> Backend:
    """AWS through `client` (default: a new `AwsClient` for `region` and `profile`): the
    deployment's state machine, the SageMaker Model Registry, Approved versions only."""
    if client is None:
        client = AwsClient(region=region, profile=profile)
    return Backend(sfn=client, open_registry=lambda: SageMakerRegistry(client),
                   open_target=lambda: aws_target(client, deployment), poll_seconds=5.0,
                   runs_in_process=False, unknown_hint=unknown_hint,
                   open_jobs=lambda: AwsJobs(client),
                   open_state_machine=lambda: _deployed_machine(client, deployment),
                   open_folder=lambda uri, scratch: download_prefix(client, uri, scratch),
                   open_endpoints=lambda: AwsEndpoints(client))


def _deployed_machine(client: Any, deployment: str) -> str:
    """The state machine ARN `smlift deploy --name deployment` recorded."""
    try:
        return lookup_deployment(client, deployment)["state_machine_arn"]
    except DeployError as exc:
        exc.where = "--state-machine-arn"
        exc.fix = f"pass --state-machine-arn, or deploy first (`smlift deploy --name {deployment}`)"
        raise


def aws_target(client: Any, deployment: str = "smlift") -> Target:
    """The deployed state machine of `deployment`, its SageMaker role and code_uri."""
    try:
        record = lookup_deployment(client, deployment)
    except DeployError as exc:
        if exc.where == "--name":  # deploy's option; here the deployment is --deployment
            exc.where = "--deployment"
        raise
    role = record.get("roles", {}).get("sagemaker")
    if not role:
        raise DeployError(f"deployment {deployment!r} has no SageMaker execution role",
                          where="roles.sagemaker", fix=f"run `smlift deploy --name {deployment}`")
    defaults = {"code_uri": record.get("code_uri", "")}
    scikit = record.get("scikit_image_uri") or default_scikit_image(client.region)
    if scikit:
        defaults["scikit_image_uri"] = scikit
    # boto3 sessions are not thread-safe: make the clients start_all's threads use up front.
    client.client("stepfunctions")
    client.client("sagemaker")
    prefixes = {key: record[key] for key in ("input_prefix", "output_prefix") if record.get(key)}
    return Target(record["state_machine_arn"], role, defaults, client, prefixes,
                  require_approved=True, every_model=False)


# -- the embedded default -----------------------------------------------------------------------
def local_backend(home: Path | None = None, *, definition_path: str | Path = DEFINITION,
                  code_dir: str | Path = SCRIPTS, engine: str | None = None,
                  sfn: Any = None) -> Backend:
    """The embedded default under `home`: the local engine (jobs on `engine`), the local
    registry, any version runs (a local run is how a migration is proven before approval)."""
    sfn = sfn or LocalStepFunctions(home=home, engine=engine)
    return Backend(sfn=sfn, open_registry=lambda: LocalRegistry(sfn.store),
                   open_target=lambda: local_target(sfn, definition_path, code_dir, home),
                   poll_seconds=0.5, runs_in_process=True,
                   open_jobs=lambda: LocalProcessing(home, store=sfn.store),
                   open_folder=lambda uri, scratch: LocalS3(home).path_for(uri).resolve(),
                   open_endpoints=lambda: LocalEndpoints(home or smlift_home(), engine=engine,
                                                         registry=LocalRegistry(sfn.store)))


def local_target(sfn: Any, definition_path: str | Path = DEFINITION,
                 code_dir: str | Path = SCRIPTS, home: Path | None = None) -> Target:
    """The local engine, as a deploy would leave AWS: the pipeline's state machine created (or
    updated) from `definition_path`, and `code_dir` synced to LOCAL_CODE_URI when present."""
    definition = read_definition(Path(definition_path))
    if Path(code_dir).is_dir():
        sync_objects(LocalS3(home), str(code_dir), LOCAL_CODE_URI)
    arn = create_pipeline(sfn, definition)
    defaults = {"code_uri": LOCAL_CODE_URI, "scikit_image_uri": default_scikit_image("us-east-1")}
    return Target(arn, LOCAL_ROLE, defaults, sfn, require_approved=False, every_model=True)


# -- an execution's result files, as a local folder ----------------------------------------------
def fetch_result(backend: Backend, execution: str, scratch: Path) -> Path:
    """The result folder (`result_uri` of its output) of a succeeded `execution`, as a local
    folder whose parent holds the whole run (the intermediate outputs too): in place on the
    embedded default, downloaded under `scratch` from AWS."""
    described = backend.describe(execution)
    output = described.get("output")
    try:
        output = json.loads(output) if isinstance(output, str) else output
    except ValueError:
        output = None
    uri = output.get("result_uri") if isinstance(output, dict) else None
    if described.get("status") != "SUCCEEDED" or not isinstance(uri, str) or "/" not in uri[5:]:
        raise InputError(f"execution {described.get('name', execution)} did not publish a "
                         f"result (status {described.get('status')})", where=execution,
                         fix="pick a succeeded execution: smlift executions list")
    run_uri, _, result = uri.rstrip("/").rpartition("/")
    return backend.open_folder(run_uri + "/", Path(scratch) / described.get("name", "run")) / result


def download_prefix(client: Any, uri: str, folder: Path) -> Path:
    """Every object under the s3:// prefix `uri` into `folder`, keys relative to the prefix."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    folder = Path(folder)
    for item in client.list_objects(Bucket=bucket, Prefix=prefix):
        relative = PurePosixPath(item["Key"][len(prefix):])
        if not relative.parts or ".." in relative.parts or relative.is_absolute():
            continue  # a folder marker, or a key that would land outside the folder
        target = folder.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(client.get_object(Bucket=bucket, Key=item["Key"])["Body"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder
