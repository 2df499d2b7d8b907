"""The pipeline fails locally exactly where, and how, it would fail on AWS (issue: fidelity)."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFINITION = str(REPO / "statemachine" / "definition.asl.json")


@pytest.fixture
def execute(run_cli, tmp_path):
    """`smlift execute` of the pipeline on an input changed by `changes`: (summary, history)."""

    def run(name: str, **changes):
        run_input = {**json.loads((REPO / "examples" / "input.local.json").read_text()), **changes}
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(run_input))
        code, out, err = run_cli("execute", "--definition", DEFINITION, "--input", str(path),
                                 "--name", name)
        assert code == 0, err
        code, history, err = run_cli("executions", "history", name)
        assert code == 0, err
        return json.loads(out), json.loads(history)["events"]

    return run


def scheduled(events):
    return [e for e in events if e["type"] == "TaskScheduled"]


def test_an_instance_type_that_does_not_exist_is_tried_once_not_retried(execute):
    summary, events = execute("bad-instance", instance_type="ml.m5.enormous")
    assert summary["status"] == "FAILED" and summary["error"] == "PreprocessFailed"
    assert "SageMaker.AmazonSageMakerException" in summary["cause"]
    assert "ValidationException" in summary["cause"]
    assert len(scheduled(events)) == 1


def test_a_wrong_type_in_the_parameters_is_states_runtime_neither_retried_nor_caught(execute):
    summary, events = execute("wrong-type", volume_size="30")
    assert summary["status"] == "FAILED" and summary["error"] == "States.Runtime"
    assert "could not be used to start the Task" in summary["cause"]
    assert "VolumeSizeInGB' must be an integer" in summary["cause"]
    assert not [e for e in events if e["type"] == "FailStateEntered"]  # PipelineFailed: not reached


def test_cli_errors_carry_the_aws_error_code_as_the_aws_cli_prints_it(run_cli, tmp_path):
    definition = tmp_path / "pass.json"
    definition.write_text('{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')
    assert run_cli("execute", "--definition", str(definition), "--name", "twice")[0] == 0
    code, _, err = run_cli("execute", "--definition", str(definition), "--name", "twice")
    assert code == 1
    assert err.startswith("Error: An error occurred (ExecutionAlreadyExists): ")
    code, _, err = run_cli("executions", "describe", "nope")
    assert code == 1 and err.startswith("Error: An error occurred (ExecutionDoesNotExist): ")
