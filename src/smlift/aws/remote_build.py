"""`smlift build DIR --remote`: build and push an image on AWS CodeBuild, like `sm-docker build .`.

For users with no Docker engine (SageMaker Studio, a locked-down laptop). The steps, each one
`AwsClient` call or a few:

    1. zip the build context, honouring .dockerignore (smlift.dockerignore: Docker's own rules)
    2. upload the zip to s3://BUCKET/smlift/build/PROJECT.zip
    3. create the ECR repository when it is missing (default `sagemaker-<folder>`: the managed
       SageMaker policies scope their ECR permissions to `sagemaker`-prefixed repositories)
    4. create a temporary CodeBuild project: a current standard image, privileged mode (Docker
       inside), the role, optional VPC, and a buildspec that logs in with
       `aws ecr get-login-password | docker login --password-stdin` (never the removed
       `aws ecr get-login`), builds (with sm-docker's `--file` and `--build-arg`, handed to
       `docker build` as sm-docker's buildspec does, but shell-quoted), tags and pushes
    5. start the build, stream its CloudWatch log (unless no_logs), poll until it ends
       (the injectable `client.sleep` paces the polling)
    6. always delete the project and the zip, whether the build succeeded, failed or was interrupted

The role must be assumable by codebuild.amazonaws.com (see iam/ and docs/building.md); by default
the image-build role `smlift deploy` created (`smlift-image-build`) is used, with the bucket of
that deployment (the one its policy lets CodeBuild read); else the SageMaker default bucket.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from ..dockerignore import context_files
from ..errors import AwsError, ImageError, InputError
from ..names import BUILD_CONTEXT_PREFIX, BUILD_PROJECT_PREFIX
from .client import AwsClient, require_bucket

BUILD_IMAGE = "aws/codebuild/standard:7.0"   # Ubuntu 22.04, Docker 2x; a supported curated image
DEFAULT_COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE",
                 "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE")
DEFAULT_ROLE_NAME = "smlift-image-build"
TERMINAL = ("SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED")
POLL_SECONDS = 5.0
_ECR_BASE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/")

BUILDSPEC = """\
version: 0.2
phases:
  pre_build:
    on-failure: ABORT
    commands:
      - echo Logging in to Amazon ECR $ECR_REGISTRY
      - aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS --password-stdin $ECR_REGISTRY
{base_logins}  build:
    on-failure: ABORT
    commands:
      - echo Build started on `date`
      - {docker_build}
      - docker tag $IMAGE_REPO_NAME:$IMAGE_TAG $ECR_REGISTRY/$IMAGE_REPO_NAME:$IMAGE_TAG
  post_build:
    commands:
      - test "$CODEBUILD_BUILD_SUCCEEDING" = 1
      - docker push $ECR_REGISTRY/$IMAGE_REPO_NAME:$IMAGE_TAG
      - echo Pushed $ECR_REGISTRY/$IMAGE_REPO_NAME:$IMAGE_TAG
