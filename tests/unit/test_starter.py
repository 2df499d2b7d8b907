"""Building execution inputs from registered models and starting them (one, or --all)."""

import json
import threading
from datetime import datetime, timezone

import pytest

from smlift.errors import InputError, ModelRegistryError
from smlift.registry import APPROVED, LocalRegistry
from smlift.prebuilt import default_scikit_image
from smlift.starter import Target, build_input, execution_name, prepare, start_all, start_model
from smlift.local.store import Store

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-churn:1"
SCIKIT = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
OTHER_SCIKIT = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/smlift-sagemaker"
MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:smlift"


class FakeStepFunctions:
    """Records start_execution calls; tracks how many run at once."""

    def __init__(self, gather: int = 1, refuse: set[str] = frozenset()):
        self.calls, self.gather, self.refuse = [], gather, refuse
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Condition()

    def start_execution(self, *, stateMachineArn, name, input):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.lock.notify_all()
            # hold the first calls until `gather` have been in flight at once (at most 5 s)
            self.lock.wait_for(lambda: self.max_in_flight >= self.gather, timeout=5)
        try:
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
    """A target as `smlift.backend` makes them: AWS's rules, or (side "local") the local ones."""
    return Target(MACHINE, ROLE, {"code_uri": "s3://deploy-bucket/smlift/code/abc/",
                                  "scikit_image_uri": SCIKIT, **defaults},
                  sfn or FakeStepFunctions(), require_approved=side == "aws",
                  every_model=side == "local")


def test_input_takes_image_from_version_and_role_code_from_deployment(registry):
    version = registry.register("churn", IMAGE)
    values = build_input(version, target(), "s3://data/in/churn/", "s3://data/out/churn/")
    assert values == {"input_uri": "s3://data/in/churn/", "output_uri": "s3://data/out/churn/",
                      "custom_image_uri": IMAGE, "role": ROLE, "model_name": "churn",
                      "code_uri": "s3://deploy-bucket/smlift/code/abc/", "scikit_image_uri": SCIKIT}


def test_version_settings_override_deployment_defaults(registry):
    version = registry.register("churn", IMAGE, settings={
        "code_uri": "s3://team/code/churn/", "instance_type": "ml.c5.2xlarge",
        "volume_size": 100, "max_runtime": 7200, "scikit_image_uri": OTHER_SCIKIT})
    values = build_input(version, target(), "s3://data/in/", "s3://data/out/")
    assert values["code_uri"] == "s3://team/code/churn/"
    assert values["scikit_image_uri"] == OTHER_SCIKIT
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
    with pytest.raises(InputError, match="Invalid Name: 'no spaces please'"):
        start_model(registry, target("local", sfn), "churn", "s3://data/in/", "s3://data/out/",
                    execution="no spaces please")
    assert sfn.calls == []


def test_start_takes_the_names_aws_takes_as_run_does(registry):
    registry.register("churn", IMAGE)
    sfn = FakeStepFunctions()
    started = start_model(registry, target("local", sfn), "churn", "s3://data/in/",
                          "s3://data/out/", execution="run(1)")
    assert started.execution_arn.endswith(":run(1)") and sfn.calls[0]["name"] == "run(1)"


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
    sfn = FakeStepFunctions(gather=2)  # each call waits for a second one in flight
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


# -- on the real local engine (a small definition; no processing jobs) --------------------------
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True, "Parameters": {
    "image.$": "$.custom_image_uri", "model.$": "$.model_name", "out.$": "$.output_uri",
    "code.$": "$.code_uri"}}}}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project root with a small definition and a scripts/ folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine" / "definition.asl.json").write_text(json.dumps(ECHO))
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "preprocessing.py").write_text("print('pre')\n")
    return tmp_path


