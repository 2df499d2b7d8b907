"""The real image on a Docker engine: `docker run IMAGE serve` answers as the batch pipeline
publishes, and the same image still runs unchanged as the Processing job it was."""

import subprocess
import sys
from pathlib import Path

import pytest

from smlift.local.home import smlift_home
from smlift.images import build_image
from smlift.registry import LocalRegistry
from smlift.serving import LocalEndpoints

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
BOOKINGS = REPO / "examples" / "data" / "bookings.csv"
HEADER, *ROWS = [line for line in BOOKINGS.read_bytes().split(b"\n") if line]


@pytest.fixture
def docker_image(docker_engine):
    return build_image(REPO / "containers" / "inference", "smlift-inference:serving-test",
                       echo=lambda _: None, engine="docker")


def test_a_docker_endpoint_answers_the_batch_lines(docker_image, batch_predictions):
    registry = LocalRegistry()
    registry.register("hotel-cancellation", "smlift-inference:serving-test")
    registry.approve("hotel-cancellation", 1)
    endpoints = LocalEndpoints(smlift_home(), registry=registry, engine="docker")
    record = endpoints.deploy("hotel-docker", "hotel-cancellation")
    try:
        assert (record["Engine"], record["EndpointStatus"]) == ("docker", "InService")
        header, *lines = [line for line in batch_predictions.split(b"\n") if line]
        body = b"\n".join([HEADER, ROWS[4], ROWS[999]]) + b"\n"
        assert endpoints.invoke("hotel-docker", body, "text/csv") == b"\n".join(
            [header, lines[4], lines[999]]) + b"\n"
    finally:
        endpoints.delete("hotel-docker")
    running = subprocess.run(["docker", "ps", "-q", "--filter", f"name={record['Container']}"],
                             capture_output=True, text=True).stdout
    assert running == ""


def test_the_image_still_runs_as_a_processing_job(docker_image, tmp_path):
    features = tmp_path / "in"
    features.mkdir()
    subprocess.run([sys.executable, str(REPO / "scripts" / "preprocessing.py"), "--input-dir",
                    str(BOOKINGS.parent), "--output-dir", str(features)], check=True,
                   capture_output=True)
    local_out, docker_out = tmp_path / "local", tmp_path / "docker"
    subprocess.run([sys.executable, str(REPO / "containers" / "inference" / "predict.py"),
                    "--input-dir", str(features), "--output-dir", str(local_out)], check=True,
                   capture_output=True)
    docker_out.mkdir()
    result = subprocess.run(
        ["docker", "run", "--rm", "-v", f"{features}:/opt/ml/processing/input/data:ro",
         "-v", f"{docker_out}:/opt/ml/processing/output", docker_image.docker_ref],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "predict: wrote 2000 rows" in result.stdout
    assert {p.relative_to(docker_out): p.read_bytes() for p in docker_out.rglob("*.parquet")} == {
        p.relative_to(local_out): p.read_bytes() for p in local_out.rglob("*.parquet")} != {}


def test_a_serverless_docker_endpoint_runs_with_its_memory_size_as_the_container_limit(
        docker_image, batch_predictions):
    registry = LocalRegistry()
    registry.register("hotel-cancellation", "smlift-inference:serving-test")
    registry.approve("hotel-cancellation", 1)
    endpoints = LocalEndpoints(smlift_home(), registry=registry, engine="docker")
    record = endpoints.deploy("hotel-sls", "hotel-cancellation", endpoint_type="serverless",
                              memory_mb=1024, max_concurrency=2)
    try:
        limits = subprocess.run(["docker", "inspect", "--format",
                                 "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}",
                                 record["Container"]], capture_output=True, text=True).stdout
        assert limits.split() == [str(1024 * 1024 * 1024)] * 2
        body = b"\n".join([HEADER, ROWS[8]]) + b"\n"
        assert endpoints.invoke("hotel-sls", body, "text/csv").split(b"\n")[1] == \
            batch_predictions.split(b"\n")[9]
    finally:
        endpoints.delete("hotel-sls")
