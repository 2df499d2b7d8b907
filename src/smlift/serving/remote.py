"""Endpoints on AWS: plan, then apply, as `smlift deploy` does (`smlift.aws.deploy.executor`).

`plan_endpoint` only reads (describe_endpoint, describe_model, describe_endpoint_config,
describe_scalable_targets) and returns a `Plan` of `AwsClient` calls; `--dry-run` prints that plan,
otherwise the deploy `Executor` applies it. For endpoint NAME and model version V:

    Model           NAME-vV: the version's image, the execution role      (create_model)
    EndpointConfig  NAME-vV: variant AllTraffic, instances or serverless,  (create_endpoint_config)
                    AsyncInferenceConfig for async
    Endpoint        NAME: created, or updated in place to the new config  (create_endpoint |
                    (UpdateEndpoint keeps the old fleet serving until the   update_endpoint)
                    new one is InService: no downtime)
    Scaling         realtime and async with --max-capacity: a scalable      (register_scalable_target,
                    target on the variant's DesiredInstanceCount and a       put_scaling_policy)
                    target-tracking policy on SageMakerVariantInvocationsPerInstance. AWS refuses
                    UpdateEndpoint on a variant that is a scalable target, so an update
                    deregisters first and registers again once the endpoint is InService.

Every Model and EndpointConfig deploy creates is tagged `smlift:endpoint=NAME`; `plan_delete`
removes the scalable target, the endpoint, and exactly the models and configs carrying that tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..aws.client import is_not_found
from ..aws.deploy.executor import DisplayOnlyExecutor, Executor
from ..aws.deploy.models import Plan, role_arn as iam_role_arn
from ..aws.deploy.models import resource_names as deployment_names
from ..errors import AwsError, InputError
from ..registry import ModelVersion, SageMakerRegistry, choose_version
from .local import parse_model
from .manifests import ASYNC, REALTIME, SERVERLESS, resource_names

TAG_ENDPOINT = "smlift:endpoint"
TAG_MODEL = "smlift:model"
VARIANT = "AllTraffic"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"


@dataclass(frozen=True)
class EndpointSpec:
    """What `smlift endpoints deploy` asks for."""

    name: str
    version: ModelVersion
    role_arn: str
    endpoint_type: str = REALTIME
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    min_capacity: int | None = None
    max_capacity: int | None = None
    target_invocations: float = 100.0   # invocations per instance per minute
    memory_mb: int = 2048
    max_concurrency: int = 5
    output_uri: str | None = None

    def check(self) -> "EndpointSpec":
        if self.endpoint_type == ASYNC and not self.output_uri:
            raise InputError("an async endpoint needs an S3 output path", where="--output-uri",
                             fix="pass --output-uri s3://BUCKET/PREFIX/")
        if self.max_capacity is not None and self.endpoint_type == SERVERLESS:
            raise InputError("serverless endpoints scale by themselves (MaxConcurrency)",
                             where="--max-capacity", fix="use --max-concurrency instead")
        low = self.min_capacity if self.min_capacity is not None else self.instance_count
        if self.max_capacity is not None and not 0 <= low <= self.max_capacity:
            raise InputError(f"--min-capacity {low} must be at most --max-capacity "
                             f"{self.max_capacity}", where="--min-capacity")
        return self

    @property
    def scaling_resource(self) -> str:
        return scaling_resource(self.name)


def scaling_resource(name: str) -> str:
    return f"endpoint/{name}/variant/{VARIANT}"


def _found(read, **kw) -> dict | None:
    try:
        return read(**kw)
    except AwsError as exc:
        if is_not_found(exc) or (exc.code == "ValidationException" and "Could not find" in exc.message):
            return None
        raise


def plan_endpoint(client, spec: EndpointSpec) -> Plan:
    """The calls that bring endpoint `spec.name` to `spec.version` (nothing when it is there)."""
    spec.check()
    names = resource_names(spec.name, spec.version)
    plan = Plan(action="deploy", name=spec.name, bucket="")
    tags = [{"Key": TAG_ENDPOINT, "Value": spec.name},
            {"Key": TAG_MODEL, "Value": f"{spec.version.name}:{spec.version.version}"}]
    current = _found(client.describe_endpoint, EndpointName=spec.name)
    if current is not None and current.get("EndpointConfigName") == names["endpoint_config"]:
        return plan
    if _found(client.describe_model, ModelName=names["model"]) is None:
        plan.add("create_model", f"create model {names['model']} ({spec.version.image_uri})",
                 ModelName=names["model"], ExecutionRoleArn=spec.role_arn, Tags=tags,
                 PrimaryContainer={"Image": spec.version.image_uri,
                                   "Environment": {"SAGEMAKER_BIND_TO_PORT": "8080"}})
    if _found(client.describe_endpoint_config, EndpointConfigName=names["endpoint_config"]) is None:
        plan.add("create_endpoint_config", f"create endpoint config {names['endpoint_config']} "
                 f"({spec.endpoint_type})", **endpoint_config_request(spec, names, tags))
    scaled = current is not None and bool(client.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[spec.scaling_resource]))
    if scaled:
        plan.add("deregister_scalable_target", f"deregister {spec.scaling_resource} from "
                 "autoscaling (AWS refuses UpdateEndpoint on a scalable target)",
                 ServiceNamespace="sagemaker", ResourceId=spec.scaling_resource,
                 ScalableDimension=SCALABLE_DIMENSION)
    if current is None:
        plan.add("create_endpoint", f"create endpoint {spec.name}", EndpointName=spec.name,
                 EndpointConfigName=names["endpoint_config"], Tags=tags)
    else:
        plan.add("update_endpoint", f"update endpoint {spec.name} in place: "
                 f"{current.get('EndpointConfigName')} -> {names['endpoint_config']}",
                 EndpointName=spec.name, EndpointConfigName=names["endpoint_config"])
    if spec.max_capacity is not None:
        add_scaling(plan, spec)
    return plan


def endpoint_config_request(spec: EndpointSpec, names: dict, tags: list) -> dict:
    variant: dict = {"VariantName": VARIANT, "ModelName": names["model"], "InitialVariantWeight": 1.0}
    if spec.endpoint_type == SERVERLESS:
        variant["ServerlessConfig"] = {"MemorySizeInMB": spec.memory_mb,
                                       "MaxConcurrency": spec.max_concurrency}
    else:
        variant.update(InstanceType=spec.instance_type, InitialInstanceCount=spec.instance_count)
    request = {"EndpointConfigName": names["endpoint_config"], "ProductionVariants": [variant],
               "Tags": tags}
    if spec.endpoint_type == ASYNC:
        request["AsyncInferenceConfig"] = {"OutputConfig": {"S3OutputPath": spec.output_uri}}
    return request


def add_scaling(plan: Plan, spec: EndpointSpec) -> None:
    low = spec.min_capacity if spec.min_capacity is not None else spec.instance_count
    plan.add("wait_endpoint_in_service", f"wait for endpoint {spec.name} to be InService "
             "(a scalable target must be)", EndpointName=spec.name)
    plan.add("register_scalable_target", f"autoscale {spec.scaling_resource} between {low} and "
             f"{spec.max_capacity} instances", ServiceNamespace="sagemaker",
             ResourceId=spec.scaling_resource, ScalableDimension=SCALABLE_DIMENSION,
             MinCapacity=low, MaxCapacity=spec.max_capacity)
    plan.add("put_scaling_policy", f"target tracking: {spec.target_invocations:g} invocations "
             "per instance per minute", PolicyName=f"{spec.name}-invocations",
             ServiceNamespace="sagemaker", ResourceId=spec.scaling_resource,
             ScalableDimension=SCALABLE_DIMENSION, PolicyType="TargetTrackingScaling",
             TargetTrackingScalingPolicyConfiguration={
                 "TargetValue": spec.target_invocations,
                 "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC},
                 "ScaleInCooldown": 300, "ScaleOutCooldown": 60})


def plan_delete(client, name: str) -> Plan:
    """The calls that remove endpoint `name` and exactly the models and configs deploy tagged."""
    plan = Plan(action="destroy", name=name, bucket="")
    resource = scaling_resource(name)
    if client.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource]):
        plan.add("deregister_scalable_target", f"deregister {resource} from autoscaling",
                 ServiceNamespace="sagemaker", ResourceId=resource,
                 ScalableDimension=SCALABLE_DIMENSION)
    if _found(client.describe_endpoint, EndpointName=name) is not None:
        plan.add("delete_endpoint", f"delete endpoint {name}", EndpointName=name)
    for config in client.list_endpoint_configs(NameContains=f"{name}-v"):
        if _made_for(client, config["EndpointConfigArn"], name):
            plan.add("delete_endpoint_config", f"delete endpoint config "
                     f"{config['EndpointConfigName']}",
                     EndpointConfigName=config["EndpointConfigName"])
    for model in client.list_models(NameContains=f"{name}-v"):
        if _made_for(client, model["ModelArn"], name):
            plan.add("delete_model", f"delete model {model['ModelName']}",
                     ModelName=model["ModelName"])
    return plan


def _made_for(client, arn: str, name: str) -> bool:
    return {"Key": TAG_ENDPOINT, "Value": name} in client.list_tags(ResourceArn=arn)


def invoke(client, name: str, body: bytes, content_type: str, accept: str | None = None) -> bytes:
    request = {"EndpointName": name, "Body": body, "ContentType": content_type,
               **({"Accept": accept} if accept else {})}
    return client.invoke_endpoint(**request)["Body"].read()


def invoke_async(client, name: str, input_location: str, content_type: str) -> dict:
    answer = client.invoke_endpoint_async(EndpointName=name, InputLocation=input_location,
                                          ContentType=content_type)
    return {"InferenceId": answer.get("InferenceId"), "OutputLocation": answer.get("OutputLocation")}


def default_role_arn(client, deployment: str = "smlift") -> str:
    """The SageMaker role `smlift deploy` made (its policy in iam/ covers hosting too)."""
    return iam_role_arn(client.partition, client.account_id, deployment_names(deployment)["sagemaker"])


def deploy_endpoint(client, registry, name: str, model: str, *, allow_unapproved: bool = False,
                    role_arn: str | None = None, dry_run: bool = False, echo=print,
                    **options) -> Plan:
    """Choose the version (Approved only unless allowed), plan, then apply or print the plan."""
    group, number = parse_model(model)
    version = choose_version(registry, group, number, require_approved=not allow_unapproved)
    spec = EndpointSpec(name=name, version=version,
                        role_arn=role_arn or default_role_arn(client), **options)
    plan = plan_endpoint(client, spec)
    (DisplayOnlyExecutor(echo) if dry_run else Executor(client, echo)).execute(plan)
    return plan


def delete_endpoint(client, name: str, *, dry_run: bool = False, echo=print) -> Plan:
    plan = plan_delete(client, name)
    (DisplayOnlyExecutor(echo) if dry_run else Executor(client, echo)).execute(plan)
    return plan


def calls_json(plan: Plan) -> list[dict]:
    """A plan's calls as the commands print them: operation, what it does, its parameters."""
    return [{"Operation": call.method, "Description": call.description,
             "Parameters": call.shown_params()} for call in plan.calls]


