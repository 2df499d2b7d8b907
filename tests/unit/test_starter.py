"""Building execution inputs from registered models and starting them (one, or --all)."""

import json
import threading
import time
from datetime import datetime, timezone

import pytest

from smlift.errors import InputError, ModelRegistryError
from smlift.registry import APPROVED, LocalRegistry
from smlift.starter import (Target, build_input, default_scikit_image, execution_name, prepare,
                            start_all, start_model)
from smlift.store import Store

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-churn:1"
SCIKIT = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/smlift-sagemaker"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:smlift"


class FakeStepFunctions:
    """Records start_execution calls; tracks how many run at once."""

    def __init__(self, delay: float = 0.0, refuse: set[str] = frozenset()):
        self.calls, self.delay, self.refuse = [], delay, refuse
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()

    def start_execution(self, *, stateMachineArn, name, input):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            model = json.loads(input)["model_name"]
            if model in self.refuse:
                from smlift.errors import AwsError
                raise AwsError("ExecutionLimitExceeded: too many", code="ExecutionLimitExceeded")
            with self.lock:
                self.calls.append({"stateMachineArn": stateMachineArn, "name": name,
                                   "input": json.loads(input)})
            arn = stateMachineArn.replace(":stateMachine:", ":execution:") + ":" + name
            return {"executionArn": arn, "startDate": datetime(2026, 1, 2, tzinfo=timezone.utc)}
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def registry(tmp_path):
    return LocalRegistry(Store(tmp_path / "smlift.db"))


def target(side="aws", sfn=None, **defaults):
    return Target(side, MACHINE, ROLE, {"code_uri": "s3://deploy-bucket/smlift/code/abc/",
                                        "scikit_image_uri": SCIKIT, **defaults},
                  sfn or FakeStepFunctions())


def test_input_takes_image_from_version_and_role_code_from_deployment(registry):
    version = registry.register("churn", IMAGE)
    values = build_input(version, target(), "s3://data/in/churn/", "s3://data/out/churn/")
    assert values == {"input_uri": "s3://data/in/churn/", "output_uri": "s3://data/out/churn/",
                      "custom_image_uri": IMAGE, "role": ROLE, "model_name": "churn",
                      "code_uri": "s3://deploy-bucket/smlift/code/abc/", "scikit_image_uri": SCIKIT}


def test_version_settings_override_deployment_defaults(registry):
    version = registry.register("churn", IMAGE, settings={
        "code_uri": "s3://team/code/churn/", "instance_type": "ml.c5.2xlarge",
        "volume_size": 100, "max_runtime": 7200, "scikit_image_uri": "sagemaker-scikit-learn:1.2-1"})
    values = build_input(version, target(), "s3://data/in/", "s3://data/out/")
    assert values["code_uri"] == "s3://team/code/churn/"
    assert values["scikit_image_uri"] == "sagemaker-scikit-learn:1.2-1"
    assert (values["instance_type"], values["volume_size"], values["max_runtime"]) == (
        "ml.c5.2xlarge", 100, 7200)


def test_input_against_the_contract_names_the_field(registry):
    version = registry.register("churn", IMAGE)
    with pytest.raises(InputError) as info:
        build_input(version, target(), "data/in", "s3://data/out/")
    assert "execution input: input_uri: must be an s3:// URI" in str(info.value)
    assert "--input-uri" in str(info.value)


def test_missing_code_uri_says_deploy_or_register_with_code_uri(registry):
    version = registry.register("churn", IMAGE)
    with pytest.raises(InputError, match="code_uri.*smlift deploy"):
        build_input(version, target(code_uri=""), "s3://data/in/", "s3://data/out/")


def test_execution_names_are_unique_readable_and_at_most_80_chars():
    name = execution_name("churn", 3, now=1767225600, token="ab12")
    assert name == "churn-v3-20260101T000000-ab12"
    long = execution_name("m" * 63, 12, now=0, token="ffff")
    assert len(long) == 80 and long.endswith("-v12-19700101T000000-ffff")
    assert execution_name("churn", 1) != execution_name("churn", 1)


