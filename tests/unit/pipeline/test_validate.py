"""validate_pipeline: passes on the repository's files; a precise problem for each break."""

import copy
import json
import shutil
from pathlib import Path

import pytest

from smlift.validate import input_reads, reads_contract, synthesise_input, validate_pipeline


@pytest.fixture
def files(tmp_path, root, definition, local_input):
    """Copies of the definition, the local input and iam/ that a test may break."""
    shutil.copytree(root / "iam", tmp_path / "iam")

    class Files:
        definition_path = tmp_path / "definition.asl.json"
        input_path = tmp_path / "input.json"
        iam_dir = tmp_path / "iam"

        def __init__(self):
            self.definition = copy.deepcopy(definition)
            self.input = dict(local_input)

        def validate(self):
            self.definition_path.write_text(json.dumps(self.definition))
            self.input_path.write_text(json.dumps(self.input))
            return validate_pipeline(self.definition_path, self.input_path, self.iam_dir)

        def policy(self, role):
            return json.loads((self.iam_dir / f"{role}-policy.json").read_text())

        def write_policy(self, role, document):
            (self.iam_dir / f"{role}-policy.json").write_text(json.dumps(document))

    return Files()


def where_tail(problem, files):
    return problem.where.replace(f"{files.definition_path}:", "")


@pytest.mark.parametrize("input_name", ["examples/input.json", "examples/input.local.json"])
def test_the_repository_files_pass(root, input_name):
    assert validate_pipeline(root / "statemachine/definition.asl.json", root / input_name,
                             root / "iam") == []


def test_a_broken_next_is_located_with_the_fix(files):
    files.definition["States"]["Preprocess"]["Next"] = "Predcit"
    problems = files.validate()
    located = {where_tail(p, files): p for p in problems}
    assert "/States/Preprocess/Next" in located
    problem = located["/States/Preprocess/Next"]
    assert "Predcit" in problem.message and "MISSING_TRANSITION_TARGET" in problem.message
    assert problem.fix == "point Next at the name of an existing state (did you mean Predict?)"


def test_a_missing_required_parameter_is_named(files):
    del files.definition["States"]["Predict"]["Arguments"]["RoleArn"]
    problems = [p for p in files.validate() if "RoleArn" in p.where]
    assert problems and problems[0].where.endswith(":/States/Predict/Arguments/RoleArn")
    assert problems[0].message == "RoleArn: is required: add RoleArn to the request"


def test_an_invalid_job_name_is_caught_with_the_long_execution_name(files):
    # the raw execution name has '_' and '.' and can be 80 characters: never a valid job name
    files.definition["States"]["Postprocess"]["Arguments"]["ProcessingJobName"] = \
        "{% 'smlift-postprocess-' & $states.context.Execution.Name %}"
    problems = [p for p in files.validate() if p.where.endswith("/Postprocess/Arguments/ProcessingJobName")]
    assert any("does not match [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}" in p.message for p in problems)
    assert any("must have between 1 and 63" in p.message for p in problems)


def test_a_non_s3_uri_in_the_input_is_named_by_field(files):
    files.input["input_uri"] = "/home/me/data"
    problems = files.validate()
    [problem] = [p for p in problems if p.where.endswith(":input_uri")]
    assert problem.message.startswith("must be an s3:// URI")
    assert "s3://my-bucket/smlift/input/" in problem.fix


def test_a_non_s3_uri_in_the_definition_fails_the_request_check(files):
    files.definition["States"]["Predict"]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0][
        "S3Output"]["S3Uri"] = "{% '/tmp/' & $states.context.Execution.Name %}"
    pointer = "/States/Predict/Arguments/ProcessingOutputConfig/Outputs/0/S3Output/S3Uri"
    messages = [p.message for p in files.validate() if p.where.endswith(pointer)]
    assert any("does not match (https|s3)://" in m for m in messages)


def test_a_policy_missing_events_put_rule_is_reported(files):
    policy = files.policy("stepfunctions")
    for statement in policy["Statement"]:
        if isinstance(statement["Action"], list) and "events:PutRule" in statement["Action"]:
            statement["Action"].remove("events:PutRule")
    files.write_policy("stepfunctions", policy)
    problems = [p for p in files.validate() if "events:PutRule" in p.message]
    assert problems
    assert problems[0].where == str(files.iam_dir / "stepfunctions-policy.json")
    assert ("does not allow events:PutRule on arn:aws:events:us-east-1:123456789012:rule/"
            "StepFunctionsGetEventsForSageMakerProcessingJobsRule") in problems[0].message
    assert problems[0].fix.startswith('add "events:PutRule"')


