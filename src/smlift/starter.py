"""Starting pipeline executions for registered models, on AWS or on the embedded default.

How an execution input is made (`build_input`), one flat value per field of the pipeline
contract (`smlift.pipeline.contract.PipelineInput`):

    input_uri, output_uri        given by the caller (start --all: PREFIX/<model>/)
    custom_image_uri             the model version's inference image
    code_uri, instance_type,     the version's settings when it has them, else the target's
    volume_size, max_runtime,    defaults (on AWS the deployment record's code_uri and the
    scikit_image_uri             region's scikit-learn image); instance_type, volume_size and
                                 max_runtime are left to the state machine's defaults when unset
    role                         the deployment's SageMaker execution role
    model_name                   the model's name

A `Target` is where executions run: the state machine ARN, the defaults above and a boto3-like
Step Functions object with `start_execution` (`AwsClient` on AWS, `LocalStepFunctions` locally).
`smlift.backend` makes it, for each side; this module never asks which side it has.

On AWS only an Approved version runs unless `allow_unapproved`; locally any version runs (the
latest Approved one, else the latest), since local runs are how a migration is proven before
approval. `start_all` starts one execution per registered model on a bounded thread pool and
reports each model's outcome, failures included, without stopping at the first.

The use cases of `smlift start` are `start` (one model) and `start_every` (every registered
model), on a `Backend`. An execution that runs in this process (the embedded default's) is
outlived: they return when it ends, and an interrupt (KeyboardInterrupt) stops it rather than
leave it RUNNING with no process behind it. Each returns one value: the `Started` execution(s).
"""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

from .asl.engine import check_name
from .backend import Backend, Target
from .errors import InputError, SmliftError
from .follow import stop_in_process, wait as wait_until_ended, wait_in_process
from .pipeline.contract import input_problems
from .registry import ModelRegistry, ModelVersion, choose_version

# settings that fall back to the target's defaults when the version has none
_FROM_TARGET = ("code_uri", "scikit_image_uri")
_INT_SETTINGS = ("volume_size", "max_runtime")


@dataclass(frozen=True)
class Started:
    """One model's outcome: the execution started, or the error that stopped it."""

    model: str
    version: int | None
    execution_arn: str | None = None
    start_date: str | None = None
    input: dict | None = None
    error: str | None = None
    ended: dict | None = None  # its final DescribeExecution, when `start(wait=True)` waited

    def to_dict(self) -> dict[str, Any]:
        """As printed: the execution fields spelled as StartExecution answers them."""
        names = {"execution_arn": "executionArn", "start_date": "startDate"}
        return {names.get(k, k): v for k, v in asdict(self).items()
                if v is not None and k != "ended"}


def build_input(version: ModelVersion, target: Target, input_uri: str,
                output_uri: str) -> dict[str, Any]:
    """The execution input for `version`, checked against the pipeline contract."""
    settings = version.pipeline_settings()
    values: dict[str, Any] = {
        "input_uri": input_uri, "output_uri": output_uri, "custom_image_uri": version.image_uri,
        "role": target.role, "model_name": version.name}
    for key in _FROM_TARGET:
        if settings.get(key) or target.defaults.get(key):
            values[key] = settings.get(key) or target.defaults[key]
    for key in ("instance_type", *_INT_SETTINGS):
        if key in settings:
            values[key] = int(settings[key]) if key in _INT_SETTINGS else settings[key]
    return check_input(values)


def check_input(values: dict[str, Any]) -> dict[str, Any]:
    """Check `values` against the pipeline contract; InputError names every bad field and how
    to fix it. Returns `values` unchanged (the state machine applies the defaults itself)."""
    problems = input_problems(values)
    if problems:
        text = "; ".join(f"{where}: {message}" if where else message
                         for where, message in problems)
        fixes = [_INPUT_FIXES[where] for where, _ in problems if where in _INPUT_FIXES]
        raise InputError(text, where="execution input",
                         fix="; ".join(fixes) or "correct the fields named")
    return values


_INPUT_FIXES = {
    "input_uri": "pass --input-uri s3://BUCKET/PREFIX/",
    "output_uri": "pass --output-uri s3://BUCKET/PREFIX/ outside the input and code prefixes",
    "code_uri": "deploy first (`smlift deploy`), or register the model with --code-uri",
    "scikit_image_uri": "register the model with --scikit-image-uri",
    "custom_image_uri": "register a version with a valid --image",
    "role": "deploy first (`smlift deploy`): it creates the SageMaker execution role",
    "instance_type": "register a version with a valid --instance-type such as ml.m5.xlarge",
    "model_name": "register the model under a name made of letters, digits and hyphens",
}


def execution_name(model: str, version: int, *, now: float | None = None,
                   token: str | None = None) -> str:
    """`MODEL-vN-YYYYmmddTHHMMSS-xxxx`, at most 80 characters (Step Functions' limit); unique,
    since the pipeline derives its intermediate prefixes from the execution name."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() if now is None else now))
    tail = f"-v{version}-{stamp}-{token or secrets.token_hex(2)}"
    return model[: 80 - len(tail)] + tail


def data_uris(target: Target, name: str, input_uri: str | None,
              output_uri: str | None) -> tuple[str, str]:
    """The given input/output URIs, else the deployment's prefixes joined with the model name
    (`smlift deploy --input-prefix/--output-prefix`, which its IAM policies are scoped to)."""
    return (input_uri or _join(_prefix(target, None, "input_prefix", "--input-uri"), name),
            output_uri or _join(_prefix(target, None, "output_prefix", "--output-uri"), name))


def _prefix(target: Target, given: str | None, key: str, flag: str) -> str:
    """`given`, else the deployment's prefix `key`, else an error asking for `flag`."""
    if given or target.prefixes.get(key):
        return given or target.prefixes[key]
    raise InputError("is required", where=flag, fix=f"pass {flag} s3://BUCKET/PREFIX/")


