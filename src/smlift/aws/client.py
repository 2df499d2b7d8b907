"""The one door to AWS: every boto3 call smlift makes goes through `AwsClient`.

Why one door: tests swap in moto (or a fake with the same methods), configuration is resolved in
one place, and botocore's exceptions become our own `AwsError` here, so a missing credential or a
missing bucket reaches the user as one line with the fix, never as a traceback.

Configuration, in order of precedence:
    region        --region (the `region` argument), AWS_REGION, AWS_DEFAULT_REGION, the profile
    profile       --profile (the `profile` argument), AWS_PROFILE
    endpoint_url  the `endpoint_url` argument, AWS_ENDPOINT_URL (e.g. a moto server on localhost);
                  botocore also honours the per-service AWS_ENDPOINT_URL_<SERVICE> variables

There is one method per AWS operation we use, named as boto3 names it, taking keyword arguments as
AWS spells them and returning boto3's response dict. The exceptions, each said in its docstring:
paginated listings return the merged list of items (Step Functions' execution listings keep
boto3's `{"events": ...}` and `{"executions": ...}`, as `LocalStepFunctions` answers), and
`get_object` returns its Body as bytes.

boto3 and botocore are imported lazily (inside methods), so importing this module is cheap.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from ..errors import AwsError, SmliftError

CREDENTIALS_FIX = ("configure credentials: `aws configure`, or set AWS_PROFILE, or set "
                   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
REGION_FIX = "pass --region us-east-1 (or your region), or set AWS_REGION"

# AWS error code -> what the user can do about it
_FIXES = {
    "AccessDenied": "grant the caller the missing permission named above (see iam/ and docs/aws.md)",
    "AccessDeniedException": "grant the caller the missing permission named above (see iam/ and docs/aws.md)",
    "UnauthorizedOperation": "grant the caller the missing permission named above",
    "ExpiredToken": "refresh your credentials (e.g. `aws sso login`)",
    "ExpiredTokenException": "refresh your credentials (e.g. `aws sso login`)",
    "InvalidClientTokenId": CREDENTIALS_FIX,
    "UnrecognizedClientException": CREDENTIALS_FIX,
    "SignatureDoesNotMatch": "check AWS_SECRET_ACCESS_KEY",
    "NoSuchBucket": "create the bucket first (`aws s3 mb s3://BUCKET`) or pass an existing --bucket",
    "DeleteConflict": "remove what someone else attached to it (policies, instance profiles), then run again",
    "404": "check the bucket and key",
    "403": "check that the bucket is yours and the caller may read it",
    "ExecutionNotRedrivable": "only a FAILED, ABORTED or TIMED_OUT execution that stopped less than 14 days ago can be redriven; start a new execution instead",
}


class AwsClient:
    """A thin, typed door to the AWS APIs smlift uses. `sleep` is injectable for waiting loops."""

    def __init__(self, session: Any = None, *, region: str | None = None,
                 profile: str | None = None, endpoint_url: str | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.session = session if session is not None else _new_session(profile)
        self.region = (region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                       or self.session.region_name)
        if not self.region:
            raise AwsError("no AWS region configured", where="region", fix=REGION_FIX)
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.sleep = sleep
        self._clients: dict[str, Any] = {}
        self._account_id: str | None = None

    # -- plumbing -------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """The boto3 client for `service`, created once (region and endpoint applied)."""
        if service not in self._clients:
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 5},
                            s3={"addressing_style": "path"} if self.endpoint_url else None)
            self._clients[service] = self.session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url, config=config)
        return self._clients[service]

    def call(self, service: str, operation: str, **kwargs: Any) -> dict:
        """Call one operation; every botocore failure becomes an `AwsError` with a fix."""
        import botocore.exceptions as bx

        try:
            response = getattr(self.client(service), operation)(**kwargs)
        except bx.ClientError as exc:
            raise _client_error(service, operation, exc) from None
        except bx.NoCredentialsError:
            raise AwsError("no AWS credentials found", where=f"{service}:{operation}",
                           fix=CREDENTIALS_FIX) from None
        except (bx.PartialCredentialsError, bx.CredentialRetrievalError, bx.SSOError) as exc:
            raise AwsError(f"AWS credentials unusable: {exc}", where=f"{service}:{operation}",
                           fix=CREDENTIALS_FIX) from None
        except bx.NoRegionError:
            raise AwsError("no AWS region configured", where="region", fix=REGION_FIX) from None
        except bx.EndpointConnectionError as exc:
            raise AwsError(f"cannot reach AWS: {exc}", where=f"{service}:{operation}",
                           fix="check your network, --region and AWS_ENDPOINT_URL") from None
        except bx.ParamValidationError as exc:
            raise AwsError(f"invalid request: {exc}", where=f"{service}:{operation}") from None
        except bx.BotoCoreError as exc:
            raise AwsError(f"AWS call failed: {exc}", where=f"{service}:{operation}") from None
        if isinstance(response, dict):
            response.pop("ResponseMetadata", None)
        return response

    def paginate(self, service: str, operation: str, key: str, **kwargs: Any) -> list:
        """All items under `key` across pages of a paginated operation."""
        items: list = []
        token_in, token_out = _PAGE_TOKENS.get((service, operation), ("NextToken", "NextToken"))
        while True:
            page = self.call(service, operation, **kwargs)
            items.extend(page.get(key, []))
            token = page.get(token_out)
            if not token or token == kwargs.get(token_in):
                return items
            kwargs[token_in] = token

    @property
    def account_id(self) -> str:
        """The caller's account id (sts:GetCallerIdentity, asked once)."""
        if self._account_id is None:
            self._account_id = self.call("sts", "get_caller_identity")["Account"]
        return self._account_id

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    # -- STS ------------------------------------------------------------------------------
    def get_caller_identity(self) -> dict:
        return self.call("sts", "get_caller_identity")

    # -- IAM ------------------------------------------------------------------------------
    def get_role(self, **kw: Any) -> dict:
        """`Role.AssumeRolePolicyDocument` comes back already parsed into a dict."""
        return self.call("iam", "get_role", **kw)

    def create_role(self, **kw: Any) -> dict:
        return self.call("iam", "create_role", **kw)

    def update_assume_role_policy(self, **kw: Any) -> dict:
        return self.call("iam", "update_assume_role_policy", **kw)

    def put_role_policy(self, **kw: Any) -> dict:
        return self.call("iam", "put_role_policy", **kw)

    def get_role_policy(self, **kw: Any) -> dict:
        """`PolicyDocument` comes back already parsed into a dict."""
        return self.call("iam", "get_role_policy", **kw)

    def list_role_policies(self, **kw: Any) -> list[str]:
        """Paginated: the inline policy names."""
        return self.paginate("iam", "list_role_policies", "PolicyNames", **kw)

    def delete_role_policy(self, **kw: Any) -> dict:
        return self.call("iam", "delete_role_policy", **kw)

    def delete_role(self, **kw: Any) -> dict:
        return self.call("iam", "delete_role", **kw)

    def tag_role(self, **kw: Any) -> dict:
        return self.call("iam", "tag_role", **kw)

    def list_role_tags(self, **kw: Any) -> list[dict]:
        """Paginated: the role's tags as [{"Key", "Value"}]."""
        return self.paginate("iam", "list_role_tags", "Tags", **kw)

    # -- S3 -------------------------------------------------------------------------------
    def head_bucket(self, **kw: Any) -> dict:
        return self.call("s3", "head_bucket", **kw)

    def create_bucket(self, **kw: Any) -> dict:
        """In us-east-1 AWS refuses a LocationConstraint; elsewhere we add the region's."""
        if self.region != "us-east-1" and "CreateBucketConfiguration" not in kw:
            kw["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        return self.call("s3", "create_bucket", **kw)

    def put_object(self, **kw: Any) -> dict:
        return self.call("s3", "put_object", **kw)

    def head_object(self, **kw: Any) -> dict:
        return self.call("s3", "head_object", **kw)

    def get_object(self, **kw: Any) -> dict:
        """The response, with `Body` read into bytes."""
        response = self.call("s3", "get_object", **kw)
        response["Body"] = response["Body"].read()
        return response

    def list_objects(self, **kw: Any) -> list[dict]:
        """Paginated ListObjectsV2: every object (`Key`, `Size`, `ETag`, ...) under `Prefix`."""
        return self.paginate("s3", "list_objects_v2", "Contents", **kw)

    def delete_object(self, **kw: Any) -> dict:
        return self.call("s3", "delete_object", **kw)

    # -- Step Functions -------------------------------------------------------------------
    def describe_state_machine(self, **kw: Any) -> dict:
        return self.call("stepfunctions", "describe_state_machine", **kw)

    def create_state_machine(self, **kw: Any) -> dict:
        return self.call("stepfunctions", "create_state_machine", **kw)

    def update_state_machine(self, **kw: Any) -> dict:
        """Pass publish=True (and versionDescription) to publish a version."""
        return self.call("stepfunctions", "update_state_machine", **kw)

    def list_state_machines(self, **kw: Any) -> list[dict]:
        """Paginated: every state machine summary."""
        return self.paginate("stepfunctions", "list_state_machines", "stateMachines", **kw)

    def list_state_machine_versions(self, **kw: Any) -> list[dict]:
        """Paginated: the published versions of one state machine, newest first."""
        return self.paginate("stepfunctions", "list_state_machine_versions",
                             "stateMachineVersions", **kw)

    def delete_state_machine(self, **kw: Any) -> dict:
        return self.call("stepfunctions", "delete_state_machine", **kw)

    def tag_resource(self, **kw: Any) -> dict:
        return self.call("stepfunctions", "tag_resource", **kw)

    def list_tags_for_resource(self, **kw: Any) -> list[dict]:
        """The state machine's tags as [{"key", "value"}]."""
        return self.call("stepfunctions", "list_tags_for_resource", **kw).get("tags", [])

    def start_execution(self, **kw: Any) -> dict:
        return self.call("stepfunctions", "start_execution", **kw)

    def describe_execution(self, **kw: Any) -> dict:
        return self.call("stepfunctions", "describe_execution", **kw)

    def get_execution_history(self, **kw: Any) -> dict:
        """Paginated: {"events": every history event, oldest first unless reverseOrder=True},
        the shape LocalStepFunctions answers in too."""
        return {"events": self.paginate("stepfunctions", "get_execution_history", "events", **kw)}

    def list_executions(self, **kw: Any) -> dict:
        """Paginated: {"executions": every execution summary of one state machine}, as
        LocalStepFunctions answers."""
        return {"executions": self.paginate("stepfunctions", "list_executions", "executions",
                                            **kw)}

    def stop_execution(self, **kw: Any) -> dict:
        return self.call("stepfunctions", "stop_execution", **kw)

    def redrive_execution(self, **kw: Any) -> dict:
        """RedriveExecution: {"redriveDate"}; ExecutionNotRedrivable and ExecutionDoesNotExist
        arrive as AwsError with that code, as LocalStepFunctions raises them."""
        return self.call("stepfunctions", "redrive_execution", **kw)

    # -- SageMaker Model Registry ---------------------------------------------------------
    def create_model_package_group(self, **kw: Any) -> dict:
        return self.call("sagemaker", "create_model_package_group", **kw)

    def describe_model_package_group(self, **kw: Any) -> dict:
        return self.call("sagemaker", "describe_model_package_group", **kw)

    def list_model_package_groups(self, **kw: Any) -> list[dict]:
        """Paginated: every model package group summary."""
        return self.paginate("sagemaker", "list_model_package_groups",
                             "ModelPackageGroupSummaryList", **kw)

    def delete_model_package_group(self, **kw: Any) -> dict:
        return self.call("sagemaker", "delete_model_package_group", **kw)

    def create_model_package(self, **kw: Any) -> dict:
        return self.call("sagemaker", "create_model_package", **kw)

    def describe_model_package(self, **kw: Any) -> dict:
        return self.call("sagemaker", "describe_model_package", **kw)

    def list_model_packages(self, **kw: Any) -> list[dict]:
        """Paginated: every model package summary (e.g. of one ModelPackageGroupName)."""
        return self.paginate("sagemaker", "list_model_packages", "ModelPackageSummaryList", **kw)

    def update_model_package(self, **kw: Any) -> dict:
        return self.call("sagemaker", "update_model_package", **kw)

    def delete_model_package(self, **kw: Any) -> dict:
        return self.call("sagemaker", "delete_model_package", **kw)

    # -- SageMaker hosting, its runtime and Application Auto Scaling (smlift.serving) ----
    def create_model(self, **kw: Any) -> dict:
        return self.call("sagemaker", "create_model", **kw)

    def describe_model(self, **kw: Any) -> dict:
        return self.call("sagemaker", "describe_model", **kw)

    def delete_model(self, **kw: Any) -> dict:
        return self.call("sagemaker", "delete_model", **kw)

    def list_models(self, **kw: Any) -> list[dict]:
        """Paginated: every item of Models."""
        return self.paginate("sagemaker", "list_models", "Models", **kw)

    def create_endpoint_config(self, **kw: Any) -> dict:
        return self.call("sagemaker", "create_endpoint_config", **kw)

    def describe_endpoint_config(self, **kw: Any) -> dict:
        return self.call("sagemaker", "describe_endpoint_config", **kw)

    def delete_endpoint_config(self, **kw: Any) -> dict:
        return self.call("sagemaker", "delete_endpoint_config", **kw)

    def list_endpoint_configs(self, **kw: Any) -> list[dict]:
        """Paginated: every item of EndpointConfigs."""
        return self.paginate("sagemaker", "list_endpoint_configs", "EndpointConfigs", **kw)

    def create_endpoint(self, **kw: Any) -> dict:
        return self.call("sagemaker", "create_endpoint", **kw)

    def update_endpoint(self, **kw: Any) -> dict:
        return self.call("sagemaker", "update_endpoint", **kw)

    def describe_endpoint(self, **kw: Any) -> dict:
        return self.call("sagemaker", "describe_endpoint", **kw)

    def delete_endpoint(self, **kw: Any) -> dict:
        return self.call("sagemaker", "delete_endpoint", **kw)

    def list_endpoints(self, **kw: Any) -> list[dict]:
        """Paginated: every item of Endpoints."""
        return self.paginate("sagemaker", "list_endpoints", "Endpoints", **kw)

    def list_tags(self, **kw: Any) -> list[dict]:
        """Paginated: every item of Tags."""
        return self.paginate("sagemaker", "list_tags", "Tags", **kw)

    def invoke_endpoint(self, **kw: Any) -> dict:
        return self.call("sagemaker-runtime", "invoke_endpoint", **kw)

    def invoke_endpoint_async(self, **kw: Any) -> dict:
        return self.call("sagemaker-runtime", "invoke_endpoint_async", **kw)

    def register_scalable_target(self, **kw: Any) -> dict:
        return self.call("application-autoscaling", "register_scalable_target", **kw)

    def describe_scalable_targets(self, **kw: Any) -> list[dict]:
        """Paginated: every item of ScalableTargets."""
        return self.paginate("application-autoscaling", "describe_scalable_targets", "ScalableTargets", **kw)

    def deregister_scalable_target(self, **kw: Any) -> dict:
        return self.call("application-autoscaling", "deregister_scalable_target", **kw)

    def put_scaling_policy(self, **kw: Any) -> dict:
        return self.call("application-autoscaling", "put_scaling_policy", **kw)

    def describe_scaling_policies(self, **kw: Any) -> list[dict]:
        """Paginated: every item of ScalingPolicies."""
        return self.paginate("application-autoscaling", "describe_scaling_policies", "ScalingPolicies", **kw)

    def delete_scaling_policy(self, **kw: Any) -> dict:
        return self.call("application-autoscaling", "delete_scaling_policy", **kw)

    def wait_endpoint_in_service(self, EndpointName: str, timeout: float = 1800,
                                 poll: float = 30) -> dict:
        """describe_endpoint until InService (a Failed endpoint is an AwsError with its reason)."""
        waited = 0.0
        while True:
            endpoint = self.describe_endpoint(EndpointName=EndpointName)
            status = endpoint.get("EndpointStatus")
            if status == "InService":
                return endpoint
            if status == "Failed" or waited >= timeout:
                raise AwsError(f"endpoint {EndpointName} is {status}: "
                               f"{endpoint.get('FailureReason', 'not InService in time')}",
                               where=EndpointName, fix="see its CloudWatch logs "
                               f"(/aws/sagemaker/Endpoints/{EndpointName})")
            self.sleep(poll)
            waited += poll

    # -- ECR ------------------------------------------------------------------------------
    def describe_repositories(self, **kw: Any) -> dict:
        return self.call("ecr", "describe_repositories", **kw)

    def create_repository(self, **kw: Any) -> dict:
        return self.call("ecr", "create_repository", **kw)

    def get_authorization_token(self, **kw: Any) -> dict:
        return self.call("ecr", "get_authorization_token", **kw)

    # -- CodeBuild ------------------------------------------------------------------------
    def create_project(self, **kw: Any) -> dict:
        return self.call("codebuild", "create_project", **kw)

    def start_build(self, **kw: Any) -> dict:
        return self.call("codebuild", "start_build", **kw)

    def batch_get_builds(self, **kw: Any) -> dict:
        return self.call("codebuild", "batch_get_builds", **kw)

    def stop_build(self, **kw: Any) -> dict:
        return self.call("codebuild", "stop_build", **kw)

    def delete_project(self, **kw: Any) -> dict:
        return self.call("codebuild", "delete_project", **kw)

    # -- CloudWatch Logs ------------------------------------------------------------------
    def get_log_events(self, **kw: Any) -> dict:
        """One page: `events` and `nextForwardToken` (pass it back as nextToken to follow)."""
        return self.call("logs", "get_log_events", **kw)

    def describe_log_streams(self, **kw: Any) -> list[dict]:
        """Paginated: every log stream of the group (e.g. logStreamNamePrefix="JOB/")."""
        return self.paginate("logs", "describe_log_streams", "logStreams", **kw)

    # -- SageMaker Processing ---------------------------------------------------------------
    def describe_processing_job(self, **kw: Any) -> dict:
        return self.call("sagemaker", "describe_processing_job", **kw)

    def list_processing_jobs(self, **kw: Any) -> dict:
        """One page: {"ProcessingJobSummaries", "NextToken"?}, as LocalProcessing answers."""
        return self.call("sagemaker", "list_processing_jobs", **kw)

    def stop_processing_job(self, **kw: Any) -> dict:
        return self.call("sagemaker", "stop_processing_job", **kw)


# (service, operation) -> (request token name, response token name), where not NextToken
_PAGE_TOKENS = {
    ("s3", "list_objects_v2"): ("ContinuationToken", "NextContinuationToken"),
    ("stepfunctions", "list_state_machines"): ("nextToken", "nextToken"),
    ("stepfunctions", "list_state_machine_versions"): ("nextToken", "nextToken"),
    ("stepfunctions", "get_execution_history"): ("nextToken", "nextToken"),
    ("stepfunctions", "list_executions"): ("nextToken", "nextToken"),
    ("logs", "describe_log_streams"): ("nextToken", "nextToken"),
    ("iam", "list_role_policies"): ("Marker", "Marker"),
    ("iam", "list_role_tags"): ("Marker", "Marker"),
}


def _new_session(profile: str | None) -> Any:
    import boto3
    import botocore.exceptions as bx

    try:
        return boto3.Session(profile_name=profile or os.environ.get("AWS_PROFILE") or None)
    except bx.ProfileNotFound as exc:
        raise AwsError(str(exc), where="profile",
                       fix="pass an existing --profile, or fix AWS_PROFILE (see `aws configure list-profiles`)") from None


def _client_error(service: str, operation: str, exc: Any) -> AwsError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    if (service, operation, code) == ("s3", "head_bucket", "404"):
        code, error = "NoSuchBucket", {"Message": "The specified bucket does not exist"}
    message = error.get("Message") or exc.response.get("ResponseMetadata", {}).get(
        "HTTPStatusCode", "") or code
    return AwsError(f"{code}: {message}", code=code, where=f"{service}:{operation}",
                    fix=_FIXES.get(code))


def is_not_found(error: AwsError) -> bool:
    """True for the codes AWS uses to say "no such thing" across the services we call."""
    return error.code in NOT_FOUND_CODES


NOT_FOUND_CODES = frozenset({
    "NoSuchEntity", "NoSuchBucket", "NoSuchKey", "404", "NotFound", "StateMachineDoesNotExist",
    "ResourceNotFoundException", "RepositoryNotFoundException", "ResourceNotFound",
    "ExecutionDoesNotExist",
})


def require_bucket(client, bucket: str, error: type[SmliftError]) -> None:
    """Nothing if `bucket` exists; `error` naming --bucket and how to create it if it does not
    (`DeployError` for deploy/destroy, `InputError` for a remote build); other AwsErrors as is."""
    try:
        client.head_bucket(Bucket=bucket)
    except AwsError as exc:
        if is_not_found(exc):
            raise error(f"bucket {bucket!r} does not exist", where="--bucket",
                        fix=f"create it (`aws s3 mb s3://{bucket}`) or pass an existing "
                        "--bucket") from None
        raise