def test_a_mismatched_hand_off_names_both_locations(files):
    files.definition["States"]["Predict"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] = \
        "{% $run_uri & '/preprocesed/' %}"
    problems = [p for p in files.validate() if "ProcessingInputs" in p.where]
    [reads] = [p for p in problems if p.where.endswith(
        ":/States/Predict/Arguments/ProcessingInputs/0/S3Input/S3Uri") and "validate-run-1" in p.message]
    assert reads.message == (
        "reads s3://smlift-local/output/validate-run-1/preprocesed/, which no step before it "
        "writes: Preprocess writes s3://smlift-local/output/validate-run-1/preprocessed/")
    assert "Preprocess" in reads.fix


def test_outputs_shared_between_executions_are_refused(files):
    for state in ("Preprocess", "Predict", "Postprocess"):
        output = files.definition["States"][state]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]
        output["S3Output"]["S3Uri"] = output["S3Output"]["S3Uri"].replace(
            "$run_uri", "$config.output_uri")
    files.definition["States"]["Predict"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] = \
        "{% $config.output_uri & '/preprocessed/' %}"
    files.definition["States"]["Postprocess"]["Arguments"]["ProcessingInputs"][1]["S3Input"]["S3Uri"] = \
        "{% $config.output_uri & '/predictions/' %}"
    messages = [p.message for p in files.validate()]
    assert any(m.startswith("two executions write to overlapping prefixes") for m in messages)


def test_a_step_without_retry_or_catch_is_reported(files):
    del files.definition["States"]["Predict"]["Retry"]
    del files.definition["States"]["Predict"]["Catch"]
    messages = {(where_tail(p, files), p.message) for p in files.validate()}
    assert ("/States/Predict/Retry", "no retrier for SageMaker.ResourceLimitExceededException") \
        in messages
    assert ("/States/Predict/Catch", "a failure of this step does not reach a Fail state") in messages


@pytest.mark.parametrize("error", ["SageMaker.AmazonSageMakerException", "States.TaskFailed",
                                   "States.ALL"])
def test_a_retrier_of_permanent_errors_is_a_warning(files, error):
    files.definition["States"]["Predict"]["Retry"].append(
        {"ErrorEquals": [error], "IntervalSeconds": 10, "MaxAttempts": 3, "BackoffRate": 2})
    [problem] = [p for p in files.validate() if where_tail(p, files) == "/States/Predict/Retry"]
    assert problem.severity == "warning" and "retries permanent errors" in problem.message


def test_a_star_resource_is_reported_where_a_scoped_arn_works(files):
    policy = files.policy("sagemaker")
    policy["Statement"][0]["Resource"] = "*"
    files.write_policy("sagemaker", policy)
    [problem] = [p for p in files.validate() if p.where.endswith("sagemaker-policy.json:/Statement/0/Resource")]
    assert problem.message == "'*' for s3:GetObject, which can be scoped to an ARN"


def test_a_trust_policy_for_the_wrong_service_is_reported(files):
    trust = json.loads((files.iam_dir / "sagemaker-trust.json").read_text())
    trust["Statement"][0]["Principal"]["Service"] = "lambda.amazonaws.com"
    (files.iam_dir / "sagemaker-trust.json").write_text(json.dumps(trust))
    messages = [p.message for p in files.validate()]
    assert "does not let sagemaker.amazonaws.com assume the role" in messages
    assert "also lets lambda.amazonaws.com assume the role" in messages


def test_a_role_outside_the_pass_role_grant_is_reported(files):
    files.input["role"] = "arn:aws:iam::123456789012:role/admin"
    policy = files.policy("stepfunctions")
    policy["Statement"][2]["Resource"] = "arn:aws:iam::123456789012:role/smlift-sagemaker"
    files.write_policy("stepfunctions", policy)
    assert any(p.message.startswith("does not allow iam:PassRole on arn:aws:iam::123456789012:role/admin")
               for p in files.validate())


def test_an_expression_error_reports_the_failed_dry_run(files):
    files.definition["States"]["Prepare"]["Assign"]["config"] = "{% $states.input.nope.x %}"
    messages = [p.message for p in files.validate()]
    assert any("resolving the definition against the input" in m and "FAILED" in m for m in messages)


