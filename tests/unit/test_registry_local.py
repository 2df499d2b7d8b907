"""The local model registry (SQLite store) and the rule that picks the version a run uses."""

import pytest

from smlift.errors import InputError, ModelRegistryError
from smlift.registry import (APPROVED, PENDING, REJECTED, LocalRegistry, choose_version,
                             package_request)
from smlift.local.store import Store

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-churn:1"


@pytest.fixture
def registry(tmp_path):
    ticks = iter(range(1_700_000_000, 1_800_000_000))
    return LocalRegistry(Store(tmp_path / "smlift.db"), clock=lambda: float(next(ticks)))


def test_register_creates_numbered_versions_pending_approval(registry):
    first = registry.register("churn", IMAGE, settings={"instance_type": "ml.m5.large"})
    second = registry.register("churn", IMAGE + "b", description="retrained")
    assert (first.version, second.version) == (1, 2)
    assert first.status == second.status == PENDING
    assert first.image_uri == IMAGE and second.image_uri == IMAGE + "b"
    assert first.pipeline_settings() == {"instance_type": "ml.m5.large"}
    assert second.description == "retrained"
    assert first.created == "2023-11-14T22:13:20Z"


def test_settings_are_kept_as_strings_like_sagemaker_metadata(registry):
    version = registry.register("churn", IMAGE, settings={
        "code_uri": "s3://bucket/smlift/code/abc123/", "volume_size": 50, "max_runtime": "7200",
        "scikit_image_uri": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/"
                            "sagemaker-scikit-learn:1.2-1-cpu-py3", "instance_type": None})
    assert version.pipeline_settings() == {
        "code_uri": "s3://bucket/smlift/code/abc123/", "volume_size": "50", "max_runtime": "7200",
        "scikit_image_uri": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/"
                            "sagemaker-scikit-learn:1.2-1-cpu-py3"}
    assert version.by_smlift


def test_record_has_the_create_model_package_shape(registry):
    registry.register("churn", IMAGE)
    record = registry.store.get_model_versions("churn")[0]
    expected = package_request("churn", IMAGE, {"registered_by": "smlift"}, "")
    for key, value in expected.items():
        if key != "ModelApprovalStatus":
            assert record[key] == value


def test_list_models_shows_the_latest_version_of_each(registry):
    registry.register("churn", IMAGE)
    registry.register("churn", IMAGE)
    registry.register("attrition", IMAGE)
    assert [(m.name, m.version) for m in registry.list_models()] == [("attrition", 1), ("churn", 2)]


def test_approve_and_reject_change_only_that_version(registry):
    registry.register("churn", IMAGE)
    registry.register("churn", IMAGE)
    assert registry.set_status("churn", 1, APPROVED).status == APPROVED
    assert registry.set_status("churn", 2, REJECTED).status == REJECTED
    assert [v.status for v in registry.versions("churn")] == [APPROVED, REJECTED]
    assert registry.set_status("churn", 1, REJECTED).status == REJECTED


def test_show_defaults_to_the_latest_version(registry):
    registry.register("churn", IMAGE)
    registry.register("churn", "other:2")
    assert registry.show("churn").version == 2
    assert registry.show("churn", 1).image_uri == IMAGE


def test_unknown_model_names_the_register_command(registry):
    with pytest.raises(ModelRegistryError) as info:
        registry.show("nope")
    assert "no model named 'nope' in the local registry" in str(info.value)
    assert "`smlift models register nope --image URI --local`" in str(info.value)


def test_unknown_version_lists_the_known_ones(registry):
    registry.register("churn", IMAGE)
    with pytest.raises(ModelRegistryError, match="has no version 7.*versions: 1"):
        registry.set_status("churn", 7, APPROVED)


@pytest.mark.parametrize("name", ["churn_model", "-churn", "churn-", "x" * 64, "", "a b"])
def test_names_sagemaker_refuses_are_refused_locally_too(registry, name):
    with pytest.raises(InputError, match="not a valid SageMaker model package group name"):
        registry.register(name, IMAGE)


@pytest.mark.parametrize("settings, field", [
    ({"volume_size": "big"}, "volume_size"), ({"max_runtime": 0}, "max_runtime"),
    ({"volume_size": 2.5}, "volume_size"), ({"code_uri": "s3://b/" + "k" * 260}, "code_uri"),
    ({"code_uri": "s3://b/a#b"}, "code_uri"), ({"colour": "red"}, "colour")])
def test_bad_settings_name_the_field(registry, settings, field):
    with pytest.raises(InputError) as info:
        registry.register("churn", IMAGE, settings=settings)
    assert info.value.where == field
    assert registry.store.list_model_names() == []


def test_image_with_spaces_is_refused(registry):
    with pytest.raises(InputError, match="image URI"):
        registry.register("churn", "my image")


def test_choose_version_prefers_the_latest_approved(registry):
    for _ in range(3):
        registry.register("churn", IMAGE)
    registry.set_status("churn", 2, APPROVED)
    assert choose_version(registry, "churn", require_approved=True).version == 2
    assert choose_version(registry, "churn", 3, require_approved=False).version == 3


def test_choose_version_falls_back_to_latest_when_approval_not_required(registry):
    registry.register("churn", IMAGE)
    registry.register("churn", IMAGE)
    assert choose_version(registry, "churn", require_approved=False).version == 2


def test_choose_version_refuses_unapproved_with_the_fix(registry):
    registry.register("churn", IMAGE)
    registry.register("churn", IMAGE)
    registry.set_status("churn", 1, APPROVED)
    with pytest.raises(ModelRegistryError) as info:
        choose_version(registry, "churn", 2, require_approved=True)
    message = str(info.value)
    assert "version 2 is PendingManualApproval" in message
    assert "smlift models approve churn --version 2" in message
    assert "--allow-unapproved" in message


def test_approve_and_reject_shorthands(registry):
    registry.register("churn", IMAGE)
    assert registry.approve("churn", 1).status == APPROVED
    assert registry.reject("churn", 1).status == REJECTED