def test_start_on_aws_refuses_pending_then_runs_when_approved(registry):
    registry.register("churn", IMAGE)
    sfn = FakeStepFunctions()
    with pytest.raises(ModelRegistryError, match="only an Approved version runs on AWS"):
        start_model(registry, target(sfn=sfn), "churn", "s3://data/in/", "s3://data/out/")
    assert sfn.calls == []
    registry.set_status("churn", 1, APPROVED)
    started = start_model(registry, target(sfn=sfn), "churn", "s3://data/in/", "s3://data/out/",
                          execution="churn-run-1")
    assert started.execution_arn == ("arn:aws:states:eu-west-1:123456789012:execution:smlift:"
                                     "churn-run-1")
    assert started.start_date == "2026-01-02T00:00:00+00:00"
    assert sfn.calls == [{"stateMachineArn": MACHINE, "name": "churn-run-1",
                          "input": started.input}]


def test_allow_unapproved_runs_the_latest_version(registry):
    registry.register("churn", IMAGE)
    registry.register("churn", IMAGE + "b")
    started = start_model(registry, target(), "churn", "s3://data/in/", "s3://data/out/",
                          allow_unapproved=True)
    assert (started.version, started.input["custom_image_uri"]) == (2, IMAGE + "b")


def test_local_target_runs_unapproved_versions(registry):
    registry.register("churn", IMAGE)
    chosen, values = prepare(registry, target("local"), "churn", "s3://data/in/", "s3://data/out/")
    assert chosen.version == 1 and values["model_name"] == "churn"


def test_bad_execution_name_is_refused_before_starting(registry):
    registry.register("churn", IMAGE)
    sfn = FakeStepFunctions()
    with pytest.raises(InputError, match="execution name 'no spaces please'"):
        start_model(registry, target("local", sfn), "churn", "s3://data/in/", "s3://data/out/",
                    execution="no spaces please")
    assert sfn.calls == []


def test_start_all_starts_each_model_under_its_own_prefixes(registry):
    for name in ("alpha", "beta", "gamma"):
        registry.register(name, IMAGE)
        registry.set_status(name, 1, APPROVED)
    sfn, seen = FakeStepFunctions(), []
    results = start_all(registry, target(sfn=sfn), "s3://data/in", "s3://data/out/",
                        on_done=seen.append)
    assert [r.model for r in results] == ["alpha", "beta", "gamma"]
    assert all(r.execution_arn and not r.error for r in results)
    by_model = {c["input"]["model_name"]: c["input"] for c in sfn.calls}
    assert by_model["beta"]["input_uri"] == "s3://data/in/beta/"
    assert by_model["beta"]["output_uri"] == "s3://data/out/beta/"
    assert sorted(s.model for s in seen) == ["alpha", "beta", "gamma"]


def test_start_all_bounds_concurrency(registry):
    for index in range(6):
        registry.register(f"model-{index}", IMAGE)
    sfn = FakeStepFunctions(delay=0.1)
    results = start_all(registry, target("local", sfn), "s3://data/in/", "s3://data/out/",
                        max_concurrency=2)
    assert len(results) == 6 and len(sfn.calls) == 6
    assert sfn.max_in_flight == 2


def test_start_all_reports_each_failure_and_goes_on(registry):
    for name in ("alpha", "beta", "gamma"):
        registry.register(name, IMAGE)
    registry.set_status("alpha", 1, APPROVED)
    registry.set_status("gamma", 1, APPROVED)
    sfn = FakeStepFunctions(refuse={"gamma"})
    results = {r.model: r for r in start_all(registry, target(sfn=sfn), "s3://data/in/", "s3://data/out/")}
    assert results["alpha"].execution_arn
    assert "beta version 1 is PendingManualApproval" in results["beta"].error
    assert "ExecutionLimitExceeded" in results["gamma"].error
    assert [c["input"]["model_name"] for c in sfn.calls] == ["alpha"]


def test_start_all_refuses_a_zero_concurrency(registry):
    with pytest.raises(InputError, match="max-concurrency"):
        start_all(registry, target(), "s3://data/in/", "s3://data/out/", max_concurrency=0)


def test_default_scikit_image_is_the_regions_prebuilt_image():
    assert default_scikit_image("eu-west-1") == SCIKIT
    assert default_scikit_image("cn-north-1").endswith(".amazonaws.com.cn/sagemaker-scikit-learn:"
                                                       "1.4-2-cpu-py3")
    assert default_scikit_image("mars-east-1") is None
