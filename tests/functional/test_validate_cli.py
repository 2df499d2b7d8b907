"""`smlift validate` end to end: exit codes, one line per problem with its fix."""

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the repository's pipeline files, as the current directory."""
    for folder in ("statemachine", "iam", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_validate_the_repository_files_and_exit_zero(run_cli, project):
    code, out, err = run_cli("validate")
    assert code == 0, out + err
    assert out.strip() == "ok: statemachine/definition.asl.json, examples/input.json, iam"


def test_the_local_input_validates_too(run_cli, project):
    code, out, _ = run_cli("validate", "--input", "examples/input.local.json")
    assert code == 0 and out.startswith("ok: ")


def test_problems_are_listed_with_fixes_and_exit_one(run_cli, project):
    data = json.loads((project / "examples/input.json").read_text())
    data["output_uri"] = "results/"
    (project / "examples/input.json").write_text(json.dumps(data))
    code, out, err = run_cli("validate")
    assert code == 1
    assert out.splitlines()[:2] == [
        "examples/input.json:output_uri: must be an s3:// URI such as s3://my-bucket/smlift/, not 'results/'",
        '  fix: set "output_uri" as in docs/pipeline.md, e.g. "s3://my-bucket/smlift/output/"']
    assert err.strip() == "1 problem in statemachine/definition.asl.json, examples/input.json, iam"


def test_a_policy_without_put_rule_fails_the_command(run_cli, project):
    path = project / "iam/stepfunctions-policy.json"
    path.write_text(path.read_text().replace('"events:PutRule", ', ""))
    code, out, _ = run_cli("validate")
    assert code == 1
    assert "iam/stepfunctions-policy.json: does not allow events:PutRule on arn:aws:events:us-east-1:" \
           "111122223333:rule/StepFunctionsGetEventsForSageMakerProcessingJobsRule" in out


def test_skipping_input_and_iam_checks_only_the_definition(run_cli, project):
    code, out, _ = run_cli("validate", "--no-input", "--no-iam")
    assert code == 0 and out.strip() == "ok: statemachine/definition.asl.json"


def test_a_missing_definition_file_is_a_problem_not_a_traceback(run_cli, project):
    code, out, _ = run_cli("validate", "--definition", "nope.json", "--no-iam")
    assert code == 1 and out.startswith("nope.json: file not found")


def test_help_has_an_example(run_cli):
    code, out, _ = run_cli("validate", "--help")
    assert code == 0 and "Example:" in out and "smlift validate --input" in out


def _edit_build_policy(project, sid, change):
    path = project / "iam/imagebuild-policy.json"
    policy = json.loads(path.read_text())
    statement = next(s for s in policy["Statement"] if s["Sid"] == sid)
    statement["Resource"] = change(statement["Resource"])
    path.write_text(json.dumps(policy))


def test_build_logs_scoped_to_smlift_projects_only_fail_naming_sm_docker_log_groups(run_cli, project):
    _edit_build_policy(project, "WriteBuildLogs",
                       lambda resources: [r for r in resources if "sagemaker-studio" not in r])
    code, out, err = run_cli("validate")
    assert code == 1
    group = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/codebuild"
    assert out.splitlines()[:2] == [
        f"iam/imagebuild-policy.json: does not allow logs:CreateLogGroup on {group}/"
        "sagemaker-studio-d-abcdefghijkl-data-scientist-AbCdEfGhIjKlMnOp, which `sm-docker build .` "
        "in Studio (sagemaker-studio-image-build 0.6.0: project "
        "sagemaker-studio-d-abcdefghijkl-data-scientist-AbCdEfGhIjKlMnOp) logs to /aws/codebuild/"
        "sagemaker-studio-d-abcdefghijkl-data-scientist-AbCdEfGhIjKlMnOp",
        f'  fix: add "logs:CreateLogGroup" to a statement whose Resource covers {group}/sagemaker-studio-*']
    assert f'"logs:CreateLogStream", "logs:PutLogEvents" to a statement whose Resource covers ' \
           f"{group}/sagemaker-studio-*:*" in out
    assert "project sagemaker-studio-image-build-AbCdEfGhIjKlMnOp) logs to " \
           "/aws/codebuild/sagemaker-studio-image-build-AbCdEfGhIjKlMnOp" in out
    assert err.strip() == "4 problems in statemachine/definition.asl.json, examples/input.json, iam"


def test_build_logs_for_the_project_name_without_its_random_suffix_do_not_cover_sm_docker(
        run_cli, project):
    # sm-docker appends 16 random letters: /aws/codebuild/sagemaker-studio-image-build matches nothing
    exact = "arn:aws:logs:${Region}:${AccountId}:log-group:/aws/codebuild/sagemaker-studio-image-build"
    _edit_build_policy(project, "WriteBuildLogs",
                       lambda resources: [r for r in resources if "sagemaker-studio" not in r]
                       + [exact, exact + ":*"])
    code, out, _ = run_cli("validate")
    assert code == 1
    assert out.count("does not allow logs:CreateLogStream, logs:PutLogEvents on ") == 2


def test_push_rights_on_the_pipeline_repository_only_fail_for_sm_docker_default_repositories(
        run_cli, project):
    _edit_build_policy(project, "PushAndPullTheInferenceRepository", lambda resources: resources[:1])
    code, out, _ = run_cli("validate")
    assert code == 1
    problems = [line for line in out.splitlines() if not line.startswith("  fix:")]
    assert [p.split(" on ")[1].split(",")[0] for p in problems] == [
        "arn:aws:ecr:us-east-1:111122223333:repository/sagemaker-studio-d-abcdefghijkl",
        "arn:aws:ecr:us-east-1:111122223333:repository/sagemaker-studio"]
    assert "covers arn:aws:ecr:us-east-1:111122223333:repository/sagemaker-studio-*" in out


def test_a_build_context_read_without_sm_docker_zip_keys_fails(run_cli, project):
    _edit_build_policy(project, "ReadTheBuildContext", lambda resources: resources[:1])
    code, out, _ = run_cli("validate")
    assert code == 1
    assert ('add "s3:GetObject" to a statement whose Resource covers '
            "arn:aws:s3:::sagemaker-us-east-1-111122223333/codebuild-sagemaker-container-*") in out
    assert "smlift build --remote" not in out  # its own smlift/build/ prefix is still covered


def test_a_dockerfile_writing_under_opt_ml_is_a_warning_not_a_failure(run_cli, project):
    (project / "containers/inference").mkdir(parents=True)
    (project / "containers/inference/Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY predict.py /opt/ml/code/\n")
    (project / "containers/inference/predict.py").write_text("")
    code, out, err = run_cli("validate")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "warning: containers/inference/Dockerfile:2: COPY writes /opt/ml/code, under /opt/ml, "
        "which SageMaker reserves with all its subfolders",
        "  fix: put code in /opt/program",
        "ok: statemachine/definition.asl.json, examples/input.json, iam, containers/inference"]