"""
_BASE_LOGIN = ("      - aws ecr get-login-password --region {region} | docker login --username AWS "
               "--password-stdin {registry}\n")


def build_remote(context_dir, *, tag: str | None = None, repository: str | None = None,
                 role: str | None = None, bucket: str | None = None, vpc_id: str | None = None,
                 subnet_ids=None, security_group_ids=None, compute_type: str | None = None,
                 no_logs: bool = False, dockerfile: str | None = None, build_args=(),
                 echo: Callable[[str], None] = print, client=None) -> str:
    """Build `context_dir` on CodeBuild, push it to ECR and return the image URI.

    `dockerfile`: a Dockerfile other than CONTEXT/Dockerfile (relative to the current folder, as
    `docker build --file` takes it; it must be inside the context). `build_args`: "KEY=VALUE"
    strings, as `docker build --build-arg` takes them."""
    context = _check_context(Path(context_dir))
    dockerfile_rel = dockerfile_in_context(context, dockerfile)
    args = parse_build_args(build_args)
    repository, tag = _repository_and_tag(repository, tag, context)
    subnets, groups = _split(subnet_ids), _split(security_group_ids)
    _check_options(compute_type, vpc_id, subnets, groups)

    if client is None:
        client = AwsClient()
    role_arn, role_bucket = _resolve_role(client, role)
    bucket = bucket or role_bucket or default_bucket(client)
    require_bucket(client, bucket, InputError)
    registry = ecr_registry(client)
    image_uri = f"{registry}/{repository}:{tag}"
    project = f"{BUILD_PROJECT_PREFIX}{_slug(repository)}-{secrets.token_hex(4)}"
    key = f"{BUILD_CONTEXT_PREFIX}{project}.zip"
    with tempfile.TemporaryDirectory(prefix="smlift-build-") as tmp:
        archive = Path(tmp) / "context.zip"
        count = zip_context(context, archive, dockerfile_rel)
        echo(f"Uploading the build context ({count} files) to s3://{bucket}/{key}")
        try:
            with archive.open("rb") as body:
                client.put_object(Bucket=bucket, Key=key, Body=body)
            ensure_repository(client, repository, echo)
            if dockerfile_rel != "Dockerfile" or args:  # names only: values may be private
                echo(f"Dockerfile {dockerfile_rel}"
                     + (f", build arguments {', '.join(args)}" if args else ""))
            spec = buildspec(base_registries(context, client.region, dockerfile_rel, args),
                             docker_build_command(dockerfile_rel, args))
            _create_project(client, project, f"{bucket}/{key}", spec, role_arn, registry,
                            repository, tag, compute_type, vpc_id, subnets, groups)
            build = _run_build(client, project, no_logs, echo)
        finally:
            _cleanup(client, project, bucket, key, echo)
    _check_result(build, client, project)
    echo(f"Image: {image_uri}")
    return image_uri


# -- inputs ----------------------------------------------------------------------------------
def _check_context(context: Path) -> Path:
    if not context.is_dir():
        raise InputError(f"build context {str(context)!r} is not a folder", where="DIR",
                         fix="pass the folder that holds the Dockerfile, e.g. containers/inference")
    return context.resolve()


def dockerfile_in_context(context: Path, dockerfile: str | None) -> str:
    """The Dockerfile's path relative to the context (sm-docker, too, refuses one outside it)."""
    if dockerfile is None:
        if not (context / "Dockerfile").is_file():
            raise InputError("no Dockerfile in the build context", where=str(context / "Dockerfile"),
                             fix="run from, or pass, the folder that holds the Dockerfile "
                                 "(or name another with --file)")
        return "Dockerfile"
    path = Path(dockerfile).resolve()
    if not path.is_file():
        raise InputError(f"no such Dockerfile {dockerfile!r}", where="--file",
                         fix="give its path from the current folder, as `docker build --file` "
                             f"takes it, e.g. {Path(context.name) / Path(dockerfile).name}")
    if not path.is_relative_to(context):
        raise InputError(f"the Dockerfile {dockerfile!r} is outside the build context {context}",
                         where="--file", fix="move it into the build context (CodeBuild receives "
                                             "only the context), or build from a folder holding both")
    return path.relative_to(context).as_posix()


_BUILD_ARG = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def parse_build_args(build_args) -> dict[str, str]:
    """`["KEY=VALUE", ...]` (or a mapping) -> {KEY: VALUE}, in order; InputError on a bad one."""
    if isinstance(build_args, dict):
        build_args = [f"{key}={value}" for key, value in build_args.items()]
    parsed: dict[str, str] = {}
    for item in build_args or ():
        match = _BUILD_ARG.match(item)
        if match is None:
            raise InputError(f"--build-arg {item!r} is not KEY=VALUE", where="--build-arg",
                             fix="write --build-arg NAME=value (NAME: letters, digits, _); the "
                                 "build runs on CodeBuild, so a bare NAME would take nothing")
        parsed[match[1]] = match[2]
    return parsed


def docker_build_command(dockerfile_rel: str, build_args: dict[str, str]) -> str:
    """The buildspec's `docker build` line: sm-docker's, with every argument shell-quoted."""
    words = ["docker", "build", "-t", "$IMAGE_REPO_NAME:$IMAGE_TAG"]
    if dockerfile_rel != "Dockerfile":
        words += ["--file", shlex.quote(dockerfile_rel)]
    for key, value in build_args.items():
        words += ["--build-arg", shlex.quote(f"{key}={value}")]
    command = " ".join(words + ["."])
    return command if len(words) == 4 else json.dumps(command)  # a YAML double-quoted scalar


def default_repository(context: Path) -> str:
    """`sagemaker-<folder>`: inside the ECR scope of the managed SageMaker policies."""
    return f"sagemaker-{_slug(context.resolve().name) or 'image'}"


