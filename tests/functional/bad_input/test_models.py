"""Bad input to smlift models: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

import pytest


@pytest.mark.parametrize("option, value, needle", [
    ("--instance-type", "foo", "instance_type: must be a SageMaker instance type"),
    ("--code-uri", "s3://Bad_Bucket/x", "code_uri: 'Bad_Bucket' is not a valid S3 bucket name"),
    ("--code-uri", "file:///x", "code_uri: must be an s3:// URI"),
    ("--volume-size", "99999", "volume_size: must be between 1 and 16384"),
    ("--volume-size", "-5", "volume_size: must be a positive whole number, got '-5'"),
    ("--scikit-image-uri", "a b", "scikit_image_uri: must be an image URI"),
])
def test_models_register_refuses_a_setting_the_execution_input_would_refuse(run_cli, option, value,
                                                                            needle, assert_user_error):
    text = assert_user_error(run_cli("models", "register", "churn", "--image", "churn:1", "--local",
                                     option, value), needle, "fix:")
    assert "volume_size: volume_size" not in text
    code, out, _ = run_cli("models", "list", "--local")
    assert code == 0 and "churn" not in out  # nothing half-registered


def test_models_show_of_an_unknown_version_lists_the_known_ones(run_cli, assert_user_error):
    assert run_cli("models", "register", "churn", "--image", "churn:1", "--local")[0] == 0
    assert_user_error(run_cli("models", "show", "churn", "--version", "0", "--local"),
                      "model churn has no version 0", "use one of its versions: 1")


def test_models_register_refuses_a_description_sagemaker_would_refuse(run_cli, assert_user_error):
    assert_user_error(run_cli("models", "register", "churn", "--image", "churn:1", "--local",
                              "--description", "x" * 1025),
                      "--description: is 1025 characters; SageMaker allows at most 1024")
    code, out, _ = run_cli("models", "list", "--local")
    assert "churn" not in out