def test_validate_checks_the_container_it_is_given(run_cli, project, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "Dockerfile").write_text("FROM python:3.11-slim\nRUN mkdir -p /opt/ml/code\n")
    code, out, _ = run_cli("validate", "--no-input", "--no-iam", "--container", str(other))
    assert code == 0
    assert out.splitlines()[0] == (f"warning: {other}/Dockerfile:2: RUN mkdir writes /opt/ml/code, "
                                   "under /opt/ml, which SageMaker reserves with all its subfolders")


def test_the_repository_containers_validate_without_warnings(run_cli, project):
    shutil.copytree(ROOT / "containers", project / "containers")
    code, out, _ = run_cli("validate")
    assert (code, out.strip()) == (
        0, "ok: statemachine/definition.asl.json, examples/input.json, iam, containers/inference")


def test_without_an_input_a_misspelt_request_field_is_still_reported(run_cli, project):
    path = project / "statemachine/definition.asl.json"
    definition = json.loads(path.read_text())
    definition["States"]["Predict"]["Arguments"]["Environmnet"] = {"A": "1"}
    definition["States"]["Predict"]["Arguments"]["StoppingCondition"] = {
        "MaxRuntimeInSeconds": 3600.5}
    path.write_text(json.dumps(definition))
    code, out, _ = run_cli("validate", "--no-input")
    assert code == 1
    lines = out.splitlines()
    assert ("statemachine/definition.asl.json:/States/Predict/Arguments/Environmnet: unknown "
            "field 'Environmnet' (did you mean Environment?)") in lines
    assert ("statemachine/definition.asl.json:/States/Predict/Arguments/StoppingCondition/"
            "MaxRuntimeInSeconds: must be an integer, not a number 3600.5") in lines


