"""Concurrent requests scored in one call (online.Batcher) get exactly the bytes they get alone,
and the batch pipeline's published lines: whatever their column types, in CSV and in JSON."""

import http.client
import importlib
import json
import random
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
INFERENCE = REPO / "containers" / "inference"
BOOKINGS = REPO / "examples" / "data" / "bookings.csv"
HEADER, *ROWS = [line for line in BOOKINGS.read_bytes().split(b"\n") if line]


@pytest.fixture(scope="module")
def online():
    sys.path.insert(0, str(INFERENCE))
    try:
        yield importlib.import_module("online")
    finally:
        sys.path.remove(str(INFERENCE))


@pytest.fixture(scope="module")
def model(online):
    import predict
    return predict.load_model(predict.DEFAULT_MODEL)


class CountingModel:
    """The real model, counting its calls; it fails a call that holds a row with lead_time 666."""

    def __init__(self, model):
        self.model, self.calls = model, 0
        self.feature_names_in_ = model.feature_names_in_

    def predict_proba(self, features):
        self.calls += 1
        if (features["lead_time"] == 666).any():
            raise ValueError("poisoned row")
        return self.model.predict_proba(features)


def with_field(row: bytes, column: str, value: bytes) -> bytes:
    cells = row.split(b",")
    cells[HEADER.split(b",").index(column.encode())] = value
    return b",".join(cells)


def csv_body(*rows: bytes) -> bytes:
    return b"\n".join([HEADER, *rows]) + b"\n"


# Requests whose columns read as different types, one by one: each must keep its own bytes.
ODD_REQUESTS = {
    "int id": csv_body(ROWS[0]),
    "empty id (a float column)": csv_body(with_field(ROWS[1], "booking_id", b"")),
    "text id": csv_body(with_field(ROWS[2], "booking_id", b"B-77")),
    "fractional id": csv_body(with_field(ROWS[3], "booking_id", b"12.5")),
    "quoted id with a comma": csv_body(with_field(ROWS[4], "booking_id", b'"7,8"')),
    "empty hotel (a float column)": csv_body(with_field(ROWS[5], "hotel", b"")),
    "numeric hotel": csv_body(with_field(ROWS[6], "hotel", b"3")),
    "text lead time": csv_body(with_field(ROWS[7], "lead_time", b" 45 ")),
    "fractional adults": csv_body(with_field(ROWS[8], "adults", b"2.5")),
    "unreadable month": csv_body(with_field(ROWS[9], "arrival_date_month", b"Smarch")),
    "negative count": csv_body(with_field(ROWS[10], "babies", b"-1")),
    "huge integer": csv_body(with_field(ROWS[11], "adr", b"9007199254740993")),
    "two rows, one empty id": csv_body(ROWS[12], with_field(ROWS[13], "booking_id", b"")),
}


def alone(online, model, body: bytes, accept: str) -> bytes:
    return online.invoke(body, "text/csv", accept, model)[0]


ONLY_NUMBER_IDS = ["int id", "empty id (a float column)", "fractional id", "two rows, one empty id"]


@pytest.mark.parametrize("accept", ["text/csv", "application/json"])
@pytest.mark.parametrize("names", [list(ODD_REQUESTS), ONLY_NUMBER_IDS], ids=["all", "number ids"])
def test_one_shared_call_answers_each_request_as_alone(online, model, accept, names):
    """With only number ids, the call's booking_id column is float: 5 would print as 5.0."""
    requests = {name: ODD_REQUESTS[name] for name in names}
    expected = {name: alone(online, model, body, accept) for name, body in requests.items()}
    counting = CountingModel(model)
    batcher = online.Batcher(counting)
    kind = online.response_type(accept, "text/csv")
    waiting = {name: online.Waiting(body, "text/csv", kind) for name, body in requests.items()}
    batcher.run(list(waiting.values()))
    for name, item in waiting.items():
        assert item.answer == (expected[name], kind), name
    shared = {item.key for item in waiting.values() if item.key is not None}
    alone_ones = sum(item.key is None for item in waiting.values())
    assert counting.calls == len(shared) + alone_ones < len(requests)


def test_integer_columns_are_scored_as_floats_only_where_every_integer_is_exact(online):
    small = online.read_bookings(csv_body(ROWS[0]), "text/csv")
    floats = online.as_floats(small)
    assert floats["adults"].dtype == "float64" and floats["adults"].tolist() == small["adults"].tolist()
    huge = online.read_bookings(ODD_REQUESTS["huge integer"], "text/csv")
    huge["adults"] = 2 ** 53 + 1
    assert online.as_floats(huge) is huge


