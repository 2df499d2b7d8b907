"""PipelineInput: the execution input contract, with messages that name the field."""

import json

import pytest

from smlift.errors import InputError
from smlift.pipeline.contract import EXAMPLES, PipelineInput, input_problems, load_pipeline_input


def test_both_example_inputs_satisfy_the_contract(local_input, console_input):
    assert input_problems(local_input) == []
    assert input_problems(console_input) == []


def test_optional_fields_take_the_documented_defaults(local_input):
    pipeline = PipelineInput.model_validate(local_input)
    assert (pipeline.instance_type, pipeline.volume_size, pipeline.max_runtime) == ("ml.m5.xlarge", 30, 3600)


def test_non_s3_input_uri_is_named_with_the_fix():
    [(field, message)] = input_problems({**EXAMPLES, "input_uri": "/data/in"})
    assert field == "input_uri"
    assert message.startswith("must be an s3:// URI")


def test_invalid_bucket_name_is_explained():
    [(field, message)] = input_problems({**EXAMPLES, "output_uri": "s3://My_Bucket/out/"})
    assert field == "output_uri" and "not a valid S3 bucket name" in message


def test_missing_field_gives_an_example():
    data = dict(EXAMPLES)
    del data["code_uri"]
    assert input_problems(data) == [("code_uri", 'is required, e.g. "s3://my-bucket/smlift/code/"')]


def test_unknown_field_is_refused():
    [(field, message)] = input_problems({**EXAMPLES, "instance_counts": 2})
    assert field == "instance_counts" and message.startswith("unknown field")


def test_instance_count_defaults_to_one_and_must_be_a_whole_number_from_1_to_100():
    data = {k: v for k, v in EXAMPLES.items() if k != "instance_count"}
    assert PipelineInput.model_validate(data).instance_count == 1
    [(field, message)] = input_problems({**EXAMPLES, "instance_count": 0})
    assert field == "instance_count" and message == "must be between 1 and 100, not 0"
    [(field, message)] = input_problems({**EXAMPLES, "instance_count": "2"})
    assert field == "instance_count" and "whole number" in message


def test_a_string_number_is_refused_because_sagemaker_would_refuse_it():
    [(field, message)] = input_problems({**EXAMPLES, "volume_size": "30"})
    assert field == "volume_size" and "whole number" in message


@pytest.mark.parametrize("field,value", [("volume_size", 0), ("max_runtime", 777601)])
def test_numbers_outside_sagemaker_limits_are_refused(field, value):
    [(name, message)] = input_problems({**EXAMPLES, field: value})
    assert name == field and message.startswith("must be between")


def test_role_must_be_an_iam_role_arn():
    [(field, message)] = input_problems({**EXAMPLES, "role": "smlift-sagemaker"})
    assert field == "role" and "IAM role ARN" in message


def test_instance_type_must_look_like_a_sagemaker_type():
    [(field, _)] = input_problems({**EXAMPLES, "instance_type": "m5.xlarge"})
    assert field == "instance_type"


def test_model_name_must_be_a_valid_tag_value():
    [(field, message)] = input_problems({**EXAMPLES, "model_name": "churn#1"})
    assert field == "model_name" and "tag" in message


def test_output_inside_the_input_prefix_is_refused():
    data = {**EXAMPLES, "output_uri": EXAMPLES["input_uri"] + "results/"}
    [(field, message)] = input_problems(data)
    assert field == "output_uri" and "inside input_uri" in message


def test_an_input_that_is_not_an_object_is_one_problem():
    [(field, message)] = input_problems(["s3://x"])
    assert field == "" and "JSON object" in message


def test_load_pipeline_input_lists_every_problem_in_one_error(tmp_path):
    path = tmp_path / "input.json"
    path.write_text(json.dumps({**EXAMPLES, "input_uri": "x", "role": "y"}))
    with pytest.raises(InputError) as caught:
        load_pipeline_input(path)
    assert caught.value.where == str(path)
    assert "input_uri: must be an s3:// URI" in caught.value.message and "role:" in caught.value.message


def test_load_pipeline_input_names_bad_json(tmp_path):
    path = tmp_path / "input.json"
    path.write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        load_pipeline_input(path)


def test_with_defaults_drops_an_absent_model_name(local_input):
    data = {k: v for k, v in local_input.items() if k != "model_name"}
    assert "model_name" not in PipelineInput.model_validate(data).with_defaults()


def test_docs_explain_every_field_with_an_example(root):
    text = (root / "docs/pipeline.md").read_text()
    for field in PipelineInput.model_fields:
        [row] = [line for line in text.splitlines() if line.startswith(f"| `{field}` |")]
        assert row.count("|") == 5 and '"' in row or any(ch.isdigit() for ch in row), row
