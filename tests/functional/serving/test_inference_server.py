"""The inference image's hosting mode over real HTTP: online answers are the batch pipeline's
published lines, byte for byte, and bad requests get a one-line 4xx while the server serves on."""

import csv
import http.client
import io
import json
import os
import random
import time

import pytest

from pathlib import Path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
INFERENCE = REPO / "containers" / "inference"
BOOKINGS = REPO / "examples" / "data" / "bookings.csv"
HEADER, *ROWS = [line for line in BOOKINGS.read_bytes().split(b"\n") if line]


def batch_lines(batch: bytes) -> tuple[bytes, list[bytes]]:
    header, *lines = [line for line in batch.split(b"\n") if line]
    return header, lines


def csv_body(indexes: list[int]) -> bytes:
    return b"\n".join([HEADER, *(ROWS[i] for i in indexes)]) + b"\n"


def test_single_rows_answer_the_batch_lines_byte_for_byte(web, inference_server, batch_predictions):
    header, lines = batch_lines(batch_predictions)
    chosen = random.Random(12).sample(range(len(ROWS)), 120)
    for i in chosen:
        status, kind, body = web.post(inference_server + "/invocations", csv_body([i]), "text/csv")
        assert (status, kind) == (200, "text/csv")
        assert body == header + b"\n" + lines[i] + b"\n", f"row {i} of bookings.csv"


@pytest.mark.parametrize("size", [2, 3, 7, 13])
def test_any_subset_in_any_order_answers_the_batch_lines(web, inference_server, batch_predictions, size):
    header, lines = batch_lines(batch_predictions)
    rng = random.Random(size)
    for _ in range(10):
        chosen = rng.sample(range(len(ROWS)), size)
        status, _, body = web.post(inference_server + "/invocations", csv_body(chosen), "text/csv")
        assert status == 200
        assert body == b"\n".join([header, *(lines[i] for i in chosen)]) + b"\n"


def test_the_whole_file_answers_the_published_predictions_csv(web, inference_server, batch_predictions):
    status, _, body = web.post(inference_server + "/invocations", BOOKINGS.read_bytes(), "text/csv")
    assert status == 200
    assert body == batch_predictions


def test_json_records_score_as_their_csv(web, inference_server, batch_predictions):
    header, lines = batch_lines(batch_predictions)
    chosen = [0, 5, 17, 1999]
    records = list(csv.DictReader(io.StringIO(csv_body(chosen).decode())))
    status, kind, body = web.post(inference_server + "/invocations", json.dumps(records).encode(),
                              "application/json", accept="text/csv")
    assert (status, kind) == (200, "text/csv")
    assert body == b"\n".join([header, *(lines[i] for i in chosen)]) + b"\n"
    status, kind, body = web.post(inference_server + "/invocations", json.dumps(records[0]).encode(),
                              "application/json")
    assert (status, kind) == (200, "application/json")
    answer = json.loads(body)
    expected = next(csv.DictReader(io.StringIO((header + b"\n" + lines[0]).decode())))
    assert [row["booking_id"] for row in answer] == [int(expected["booking_id"])]
    assert answer[0]["risk_band"] == expected["risk_band"]
    assert answer[0]["cancel_probability"] == float(expected["cancel_probability"])


@pytest.mark.parametrize("body, content_type, status, reason", [
    (b"booking_id,hotel\n1,City Hotel\n", "text/csv", 400, "missing required column(s) lead_time"),
    (b"", "text/csv", 400, "the request is empty"),
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"[]", "application/json", 400, "non-empty list of objects"),
    (b"a,b\n1,2\n", "application/x-npy", 415, "unsupported content type"),
])
def test_bad_input_gets_a_one_line_4xx_and_the_server_keeps_serving(
        web, inference_server, body, content_type, status, reason):
    got, kind, text = web.post(inference_server + "/invocations", body, content_type)
    assert (got, kind) == (status, "text/plain")
    assert reason in text.decode()
    assert text.decode().count("\n") == 1
    assert web.wait_for_ping(inference_server) == 200
    ok, _, _ = web.post(inference_server + "/invocations", csv_body([0]), "text/csv")
    assert ok == 200


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(inference_server):
    """The server answers from Content-Length alone: the client may not even send the body."""
    host, port = inference_server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/invocations")
    connection.putheader("Content-Type", "text/csv")
    connection.putheader("Content-Length", str(3 * 1024 * 1024))  # over the 1 MiB limit
    connection.endheaders()
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    assert (response.status, response.headers.get_content_type()) == (413, "text/plain")
    assert "over 1048576 bytes" in text


def test_an_accept_it_cannot_answer_is_406(web, inference_server):
    status, _, text = web.post(inference_server + "/invocations", csv_body([0]), "text/csv",
                           accept="application/x-protobuf")
    assert status == 406
    assert "accept text/csv or application/json" in text.decode()


def test_the_image_carries_the_pipeline_scripts_unchanged():
    """The build context holds copies of scripts/ (`make serving-code` refreshes them)."""
    scripts = INFERENCE.parents[1] / "scripts"
    for name in ("preprocessing.py", "postprocessing.py"):
        assert (INFERENCE / name).read_bytes() == (scripts / name).read_bytes(), (
            f"containers/inference/{name} differs from scripts/{name}: run `make serving-code`")


def connections_per_worker(port: int) -> list[int]:
    """Established connections on `port` held by each process that also holds its listening
    socket (the server and its workers), from Linux /proc, sorted."""
    established, listening = set(), set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            (established if fields[3] == "01" else listening if fields[3] == "0A" else set()).add(fields[9])
    counts = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            inodes = {link.readlink().name[8:-1] for link in fd_dir.iterdir()
                      if link.readlink().name.startswith("socket:[")}
        except OSError:
            continue
        if inodes & listening:
            counts.append(len(inodes & established))
    return sorted(counts)


def test_clients_connecting_together_are_shared_evenly_between_the_workers(inference_server):
    """Kept-alive connections stay with the worker that accepted it: eight clients connecting
    at once must land four and four on the two workers, not 7/1 (serve.Balance)."""
    host, port = inference_server.removeprefix("http://").split(":")
    deadline = time.monotonic() + 30        # gunicorn forks its workers one after the other
    while len(connections_per_worker(int(port))) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    connections = [http.client.HTTPConnection(host, int(port), timeout=30) for _ in range(8)]
    for connection in connections:
        connection.connect()
    for connection in connections:
        connection.request("GET", "/ping")
    assert [c.getresponse().status for c in connections] == [200] * 8
    try:
        assert connections_per_worker(int(port)) == [0, 4, 4]      # the server, its two workers
    finally:
        for connection in connections:
            connection.close()


def test_a_worker_takes_connections_while_it_holds_no_more_than_the_others(monkeypatch):
    monkeypatch.syspath_prepend(str(INFERENCE))
    import serve

    balance = serve.Balance(3)
    first, second = balance.claim(os.getpid()), balance.claim(1)     # both running
    assert (first, second) == (0, 1)
    assert not balance.may_accept(first, 1)                  # the other holds none yet
    assert balance.may_accept(second, 3) is False            # ... and now it holds 3
    assert balance.may_accept(first, 2) and not balance.may_accept(second, 3)
    assert balance.may_accept(second, 2)                     # a tie: both may take the next one
    balance.release(1)
    assert balance.may_accept(first, 9)                      # alone now
    assert balance.claim(1) == 1 and balance.claim(2 ** 22 + 7) == 2    # (that pid is unused)
    assert balance.claim(1) == 2                             # a dead worker's slot is reused
    assert balance.claim(1) == -1                            # no slot left: not balanced