def test_invalid_json_is_located_by_line(files):
    files.definition_path.write_text('{"StartAt": "A",\n "States": }')
    files.input_path.write_text(json.dumps(files.input))
    [problem] = validate_pipeline(files.definition_path, files.input_path, None)
    assert problem.where == f"{files.definition_path}:2:12" and "not valid JSON" in problem.message


def test_an_unknown_field_and_a_bad_jsonata_expression_are_located(files):
    files.definition["States"]["Predict"]["Paramters"] = {}
    files.definition["States"]["Predict"]["Arguments"]["RoleArn"] = "{% $config.role & %}"
    located = {where_tail(p, files): p.message for p in files.validate()}
    assert "is not supported" in located["/States/Predict/Paramters"]
    assert "'$config.role &' is invalid" in located["/States/Predict/Arguments/RoleArn"]


def test_arguments_that_are_not_an_object_are_one_problem_per_run(files):
    files.definition["States"]["Predict"]["Arguments"] = "{% 'not a request' %}"
    problems = [p for p in files.validate() if p.where.endswith(":/States/Predict/Arguments")]
    assert problems and problems[0].message.startswith("the request must be a JSON object")


def test_a_scaled_out_step_that_shards_nothing_is_reported(files):
    s3_input = files.definition["States"]["Predict"]["Arguments"]["ProcessingInputs"][0]["S3Input"]
    s3_input["S3DataDistributionType"] = "FullyReplicated"
    [problem] = [p for p in files.validate() if "shards none" in p.message]
    assert where_tail(problem, files) == "/States/Predict/Arguments/ProcessingInputs"
    assert problem.message.startswith("Predict runs on 2 instances but shards none of its inputs")
    assert "ShardedByS3Key" in problem.fix


def test_a_sharded_step_whose_data_is_replicated_is_reported(files):
    postprocess = files.definition["States"]["Postprocess"]["Arguments"]
    postprocess["ProcessingInputs"][1]["S3Input"]["S3DataDistributionType"] = "FullyReplicated"
    [problem] = [p for p in files.validate() if "shards none" in p.message]
    assert where_tail(problem, files) == "/States/Postprocess/Arguments/ProcessingInputs"
    assert "SMLIFT_SPLIT" in problem.fix  # the other way out, for an input that cannot shard


def test_a_reduce_step_on_several_instances_is_reported(files):
    cluster = files.definition["States"]["Summarize"]["Arguments"]["ProcessingResources"]
    cluster["ClusterConfig"]["InstanceCount"] = "{% $config.instance_count %}"
    files.input["instance_count"] = 4
    [problem] = [p for p in files.validate() if "combines" in p.message]
    assert where_tail(problem, files) == \
        "/States/Summarize/Arguments/ProcessingResources/ClusterConfig/InstanceCount"
    assert problem.message.startswith("Summarize combines what every instance of the step "
                                      "before it wrote, but runs on 4 instances")
    assert problem.fix.startswith("give it InstanceCount 1")


def test_preprocess_on_several_instances_must_declare_that_it_splits_by_host(files):
    del files.definition["States"]["Preprocess"]["Arguments"]["Environment"]
    [problem] = [p for p in files.validate() if "shards none" in p.message]
    assert where_tail(problem, files) == "/States/Preprocess/Arguments/ProcessingInputs"
    assert problem.message.startswith("Preprocess runs on 2 instances but shards none")
    assert '"Environment": {"SMLIFT_SPLIT": "by-host"}' in problem.fix