def test_start_local_runs_the_local_engine_with_the_local_registry(project, run_cli):
    assert run_cli("models", "register", "churn", "--image", "sagemaker-churn:1",
                   "--local")[0] == 0
    code, out, err = run_cli("start", "churn", "--input-uri", "s3://data/in/",
                             "--output-uri", "s3://data/out/", "--local", "--wait")
    assert code == 0, err
    final = json.loads(out)  # one document: the ended execution, with what start chose
    arn = final["executionArn"]
    assert (final["status"], final["model"], final["version"]) == ("SUCCEEDED", "churn", 1)
    assert json.loads(final["output"]) == {"image": "sagemaker-churn:1", "model": "churn",
                                           "out": "s3://data/out/",
                                           "code": "s3://smlift-local/smlift/code/"}
    from smlift.local.s3 import LocalS3

    assert LocalS3().list_keys("s3://smlift-local/smlift/code/") == [
        "s3://smlift-local/smlift/code/preprocessing.py"]
    code, out, _ = run_cli("status", arn)
    assert code == 0 and json.loads(out)["status"] == "SUCCEEDED"
    code, out, _ = run_cli("history", arn)
    assert code == 0 and "PassStateEntered" in out and "ExecutionSucceeded" in out


def test_start_all_local_runs_one_execution_per_model(project, run_cli):
    for name in ("alpha", "beta", "gamma"):
        run_cli("models", "register", name, "--image", f"sagemaker-{name}:1", "--local")
    code, out, err = run_cli("start", "--all", "--local", "--input-prefix", "s3://data/in/",
                             "--output-prefix", "s3://data/out/", "--max-concurrency", "2")
    assert code == 0, err
    from smlift.follow import locate, wait

    outputs = {}
    for started in json.loads(out):
        arn = started["executionArn"]
        final = wait(locate(arn), arn, timeout=30, poll=0.05)
        assert final["status"] == "SUCCEEDED"
        outputs[started["model"]] = json.loads(final["output"])["out"]
    assert outputs == {"alpha": "s3://data/out/alpha/", "beta": "s3://data/out/beta/",
                       "gamma": "s3://data/out/gamma/"}


def test_wait_exits_1_with_the_error_of_a_failed_local_execution(project, run_cli):
    (project / "statemachine" / "definition.asl.json").write_text(json.dumps(
        {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Legacy.Crash",
                                                "Cause": "model file missing"}}}))
    run_cli("models", "register", "churn", "--image", "sagemaker-churn:1", "--local")
    code, out, err = run_cli("start", "churn", "--input-uri", "s3://data/in/",
                             "--output-uri", "s3://data/out/", "--local")
    assert code == 0, err
    arn = json.loads(out)["executionArn"]
    code, out, err = run_cli("wait", arn, "--timeout", "30")
    assert code == 1
    assert "FAILED: Legacy.Crash: model file missing" in err and "Traceback" not in err