class AwsEndpoints:
    """SageMaker's endpoints through the one AWS door, with the methods of `LocalEndpoints`
    (the interface is drawn in `smlift.serving`)."""

    def __init__(self, client, registry=None):
        self.client = client
        self.registry = registry if registry is not None else SageMakerRegistry(client)

    def deploy(self, name: str, model: str, *, dry_run: bool = False, echo=print,
               allow_unapproved: bool = False, role_arn: str | None = None, **options) -> dict:
        """Plan, then apply (or only print the plan); the endpoint's description after it."""
        plan = deploy_endpoint(self.client, self.registry, name, model, dry_run=dry_run, echo=echo,
                               allow_unapproved=allow_unapproved, role_arn=role_arn, **options)
        result = {"EndpointName": name, "DryRun": dry_run, "Calls": calls_json(plan)}
        return result if dry_run else {**self.describe(name), **result}

    def invoke(self, name: str, body: bytes, content_type: str, accept: str | None = None) -> bytes:
        return invoke(self.client, name, body, content_type, accept)

    def invoke_async(self, name: str, input_location: str, content_type: str) -> dict:
        return invoke_async(self.client, name, input_location, content_type)

    def describe(self, name: str) -> dict:
        return self.client.describe_endpoint(EndpointName=name)

    def list(self) -> list[dict]:
        return self.client.list_endpoints()

    def delete(self, name: str, *, dry_run: bool = False, echo=print) -> dict:
        plan = delete_endpoint(self.client, name, dry_run=dry_run, echo=echo)
        return {"EndpointName": name, "DryRun": dry_run, "Calls": calls_json(plan)}
