"""IAM templates: rendering, the policy evaluator and the checks of least privilege."""

import pytest

from smlift.errors import InputError
from smlift.pipeline import iam
from smlift.pipeline.contract import EXAMPLES, PipelineInput

RULE = "arn:aws:events:us-east-1:111122223333:rule/StepFunctionsGetEventsForSageMakerProcessingJobsRule"


@pytest.fixture
def roles(root):
    values = iam.values_for_input(PipelineInput.model_validate(EXAMPLES))
    return iam.load_policies(root / "iam", values)


def test_render_replaces_every_placeholder_inside_json_values():
    document = {"Resource": ["arn:aws:s3:::${Bucket}/${Prefix}*"], "Sid": "x"}
    assert iam.render(document, {"Bucket": "b", "Prefix": ""}) == {"Resource": ["arn:aws:s3:::b/*"], "Sid": "x"}


def test_render_names_each_placeholder_left_without_a_value():
    with pytest.raises(InputError) as caught:
        iam.render({"a": "${Region}:${AccountId}", "b": "${Region}"}, {}, source="iam/x.json")
    assert caught.value.where == "iam/x.json"
    assert caught.value.message == "placeholders ${AccountId}, ${Region} have no value"


def test_values_come_from_the_input():
    values = iam.values_for_input(PipelineInput.model_validate(EXAMPLES))
    assert values["AccountId"] == "111122223333" and values["Region"] == "us-east-1"
    assert values["SageMakerRoleName"] == "smlift-sagemaker"
    assert values["ImageRepository"] == "sagemaker-smlift-inference"
    assert (values["InputBucket"], values["InputPrefix"]) == ("my-bucket", "smlift/input/")
    assert values["ScikitImageAccount"] == "683313688378"


def test_a_local_image_name_gives_its_repository():
    assert iam.image_repository("smlift-inference:latest") == "smlift-inference"


def test_every_template_renders_completely(roles):
    for role in roles.values():
        assert iam.placeholders(role.policy) == set() and iam.placeholders(role.trust) == set()


def test_each_role_trusts_only_its_service(roles):
    assert {name: iam.trusted_services(r.trust) for name, r in roles.items()} == {
        "stepfunctions": {"states.amazonaws.com"}, "sagemaker": {"sagemaker.amazonaws.com"},
        "imagebuild": {"codebuild.amazonaws.com"}}


def test_step_functions_role_allows_the_sync_integration_only_for_our_jobs(roles):
    policy = roles["stepfunctions"].policy
    ours = "arn:aws:sagemaker:us-east-1:111122223333:processing-job/smlift-predict-run-1-abcd1234"
    theirs = "arn:aws:sagemaker:us-east-1:111122223333:processing-job/other-job"
    assert iam.allows(policy, "sagemaker:CreateProcessingJob", ours)
    assert iam.allows(policy, "sagemaker:StopProcessingJob", ours)
    assert not iam.allows(policy, "sagemaker:CreateProcessingJob", theirs)
    assert iam.allows(policy, "events:PutRule", RULE)
    assert not iam.allows(policy, "events:PutRule", RULE.replace("Processing", "Training"))


def test_pass_role_needs_the_sagemaker_service_condition(roles):
    policy, role = roles["stepfunctions"].policy, "arn:aws:iam::111122223333:role/smlift-sagemaker"
    assert iam.allows(policy, "iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"})
    assert not iam.allows(policy, "iam:PassRole", role, {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not iam.allows(policy, "iam:PassRole", "arn:aws:iam::111122223333:role/admin",
                          {"iam:PassedToService": "sagemaker.amazonaws.com"})


def test_execution_role_lists_only_the_prefixes_it_reads(roles):
    policy = roles["sagemaker"].policy
    assert iam.allows(policy, "s3:ListBucket", "arn:aws:s3:::my-bucket", {"s3:prefix": "smlift/input/"})
    assert not iam.allows(policy, "s3:ListBucket", "arn:aws:s3:::my-bucket", {"s3:prefix": "secrets/"})
    assert iam.allows(policy, "s3:PutObject", "arn:aws:s3:::my-bucket/smlift/output/run/result/x.csv")
    assert not iam.allows(policy, "s3:PutObject", "arn:aws:s3:::my-bucket/smlift/input/x.csv")


def test_explicit_deny_wins():
    policy = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}
    assert iam.allows(policy, "s3:GetObject", "arn:aws:s3:::b/k")
    assert not iam.allows(policy, "s3:DeleteObject", "arn:aws:s3:::b/k")


def test_shipped_policies_have_no_broad_grants(roles):
    assert {name: iam.broad_grants(r.policy) for name, r in roles.items()} == {
        "stepfunctions": [], "sagemaker": [], "imagebuild": []}


def test_star_resource_is_flagged_unless_the_action_cannot_be_scoped():
    policy = {"Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
                            {"Effect": "Allow", "Action": ["sagemaker:CreateProcessingJob"], "Resource": "*"},
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}
    assert iam.broad_grants(policy) == [
        ("/Statement/1/Resource", "'*' for sagemaker:CreateProcessingJob, which can be scoped to an ARN"),
        ("/Statement/2/Action", "'s3:*' grants every action; list the actions needed")]


def test_image_build_role_covers_both_sm_docker_project_forms_and_their_repositories(roles):
    from smlift.pipeline import smdocker

    policy = roles["imagebuild"].policy
    logs = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/codebuild/"
    ecr = "arn:aws:ecr:us-east-1:111122223333:repository/"
    covered = {}
    for names in smdocker.example_names():
        covered[names.where] = (
            iam.allows(policy, "logs:PutLogEvents", f"{logs}{names.project}:log-stream:x"),
            iam.allows(policy, "ecr:PutImage", ecr + names.repository),
            iam.allows(policy, "s3:GetObject",
                       f"arn:aws:s3:::sagemaker-us-east-1-111122223333/{names.context_key}"))
    assert covered == {"in Studio": (True, True, True), "outside Studio": (True, True, True)}
    # smlift's own remote builds stay covered, and nothing else is
    assert iam.allows(policy, "logs:PutLogEvents", f"{logs}smlift-build-x-1a2b3c4d:log-stream:x")
    assert not iam.allows(policy, "logs:PutLogEvents", f"{logs}other-project:log-stream:x")
    assert not iam.allows(policy, "ecr:PutImage", ecr + "sagemaker-studiox")


def test_image_build_names_default_to_smlift_remote_builds():
    values = iam.values_for_input(PipelineInput.model_validate(EXAMPLES))
    assert (values["BuildProject"], values["BuildContextPrefix"]) == ("smlift-build-*", "smlift/build/")