def test_start_local_without_a_definition_names_the_file(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    run_cli("models", "register", "churn", "--image", "sagemaker-churn:1", "--local")
    code, _, err = run_cli("start", "churn", "--input-uri", "s3://data/in/",
                           "--output-uri", "s3://data/out/", "--local")
    assert code == 1
    assert f"{tmp_path}: not inside an smlift project" in err  # outside any project: one line
    (tmp_path / "smlift.toml").write_text('[legacy]\ncommand = "python p.py"\ninput = "in.csv"\n'
                                          'results = ["out.csv"]\n')
    code, _, err = run_cli("start", "churn", "--input-uri", "s3://data/in/",
                           "--output-uri", "s3://data/out/", "--local")
    assert code == 1
    assert "statemachine/definition.asl.json: file not found" in err


def test_name_and_all_together_are_refused(project, run_cli):
    code, _, err = run_cli("start", "churn", "--all", "--local")
    assert code == 1 and "give a model NAME or --all" in err


def test_wait_polls_with_injected_sleep_until_done_or_timeout():
    from smlift.errors import ExecutionError
    from smlift.backend import aws_backend
    from smlift.follow import wait

    class Script:
        def __init__(self, statuses):
            self.statuses = list(statuses)

        def describe_execution(self, executionArn):
            return {"executionArn": executionArn, "status": self.statuses.pop(0)}

    now, slept = [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    done = wait(aws_backend(Script(["RUNNING", "RUNNING", "SUCCEEDED"])), "arn", poll=5,
                sleep=sleep, clock=lambda: now[0])
    assert done["status"] == "SUCCEEDED" and slept == [5, 5]
    slept.clear()
    with pytest.raises(ExecutionError, match="still RUNNING after 12s"):
        wait(aws_backend(Script(["RUNNING"] * 10)), "arn", poll=5, timeout=12, sleep=sleep,
             clock=lambda: now[0])
    assert slept == [5, 5, 2]


def test_start_all_refuses_a_bad_prefix_before_starting_anything(registry):
    registry.register("alpha", IMAGE)
    sfn = FakeStepFunctions()
    with pytest.raises(InputError, match="'data/in' must be an s3:// URI"):
        start_all(registry, target("local", sfn), "data/in", "s3://data/out/")
    assert sfn.calls == []


# -- the use cases: start, start_every (smlift start), follow (smlift wait) ---------------------
class InProcessStepFunctions(FakeStepFunctions):
    """Executions that run in this process: `wait` blocks (or is interrupted), `stop` records."""

    def __init__(self, interrupt: bool = False):
        super().__init__()
        self.interrupt, self.stopped = interrupt, []

    def wait(self, arn):
        if self.interrupt:
            raise KeyboardInterrupt

    def stop_execution(self, *, executionArn, error, cause):
        self.stopped.append((executionArn, error))

    def describe_execution(self, executionArn):
        return {"executionArn": executionArn, "status": "SUCCEEDED"}


def backend_on(registry, sfn, *, in_process: bool):
    from smlift.backend import Backend

    return Backend(sfn=sfn, open_registry=lambda: registry,
                   open_target=lambda: target("local", sfn=sfn), poll_seconds=0.01,
                   runs_in_process=in_process)


def test_start_announces_the_execution_then_returns_its_end_when_waited_for(registry):
    from smlift import start

    registry.register("churn", IMAGE)
    seen = []
    started = start(backend_on(registry, InProcessStepFunctions(), in_process=True), "churn",
                    "s3://data/in/", "s3://data/out/", execution="churn-1", wait=True,
                    on_started=seen.append)
    assert [s.execution_arn for s in seen] == [started.execution_arn]
    assert started.ended == {"executionArn": started.execution_arn, "status": "SUCCEEDED"}
    assert "ended" not in started.to_dict()


def test_an_interrupted_start_stops_the_execution_it_runs_in_this_process(registry):
    from smlift import start

    registry.register("churn", IMAGE)
    sfn = InProcessStepFunctions(interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        start(backend_on(registry, sfn, in_process=True), "churn", "s3://data/in/",
              "s3://data/out/", execution="churn-1")
    assert {error for _, error in sfn.stopped} == {"smlift.StartInterrupted"}
    assert sfn.stopped[0][0].endswith(":churn-1")


def test_start_every_returns_each_model_and_refuses_an_empty_registry(registry):
    from smlift import start_every
    from smlift.errors import SmliftError

    sfn = InProcessStepFunctions()
    with pytest.raises(SmliftError, match="no registered model to start"):
        start_every(backend_on(registry, sfn, in_process=False), "s3://in/", "s3://out/")
    registry.register("alpha", IMAGE)
    registry.register("beta", IMAGE)
    announced = []
    results = start_every(backend_on(registry, sfn, in_process=False), "s3://in/", "s3://out/",
                          on_started=announced.append)
    assert [r.model for r in results] == ["alpha", "beta"] and announced == [results]


def test_the_use_cases_are_the_public_api_whatever_was_imported_first():
    import smlift
    import smlift.execute
    import smlift.follow
    from smlift.follow import follow

    assert smlift.follow is follow and callable(smlift.execute)
    assert {"start", "start_every", "follow", "execute", "run_pipeline",
            "check_parity"} <= set(smlift.__all__)