def prepare(registry: ModelRegistry, target: Target, name: str, input_uri: str | None = None,
            output_uri: str | None = None, *, version: int | None = None,
            allow_unapproved: bool = False) -> tuple[ModelVersion, dict]:
    """The version that would run and its execution input (what `smlift input` prints)."""
    input_uri, output_uri = data_uris(target, name, input_uri, output_uri)
    chosen = choose_version(registry, name, version,
                            require_approved=target.require_approved and not allow_unapproved)
    return chosen, build_input(chosen, target, input_uri, output_uri)


def start_model(registry: ModelRegistry, target: Target, name: str, input_uri: str | None = None,
                output_uri: str | None = None, *, version: int | None = None,
                allow_unapproved: bool = False, execution: str | None = None) -> Started:
    """Start one execution of model `name` (see the module docstring for the rules)."""
    chosen, values = prepare(registry, target, name, input_uri, output_uri, version=version,
                             allow_unapproved=allow_unapproved)
    exec_name = check_name(execution or execution_name(chosen.name, chosen.version))
    response = target.sfn.start_execution(stateMachineArn=target.state_machine_arn,
                                          name=exec_name, input=json.dumps(values))
    return Started(model=chosen.name, version=chosen.version,
                   execution_arn=response["executionArn"],
                   start_date=_iso(response.get("startDate")), input=values)


def start_all(registry: ModelRegistry, target: Target, input_prefix: str | None = None,
              output_prefix: str | None = None, *, allow_unapproved: bool = False,
              max_concurrency: int = 4,
              on_done: Callable[[Started], None] | None = None) -> list[Started]:
    """Start one execution per registered model (input_uri = INPUT_PREFIX/<model>/, output_uri =
    OUTPUT_PREFIX/<model>/; the prefixes default to the deployment's), at most `max_concurrency`
    at a time. Every model gets a `Started`, with `error` set when it could not start; `on_done`
    sees each as it completes."""
    if max_concurrency < 1:
        raise InputError("must be at least 1", where="--max-concurrency",
                         fix="pass --max-concurrency 4")
    input_prefix = _prefix(target, input_prefix, "input_prefix", "--input-prefix")
    output_prefix = _prefix(target, output_prefix, "output_prefix", "--output-prefix")
    _join(input_prefix, "model"), _join(output_prefix, "model")  # refuse a bad prefix up front
    names = [m.name for m in registry.list_models() if target.every_model or m.by_smlift]

    def one(name: str) -> Started:
        try:
            started = start_model(registry, target, name, _join(input_prefix, name),
                                  _join(output_prefix, name), allow_unapproved=allow_unapproved)
        except SmliftError as exc:
            started = Started(model=name, version=None, error=str(exc))
        if on_done:
            on_done(started)
        return started

    with ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="smlift-start") as pool:
        return list(pool.map(one, names))


def _join(prefix: str, name: str) -> str:
    if not prefix.startswith("s3://"):
        raise InputError(f"{prefix!r} must be an s3:// URI", where="--input-prefix/--output-prefix",
                         fix="pass s3://BUCKET/PREFIX/")
    return f"{prefix.rstrip('/')}/{name}/"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


# -- the use cases ------------------------------------------------------------------------------
def _ignore(value: Any) -> None:
    pass


def start(backend: Backend, name: str, input_uri: str | None = None,
          output_uri: str | None = None, *, version: int | None = None,
          allow_unapproved: bool = False, execution: str | None = None, wait: bool = False,
          on_started: Callable[[Started], None] = _ignore) -> Started:
    """Start one execution of model `name` on `backend`; `on_started` sees it as soon as it has
    started. With `wait`, the `Started` returned carries its final DescribeExecution (`ended`)."""
    started = start_model(backend.registry, backend.target, name, input_uri, output_uri,
                          version=version, allow_unapproved=allow_unapproved,
                          execution=execution)
    arns = [started.execution_arn]
    try:  # one handler from the start to the end of the wait: no gap for an interrupt
        on_started(started)
        wait_in_process(backend, arns)
    except KeyboardInterrupt:
        stop_in_process(backend, arns)
        raise
    if not wait:
        return started
    return replace(started, ended=wait_until_ended(backend, started.execution_arn))


def start_every(backend: Backend, input_prefix: str | None = None,
                output_prefix: str | None = None, *, allow_unapproved: bool = False,
                max_concurrency: int = 4, on_done: Callable[[Started], None] | None = None,
                on_started: Callable[[list[Started]], None] = _ignore) -> list[Started]:
    """Start one execution per registered model on `backend` (see `start_all`); `on_done` sees
    each model's outcome as it completes, `on_started` all of them. A model that could not start
    has `error` set; SmliftError when there is no model at all."""
    results = start_all(backend.registry, backend.target, input_prefix, output_prefix,
                        allow_unapproved=allow_unapproved, max_concurrency=max_concurrency,
                        on_done=on_done)
    arns = [r.execution_arn for r in results if not r.error]
    try:  # one handler from the start to the end of the wait, as for one model
        if not results:
            raise SmliftError("no registered model to start",
                              fix="register one with `smlift models register NAME --image URI`")
        on_started(results)
        wait_in_process(backend, arns)
    except KeyboardInterrupt:
        stop_in_process(backend, arns)
        raise
    return results