def test_an_unpublished_scikit_learn_image_is_refused_before_anything_runs(run_cli, project):
    data = json.loads((project / "examples/input.json").read_text())
    data["scikit_image_uri"] = ("683313688378.dkr.ecr.us-east-1.amazonaws.com/"
                                "sagemaker-scikit-learn:1.3-9-cpu-py3")
    (project / "examples/input.json").write_text(json.dumps(data))
    code, out, _ = run_cli("validate")
    assert code == 1
    assert "sagemaker-scikit-learn:1.3-9-cpu-py3 was never published" in out


EXTERNAL = Path(__file__).resolve().parents[2].parent / "shared" / "external-definitions"


@pytest.mark.parametrize("folder, tasks", [("aws-sample", 3), ("ds-sdk", 1)])
def test_a_definition_aws_accepts_passes_with_advice_as_warnings_and_fails_only_when_strict(
        run_cli, folder, tasks):
    definition = EXTERNAL / folder / "definition.json"
    assert definition.exists(), f"{EXTERNAL} is where these shared test definitions live"
    args = ("validate", "--definition", str(definition), "--no-input", "--no-iam")
    code, out, err = run_cli(*args)
    assert code == 0, out + err
    assert out.count("warning: ") == 2 * tasks  # no Retry, no Catch to a Fail: advice
    assert "no retrier for SageMaker.ResourceLimitExceededException" in out
    code, out, err = run_cli(*args, "--strict")
    assert code == 1 and f"{2 * tasks} problems" in err


@pytest.mark.parametrize("folder", ["aws-sample", "ds-sdk"])
def test_an_external_definition_is_resolved_against_its_own_input(run_cli, folder):
    """Its input is not smlift's contract: the requests are resolved and checked, not refused."""
    definition, data = EXTERNAL / folder / "definition.json", EXTERNAL / folder / "input.json"
    code, out, err = run_cli("validate", "--definition", str(definition), "--input", str(data),
                             "--no-iam", "--output", "json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["errors"] == [] and report["checked"][1] == str(data)
    assert not any("synthesised" in w["message"] for w in report["warnings"])


@pytest.mark.parametrize("folder", ["aws-sample", "ds-sdk"])
def test_without_an_input_one_is_synthesised_and_the_requests_pass(run_cli, folder, tmp_path,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)  # no examples/input.json to fall back on
    code, out, err = run_cli("validate", "--definition", str(EXTERNAL / folder / "definition.json"),
                             "--no-iam")
    assert code == 0, out + err
    assert "warning: " in out and "a synthesised one" in out
    assert "fix: pass --input FILE" in out
    assert out.splitlines()[-1].endswith("a synthesised input")
    code, _, err = run_cli("validate", "--definition", str(EXTERNAL / folder / "definition.json"),
                           "--no-iam", "--strict")
    assert code == 1  # the synthesised input is a warning too


def test_a_bad_value_in_the_aws_samples_input_is_an_error_naming_the_field(run_cli, tmp_path):
    data = json.loads((EXTERNAL / "aws-sample/input.json").read_text())
    data["Inference"]["InstanceType"] = "m5.xlarge"  # no ml. prefix: AWS refuses it
    data["PostProcessing"]["ProcessingJobName"] = "post_processing job"  # not a job name
    (tmp_path / "input.json").write_text(json.dumps(data))
    code, out, err = run_cli("validate", "--definition", str(EXTERNAL / "aws-sample/definition.json"),
                             "--input", str(tmp_path / "input.json"), "--no-iam")
    assert code == 1, out
    assert "/States/Inference Custom Container/Arguments/ProcessingResources/ClusterConfig/" \
           "InstanceType" in out
    assert "/States/Postprocessing Script Mode/Arguments/ProcessingJobName" in out
    assert "problems in" in err


def test_a_missing_field_in_the_ds_sdk_input_is_an_error_not_a_crash(run_cli, tmp_path):
    (tmp_path / "input.json").write_text(json.dumps({"OutputUri": "s3://smlift-local/out/"}))
    code, out, err = run_cli("validate", "--definition", str(EXTERNAL / "ds-sdk/definition.json"),
                             "--input", str(tmp_path / "input.json"), "--no-iam")
    assert code == 1 and "Traceback" not in err
    assert "PreprocessJobName" in out and "ended FAILED: States.Runtime" in out
