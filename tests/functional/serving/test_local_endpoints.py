"""Local endpoints end to end on the local engine: a registered, approved version of the
inference image deploys, answers over HTTP what the batch pipeline publishes, updates in place
without downtime, serves asynchronously through local S3, and deletes to nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smlift.errors import InputError, ModelRegistryError
from smlift.local.home import smlift_home
from smlift.images import build_image
from smlift.local.s3 import LocalS3
from smlift.registry import LocalRegistry
from smlift.serving import EndpointError, EndpointThrottled, LocalEndpoints

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
BOOKINGS = REPO / "examples" / "data" / "bookings.csv"
HEADER, *ROWS = [line for line in BOOKINGS.read_bytes().split(b"\n") if line]
MODEL = "hotel-cancellation"


@pytest.fixture
def registry(local_engine):
    build_image(REPO / "containers" / "inference", "smlift-inference:test", echo=lambda _: None,
                engine="local")
    registry = LocalRegistry()
    registry.register(MODEL, "smlift-inference:test")
    registry.approve(MODEL, 1)
    registry.register(MODEL, "smlift-inference:test")  # version 2 stays PendingManualApproval
    return registry


@pytest.fixture
def endpoints(registry):
    service = LocalEndpoints(smlift_home(), registry=registry, engine="local")
    yield service
    for record in service.list():
        service.delete(record["EndpointName"])


def body(*indexes: int) -> bytes:
    return b"\n".join([HEADER, *(ROWS[i] for i in indexes)]) + b"\n"


def test_deploy_invoke_update_and_delete(endpoints, batch_predictions, run_cli, tmp_path):
    header, *lines = [line for line in batch_predictions.split(b"\n") if line]
    first = endpoints.deploy("hotel", MODEL)
    assert (first["EndpointStatus"], first["Model"], first["Engine"]) == ("InService", f"{MODEL}:1", "local")
    assert first["Url"].startswith("http://127.0.0.1:")
    assert endpoints.invoke("hotel", body(3, 1500), "text/csv") == b"\n".join(
        [header, lines[3], lines[1500]]) + b"\n"

    second = endpoints.deploy("hotel", f"{MODEL}:2", allow_unapproved=True)
    assert second["Model"] == f"{MODEL}:2" and second["Url"] != first["Url"]
    assert second["CreationTime"] == first["CreationTime"]
    with pytest.raises(OSError):
        os.kill(first["Pid"], 0)  # the old server stopped once the new one answered
    assert [r["EndpointName"] for r in endpoints.list()] == ["hotel"]

    request = tmp_path / "rows.csv"
    request.write_bytes(body(7))
    code, out, _ = run_cli("endpoints", "invoke", "hotel", "--body", str(request),
                           "--content-type", "text/csv", "--local")
    assert (code, out.encode()) == (0, header + b"\n" + lines[7] + b"\n")

    deleted = endpoints.delete("hotel")
    assert [call["Operation"] for call in deleted["Calls"]] == ["stop_server", "delete_record"]
    assert endpoints.list() == []
    with pytest.raises(OSError):
        os.kill(second["Pid"], 0)
    with pytest.raises(EndpointError, match="no local endpoint named 'hotel'"):
        endpoints.describe("hotel")


def test_only_approved_versions_deploy_unless_allowed(endpoints):
    with pytest.raises(ModelRegistryError, match="version 2 is PendingManualApproval"):
        endpoints.deploy("hotel", f"{MODEL}:2")
    assert endpoints.list() == []


def test_a_bad_request_is_an_input_error_and_the_endpoint_keeps_serving(endpoints, batch_predictions):
    endpoints.deploy("hotel", MODEL)
    with pytest.raises(InputError, match=r"refused the request \(400\): missing required column"):
        endpoints.invoke("hotel", b"booking_id\n1\n", "text/csv")
    answer = endpoints.invoke("hotel", body(0), "text/csv")
    assert answer.split(b"\n")[1] == batch_predictions.split(b"\n")[1]


def test_async_reads_the_request_from_local_s3_and_writes_the_answer_there(endpoints, batch_predictions):
    record = endpoints.deploy("hotel-async", MODEL, endpoint_type="async",
                              output_uri="s3://answers/hotel/")
    assert record["AsyncInferenceConfig"] == {"OutputConfig": {"S3OutputPath": "s3://answers/hotel/"}}
    s3 = LocalS3(smlift_home())
    s3.put_bytes(body(11, 12), "s3://requests/batch-1.csv")
    result = endpoints.invoke_async("hotel-async", "s3://requests/batch-1.csv", "text/csv", s3=s3)
    assert result["OutputLocation"] == f"s3://answers/hotel/{result['InferenceId']}.out"
    header, *lines = [line for line in batch_predictions.split(b"\n") if line]
    assert s3.get_bytes(result["OutputLocation"]) == b"\n".join([header, lines[11], lines[12]]) + b"\n"
    with pytest.raises(EndpointError, match="not asynchronous"):
        endpoints.deploy("hotel-rt", MODEL)
        endpoints.invoke_async("hotel-rt", "s3://requests/batch-1.csv", "text/csv", s3=s3)


def test_the_server_never_sees_the_callers_secrets(endpoints, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    record = endpoints.deploy("hotel", MODEL)
    environ = Path(f"/proc/{record['Pid']}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=")[0] for entry in environ if entry}
    assert b"AWS_SECRET_ACCESS_KEY" not in names and b"SMLIFT_HOME" not in names
    assert b"SAGEMAKER_BIND_TO_PORT" in names


HOLD_SLOT = """
import fcntl, sys
handle = open(sys.argv[1], "a+b")
fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
sys.stdin.read()
"""


def test_serverless_takes_max_concurrency_invocations_and_throttles_the_next(endpoints,
                                                                             batch_predictions):
    """Another process's invocation in flight fills MaxConcurrency 1: the next is refused at
    once with ThrottlingException (429); once it ends, invocations go through again."""
    record = endpoints.deploy("hotel-sls", MODEL, endpoint_type="serverless", max_concurrency=1,
                              memory_mb=3072)
    assert record["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 1}
    limits = Path(f"/proc/{record['Pid']}/limits").read_text()
    data = next(line for line in limits.splitlines() if line.startswith("Max data size"))
    assert data.split()[3:5] == [str(3072 * 1024 * 1024)] * 2
    assert endpoints.invoke("hotel-sls", body(0), "text/csv").split(b"\n")[1] == \
        batch_predictions.split(b"\n")[1]
    slot = smlift_home() / "endpoints" / "hotel-sls" / "slots" / "slot-0"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SLOT, str(slot)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(EndpointThrottled, match="MaxConcurrency") as refused:
            endpoints.invoke("hotel-sls", body(0), "text/csv")
        assert (refused.value.code, refused.value.status) == ("ThrottlingException", 429)
    finally:
        holder.communicate("")
    assert endpoints.invoke("hotel-sls", body(0), "text/csv")


def test_the_cli_goes_through_one_interface_with_json_table_and_text(endpoints, run_cli):
    code, out, err = run_cli("endpoints", "deploy", "hotel", "--model", MODEL, "--local",
                             "--engine", "local", "--dry-run")
    assert code == 0, err
    planned = json.loads(out)
    assert (planned["DryRun"], planned["Calls"][0]["Operation"]) == (True, "start_server")
    assert "would start smlift-inference:test" in err and endpoints.list() == []
    code, out, err = run_cli("endpoints", "deploy", "hotel", "--model", MODEL, "--local",
                             "--engine", "local", "--output", "text")
    assert code == 0, err
    assert out.splitlines()[0].split("\t")[:4] == ["hotel", "InService", "realtime", f"{MODEL}:1"]
    code, out, _ = run_cli("endpoints", "list", "--local")
    assert [e["EndpointName"] for e in json.loads(out)["Endpoints"]] == ["hotel"]
    code, out, _ = run_cli("endpoints", "list", "--local", "--output", "table")
    header, row = out.splitlines()
    assert header.split() == ["EndpointName", "EndpointStatus", "EndpointType", "Model",
                              "LastModifiedTime"]
    assert row.split()[:4] == ["hotel", "InService", "realtime", f"{MODEL}:1"]
    code, out, _ = run_cli("endpoints", "describe", "hotel", "--local")
    assert json.loads(out)["EndpointArn"].endswith(":endpoint/hotel")
    code, out, err = run_cli("endpoints", "delete", "hotel", "--local")
    assert code == 0, err
    assert [c["Operation"] for c in json.loads(out)["Calls"]] == ["stop_server", "delete_record"]
    assert endpoints.list() == []