def test_preprocess_on_one_instance_needs_no_split_declaration(files):
    arguments = files.definition["States"]["Preprocess"]["Arguments"]
    del arguments["Environment"]
    arguments["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 1
    assert files.validate() == []


def test_an_unknown_split_declaration_is_reported(files):
    files.definition["States"]["Preprocess"]["Arguments"]["Environment"] = {
        "SMLIFT_SPLIT": "by-row"}
    [problem] = [p for p in files.validate() if "SMLIFT_SPLIT" in p.where]
    assert where_tail(problem, files) == "/States/Preprocess/Arguments/Environment/SMLIFT_SPLIT"
    assert problem.message == "SMLIFT_SPLIT is 'by-row'; the only split smlift knows is 'by-host'"


def test_reading_a_folder_no_earlier_step_writes_is_reported(files):
    schema = files.definition["States"]["Postprocess"]["Arguments"]["ProcessingInputs"][2]
    schema["S3Input"]["S3Uri"] = "{% $run_uri & '/preprocesed/schema/' %}"
    [problem] = [p for p in files.validate() if "no step before it writes" in p.message]
    assert where_tail(problem, files) == \
        "/States/Postprocess/Arguments/ProcessingInputs/2/S3Input/S3Uri"


def test_a_folder_inside_an_earlier_steps_output_is_a_valid_hand_off(files):
    # the repository's Predict reads preprocessed/parts/ and Postprocess preprocessed/schema/
    assert not [p for p in files.validate() if "ProcessingInputs" in p.where]


def test_an_instance_count_no_step_uses_is_a_warning(files):
    for state in ("Preprocess", "Predict", "Postprocess"):
        files.definition["States"][state]["Arguments"]["ProcessingResources"]["ClusterConfig"][
            "InstanceCount"] = 1
    files.input["instance_count"] = 3
    [problem] = [p for p in files.validate() if "instance_count" in p.message]
    assert problem.severity == "warning" and "no step's InstanceCount uses it" in problem.message


def test_the_repository_definition_scales_out_cleanly(files):
    files.input["instance_count"] = 3
    assert files.validate() == []


def test_validate_run_and_deploy_word_a_bad_definition_the_same(files):
    from smlift.aws.deploy.desired import read_definition as deploy_reads
    from smlift.errors import InputError
    from smlift.embedded.run import read_definition as run_reads

    files.definition_path.write_text('{"StartAt": "A",\n "States": }')
    files.input_path.write_text(json.dumps(files.input))
    [problem] = validate_pipeline(files.definition_path, files.input_path, None)
    for reads in (run_reads, deploy_reads):
        with pytest.raises(InputError) as raised:
            reads(files.definition_path)
        assert (raised.value.where, raised.value.message) == (problem.where, problem.message)


# --- an input synthesised from what a definition reads --------------------------------------------


def test_reads_follow_input_path_and_a_null_result_path_from_state_to_state():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
              "InputPath": "$.first", "ResultPath": None, "Next": "B",
              "Parameters": {"RoleArn.$": "$.role", "ProcessingJobName.$": "$.name"}},
        "B": {"Type": "Pass", "Parameters": {"x.$": "$.second.count"}, "End": True}}}
    assert input_reads(definition) == [(("first", "role"), "RoleArn"),
                                       (("first", "name"), "ProcessingJobName"),
                                       (("second", "count"), "x")]


def test_a_task_result_is_not_the_execution_input_but_context_input_still_is():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
              "Parameters": {"ProcessingJobName.$": "$.name"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"n.$": "$.ProcessingJobArn",
                                             "o.$": "$$.Execution.Input['out']"}, "End": True}}}
    assert input_reads(definition) == [(("name",), "ProcessingJobName"), (("out",), "o")]


def test_placeholders_are_typed_by_the_field_they_land_in():
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "Parameters": {"RoleArn.$": "$.r", "ProcessingResources": {"ClusterConfig": {
            "InstanceCount.$": "$.n", "VolumeSizeInGB.$": "$.v", "InstanceType.$": "$.t"}},
            "StoppingCondition": {"MaxRuntimeInSeconds.$": "$.m"},
            "ProcessingInputs": [{"S3Input": {"S3Uri.$": "$.data.where"}}]}, "End": True}}}
    data = synthesise_input(definition)
    assert data["r"].startswith("arn:aws:iam::") and ":role/" in data["r"]
    assert (data["n"], data["v"], data["m"]) == (1, 30, 3600)
    assert data["t"] == "ml.m5.xlarge" and data["data"]["where"].startswith("s3://")


def test_map_items_choice_variables_and_jsonata_reads_are_synthesised():
    definition = {"StartAt": "Pick", "States": {
        "Pick": {"Type": "Choice", "Choices": [
            {"Variable": "$.size", "NumericGreaterThan": 3, "Next": "Each"}], "Default": "Each"},
        "Each": {"Type": "Map", "ItemsPath": "$.files", "End": True, "ItemProcessor": {
            "StartAt": "One", "States": {"One": {
                "Type": "Pass", "QueryLanguage": "JSONata", "End": True,
                "Output": {"uri": "{% $states.input.S3Uri %}"}}}}}}}
    data = synthesise_input(definition)
    assert data["size"] == 1
    assert isinstance(data["files"], list) and data["files"][0]["S3Uri"].startswith("s3://")


def test_an_smlift_pipeline_gets_the_contracts_examples():
    from smlift.pipeline.contract import EXAMPLES

    root = Path(__file__).resolve().parents[3]
    definition = json.loads((root / "statemachine/definition.asl.json").read_text())
    assert reads_contract(definition) and synthesise_input(definition) == EXAMPLES