def test_only_a_number_a_float_could_round_keeps_a_request_out_of_shared_calls(online):
    keys = {name: online.batch_key(online.read_bookings(body, "text/csv"))
            for name, body in ODD_REQUESTS.items()}
    assert keys.pop("huge integer") is None
    assert keys.pop("numeric hotel") != keys["int id"]    # an int column is not a text column
    assert len(set(keys.values())) == 1


def test_every_booking_in_random_shared_calls_gives_the_published_line(online, model,
                                                                       batch_predictions):
    header, *lines = [line for line in batch_predictions.split(b"\n") if line]
    rng = random.Random(7)
    order = rng.sample(range(len(ROWS)), len(ROWS))
    batcher = online.Batcher(model)
    while order:
        requests = []
        for _ in range(rng.randint(1, 12)):
            size = rng.randint(1, 3)
            rows, order = order[:size], order[size:]
            if rows:
                body = csv_body(*(ROWS[i] for i in rows))
                requests.append((rows, online.Waiting(body, "text/csv", "text/csv")))
        batcher.run([w for _, w in requests])
        for rows, item in requests:
            assert item.answer[0] == b"\n".join([header, *(lines[i] for i in rows)]) + b"\n", rows


def test_a_request_that_fails_a_shared_call_fails_alone(online, model):
    counting = CountingModel(model)
    batcher = online.Batcher(counting)
    bodies = [csv_body(ROWS[20]), csv_body(with_field(ROWS[22], "lead_time", b"666")),
              csv_body(ROWS[21])]
    waiting = [online.Waiting(body, "text/csv", "text/csv") for body in bodies]
    batcher.run(waiting)
    assert isinstance(waiting[1].error, ValueError) and waiting[1].answer is None
    for item, body in zip([waiting[0], waiting[2]], [bodies[0], bodies[2]]):
        assert item.error is None
        assert item.answer == online.invoke(body, "text/csv", "", model)
    assert counting.calls == 1 + 3      # the shared call, then each request alone


def test_an_unreadable_request_in_a_call_gets_its_own_error_and_the_others_their_answers(
        online, model):
    counting = CountingModel(model)
    batcher = online.Batcher(counting)
    bodies = [csv_body(ROWS[30]), b"", b"booking_id\n1\n", csv_body(ROWS[31])]
    waiting = [online.Waiting(body, "text/csv", "text/csv") for body in bodies]
    batcher.run(waiting)
    assert [type(w.error).__name__ for w in waiting] == ["NoneType", "BadRequest", "BadRequest",
                                                          "NoneType"]
    assert "empty" in str(waiting[1].error) and "missing required column" in str(waiting[2].error)
    for item, body in zip([waiting[0], waiting[3]], [bodies[0], bodies[3]]):
        assert item.answer == online.invoke(body, "text/csv", "", model)
    assert counting.calls == 1          # the two readable requests, in one call


def test_threads_arriving_together_share_calls_and_keep_their_bytes(online, model):
    counting = CountingModel(model)
    batcher = online.Batcher(counting)
    bodies = list(ODD_REQUESTS.values()) * 2
    expected = [alone(online, model, body, "text/csv") for body in bodies]
    got = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def client(i):
        start.wait()
        got[i] = online.invoke(bodies[i], "text/csv", "", model, batcher)[0]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected
    assert counting.calls < len(bodies)


def test_concurrent_mixed_requests_over_http_answer_as_alone(web, inference_server):
    """CSV and JSON, odd column types and plain rows, 24 at once on two workers."""
    cases = [(body, "text/csv", "") for body in ODD_REQUESTS.values()]
    for i in (30, 31, 32):
        record = dict(zip(HEADER.decode().split(","), ROWS[i].decode().split(",")))
        cases.append((json.dumps(record).encode(), "application/json", ""))
        cases.append((csv_body(ROWS[i]), "text/csv", "application/json"))
    cases += [(csv_body(ROWS[i]), "text/csv", "") for i in range(40, 48)]
    expected = [web.post(inference_server + "/invocations", body, kind, accept or None)
                for body, kind, accept in cases]
    assert all(status == 200 for status, _, _ in expected)
    host, port = inference_server.removeprefix("http://").split(":")
    got = [None] * len(cases)
    start = threading.Barrier(len(cases))

    def client(i):
        body, kind, accept = cases[i]
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        start.wait()
        connection.request("POST", "/invocations", body=body,
                           headers={"Content-Type": kind, **({"Accept": accept} if accept else {})})
        response = connection.getresponse()
        got[i] = (response.status, response.headers.get_content_type(), response.read())
        connection.close()

    for _ in range(3):
        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(cases))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert got == expected