def _repository_and_tag(repository: str | None, tag: str | None, context: Path) -> tuple[str, str]:
    repository = repository or default_repository(context)
    if ":" in repository:  # sm-docker accepts --repository NAME:TAG, and that tag wins
        repository, _, tag = repository.rpartition(":")
    elif tag and ":" in tag:  # a local-style NAME:TAG: only its TAG part applies to ECR
        tag = tag.rpartition(":")[2]
    tag = tag or "latest"
    if not re.fullmatch(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*", repository) \
            or len(repository) > 256:
        raise InputError(f"invalid ECR repository name {repository!r}", where="--repository",
                         fix="use lowercase letters, digits, and . _ - / between them "
                         "(e.g. sagemaker-inference)")
    if not re.fullmatch(r"[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}", tag):
        raise InputError(f"invalid image tag {tag!r}", where="--tag",
                         fix="use letters, digits, _ . - (at most 128, not starting with . or -)")
    return repository, tag


def _split(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [item.strip() for item in value if item and item.strip()]


def _check_options(compute_type, vpc_id, subnets, groups) -> None:
    if compute_type and compute_type not in COMPUTE_TYPES:
        raise InputError(f"unknown compute type {compute_type!r}", where="--compute-type",
                         fix="use one of " + ", ".join(COMPUTE_TYPES))
    if vpc_id and not (subnets and groups):
        raise InputError("--vpc-id needs --subnet-ids and --security-group-ids", where="--vpc-id",
                         fix="pass the subnets and security groups the build should run in")
    if (subnets or groups) and not vpc_id:
        raise InputError("--subnet-ids and --security-group-ids need --vpc-id", where="--vpc-id",
                         fix="pass the --vpc-id they belong to")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def default_bucket(client) -> str:
    """The SageMaker default bucket name, `sagemaker-<region>-<account>`."""
    return f"sagemaker-{client.region}-{client.account_id}"


def _resolve_role(client, role: str | None) -> tuple[str, str | None]:
    """The role's ARN and, for the role `smlift deploy` made, its deployment's bucket (the
    bucket that role may read build contexts from)."""
    if role and role.startswith("arn:"):
        return role, None
    name = role or DEFAULT_ROLE_NAME
    try:
        found = client.get_role(RoleName=name)["Role"]
    except AwsError as exc:
        if exc.code == "NoSuchEntity":
            raise InputError(f"IAM role {name!r} does not exist", where="--role",
                             fix="pass --role with a role CodeBuild may assume (iam/ has its "
                             "policies), or run `smlift deploy`, which creates smlift-image-build"
                             ) from None
        raise
    tags = {tag["Key"]: tag["Value"] for tag in found.get("Tags", [])}
    return found["Arn"], tags.get("smlift:bucket")


def ecr_registry(client) -> str:
    suffix = ".cn" if client.region.startswith("cn-") else ""
    return f"{client.account_id}.dkr.ecr.{client.region}.amazonaws.com{suffix}"


# -- the build context -----------------------------------------------------------------------
def zip_context(context: Path, archive: Path, dockerfile: str = "Dockerfile") -> int:
    """Zip every file Docker would send (honouring .dockerignore); return the file count."""
    count = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, rel in context_files(context, dockerfile):
            info = zipfile.ZipInfo.from_file(path, rel)
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as src, zf.open(info, "w") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            count += 1
    return count


def base_registries(context: Path, region: str, dockerfile: str = "Dockerfile",
                    build_args: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(registry, region) of every ECR image the Dockerfile builds FROM: they need a login too."""
    from dockerfile_parse import DockerfileParser

    with (context / dockerfile).open("rb") as source:  # any file name (path= wants a folder)
        parser = DockerfileParser(fileobj=source, build_args=build_args or {})
        images = parser.parent_images
    found = []
    for image in images:
        match = _ECR_BASE.match(image or "")
        if match:
            registry = image.split("/", 1)[0]
            if (registry, match.group(2)) not in found:
                found.append((registry, match.group(2)))
    return found


def buildspec(base: list[tuple[str, str]],
              docker_build: str = "docker build -t $IMAGE_REPO_NAME:$IMAGE_TAG .") -> str:
    logins = "".join(_BASE_LOGIN.format(region=r, registry=reg) for reg, r in base)
    return BUILDSPEC.format(base_logins=logins, docker_build=docker_build)


# -- AWS -------------------------------------------------------------------------------------
def ensure_repository(client, repository: str, echo: Callable[[str], None]) -> None:
    try:
        client.describe_repositories(repositoryNames=[repository])
    except AwsError as exc:
        if exc.code != "RepositoryNotFoundException":
            raise
        echo(f"Creating ECR repository {repository}")
        client.create_repository(repositoryName=repository,
                                 imageScanningConfiguration={"scanOnPush": True})


def _create_project(client, project, location, spec, role_arn, registry, repository, tag,
                    compute_type, vpc_id, subnets, groups) -> None:
    variables = {"AWS_DEFAULT_REGION": client.region, "AWS_ACCOUNT_ID": client.account_id,
                 "ECR_REGISTRY": registry, "IMAGE_REPO_NAME": repository, "IMAGE_TAG": tag}
    params = dict(
        name=project, description="temporary smlift remote image build (deleted afterwards)",
        source={"type": "S3", "location": location, "buildspec": spec},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": BUILD_IMAGE,
                     "computeType": compute_type or DEFAULT_COMPUTE_TYPE, "privilegedMode": True,
                     "environmentVariables": [{"name": k, "value": v, "type": "PLAINTEXT"}
                                              for k, v in variables.items()]},
        serviceRole=role_arn, timeoutInMinutes=60,
        logsConfig={"cloudWatchLogs": {"status": "ENABLED"}},
        tags=[{"key": "smlift:temporary", "value": "remote-build"}])
    if vpc_id:
        params["vpcConfig"] = {"vpcId": vpc_id, "subnets": subnets, "securityGroupIds": groups}
    client.create_project(**params)


def _run_build(client, project: str, no_logs: bool, echo: Callable[[str], None]) -> dict:
    build = client.start_build(projectName=project)["build"]
    echo(f"Started build {build['id']}")
    follower = None if no_logs else LogFollower(client, project, build["id"], echo)
    try:
        return _wait_for_build(client, build, follower)
    except BaseException:  # interrupted (Ctrl-C) or failed while waiting: stop the build first
        try:
            client.stop_build(id=build["id"])
        except AwsError:
            pass
        raise


def _wait_for_build(client, build: dict, follower: "LogFollower | None") -> dict:
    while True:
        build = client.batch_get_builds(ids=[build["id"]])["builds"][0]
        if follower:
            follower.poll(build)
        if build.get("buildStatus") in TERMINAL:
            if follower:
                follower.poll(build)  # the last lines
            return build
        client.sleep(POLL_SECONDS)


class LogFollower:
    """Prints new CloudWatch log lines of a build; quiet until the log stream exists."""

    def __init__(self, client, project: str, build_id: str, echo: Callable[[str], None]):
        self.client, self.echo, self.token = client, echo, None
        self.group = f"/aws/codebuild/{project}"
        self.stream = build_id.split(":", 1)[-1]

    def poll(self, build: dict) -> None:
        logs = build.get("logs") or {}
        self.group = logs.get("groupName") or self.group
        self.stream = logs.get("streamName") or self.stream
        while True:
            params = {"logGroupName": self.group, "logStreamName": self.stream,
                      "startFromHead": True}
            if self.token:
                params["nextToken"] = self.token
            try:
                page = self.client.get_log_events(**params)
            except AwsError as exc:
                if exc.code == "ResourceNotFoundException":
                    return  # the stream appears once the build container starts
                raise
            for event in page.get("events", []):
                self.echo(event["message"].rstrip("\n"))
            token = page.get("nextForwardToken")
            if not page.get("events") or token == self.token:
                self.token = token or self.token
                return
            self.token = token


def _cleanup(client, project: str, bucket: str, key: str, echo: Callable[[str], None]) -> None:
    for what, call, params in (
            (f"CodeBuild project {project}", client.delete_project, {"name": project}),
            (f"s3://{bucket}/{key}", client.delete_object, {"Bucket": bucket, "Key": key})):
        try:
            call(**params)
        except AwsError as exc:
            echo(f"warning: could not delete {what}: {exc}")


def _check_result(build: dict, client, project: str) -> None:
    status = build.get("buildStatus")
    if status == "SUCCEEDED":
        return
    failed = next((phase for phase in build.get("phases", [])
                   if phase.get("phaseStatus") not in (None, "SUCCEEDED")), {})
    detail = "; ".join(ctx.get("message", "") for ctx in failed.get("contexts", []) if ctx)
    phase = failed.get("phaseType") or build.get("currentPhase")
    raise ImageError(f"remote build {status} in phase {phase}" + (f": {detail}" if detail else ""),
                     where=build.get("id", project),
                     fix=f"read the build log (CloudWatch group /aws/codebuild/{project}); "
                         "fix the Dockerfile or the role's permissions, then build again")
