"""Online scoring: raw bookings in, the lines the batch pipeline publishes in predictions.csv out.

The batch pipeline is three Processing jobs: `preprocessing.py` (cleaning and features), this
image's `predict.py` (the model) and `postprocessing.py` (the per-row business rules). An endpoint
runs the same three functions on the rows of one request, in memory:

    raw CSV (or JSON records) -> preprocessing.preprocess -> predict.predict_probability
                              -> postprocessing.score_bookings -> the predictions.csv text

`preprocessing.py` and `postprocessing.py` in this folder are copies of `scripts/` (the image's
build context is this folder); `make serving-code` refreshes them and a test fails when they differ.

One thing differs between a file and a request: pandas infers a column's type from all of its
rows, so a month column with one unreadable month is float in a 2,000-row file but int in a
one-row request, and would print `4` instead of `4.0`. `BATCH_FLOATS` pins the numeric columns to
the type they have in the pipeline's files (float, as soon as one value may be missing), so a row
scores to the same bytes alone or in a file.

A second difference is in the last bit of a probability: the model's final dot product runs
through BLAS, which computes rows in blocks of four and the rows of an incomplete last block
another way, so a row's probability can differ by one ulp between a one-row call and the same row
inside a file. `score` pads the rows it hands the model to a whole number of blocks (repeating the
last row) and keeps only the real ones, so every request row is computed as in a file.

Scoring one row costs about as much as scoring thirty: nearly all of it is pandas and
scikit-learn overhead per call, not per row. So a server worker scores the requests that arrive
together in one call (`Batcher`) and splits the result, and each request still gets exactly the
bytes it would get alone:
- the rows of a call are the requests' own parsed frames, concatenated, never re-parsed text;
- `booking_id` is the one input column that reaches the answer unchanged, so its type (an empty
  id makes a float column, a text id a string one) shows in the bytes: each request's part gets
  its own `booking_id` column back;
- the other columns only feed the cleaning and the model, and requests share a call only when
  their columns read alike (`batch_key`): the same names in the same order, numbers that every
  path reads to the same float (an integer beyond 2**50 could round differently as a float, so
  such a request is scored alone), and text columns that are text in all of them;
- rows of a call are computed in whole BLAS blocks (the padding above), as in a file;
- if a shared call fails, every request is scored again alone, so one bad request cannot fail
  the others.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

import postprocessing
import predict
import preprocessing

CSV, JSON = "text/csv", "application/json"
CONTENT_TYPES = (CSV, JSON)
BLAS_BLOCK = 8  # a multiple of the row blocks BLAS computes alike (4 on x86-64 and arm64)
# Every numeric column the pipeline derives, except the 0/1 flags that can never be missing.
BATCH_FLOATS = [*preprocessing.NUMERIC_COLS, "arrival_month_num", "arrival_weekday",
                "total_nights", "total_guests", "adr_per_person"]
ID_COL = "booking_id"
EXACT_INT = 2 ** 50         # integers below this are exact as floats, and so are sums of three
EXACT_INT_DIGITS = 15       # a written integer of at most 15 characters is below 10**15 < 2**50
BATCH_MAX_ROWS = 512        # a request with more rows is scored on its own
GATHER_SECONDS = 0.020      # how long a call waits at most for the requests it expects
REQUIRED, NUMERIC = set(preprocessing.REQUIRED_COLS), set(preprocessing.NUMERIC_COLS)
RECENT_CALLS = 4            # it expects as many as the largest of this many calls before it


class BadRequest(Exception):
    """The request cannot be scored; the message is one line for the client, `status` its 4xx."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def media_type(header: str | None) -> str:
    """'text/csv; charset=utf-8' -> 'text/csv'; '' -> ''."""
    return (header or "").split(";")[0].strip().lower()


def check_content_type(content_type: str) -> str:
    """The request's media type, if the server reads it (415 otherwise)."""
    kind = media_type(content_type)
    if kind not in CONTENT_TYPES:
        raise BadRequest(f"unsupported content type {content_type!r}; send text/csv (bookings with "
                         "their header row) or application/json (a list of booking records)", 415)
    return kind


def read_bookings(body: bytes, content_type: str) -> pd.DataFrame:
    """The request's raw bookings rows, read as the preprocessing step reads its input file."""
    text = body if check_content_type(content_type) == CSV else records_to_csv(body)
    try:
        raw = pd.read_csv(io.BytesIO(text))
    except pd.errors.EmptyDataError:
        raise BadRequest("the request is empty; send bookings CSV with its header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadRequest(f"not a readable CSV ({reason})") from None
    missing = [c for c in preprocessing.REQUIRED_COLS if c not in raw.columns]
    if missing:
        raise BadRequest(f"missing required column(s) {', '.join(missing)}; "
                         "send the bookings export's header row")
    return raw


def records_to_csv(body: bytes) -> bytes:
    """JSON booking records (a list of objects, or one object) as the CSV they were exported from."""
    try:
        records = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"not valid JSON ({exc})") from None
    records = [records] if isinstance(records, dict) else records
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise BadRequest("send a JSON object or a non-empty list of objects, one per booking")
    columns = list(dict.fromkeys(key for record in records for key in record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([json_cell(record.get(c)) for c in columns] for record in records)
    return out.getvalue().encode()


def json_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise BadRequest("booking fields must be strings, numbers or null, not objects or lists")
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def score(raw: pd.DataFrame, model) -> pd.DataFrame:
    """The predictions.csv rows for these raw bookings, in order."""
    features = preprocessing.preprocess(as_floats(raw))
    for column in BATCH_FLOATS:
        if features[column].dtype != "float64":
            features[column] = features[column].astype("float64")
    probability = predict.predict_probability(pad_rows(features, BLAS_BLOCK), model)[:len(features)]
    return postprocessing.score_bookings(predict.add_probability(features, probability))


def as_floats(raw: pd.DataFrame) -> pd.DataFrame:
    """`raw` with its integer numeric columns as float64, as the pipeline's files hold them.

    They end as floats anyway (BATCH_FLOATS), and cleaning an int column gives the same values as
    the same column in floats; a float column lets the cleaning skip the range checks that select
    nothing (`preprocessing.set_missing`), most of a few rows' cost. Only when every integer is
    exact as a float, and so are sums of three (below EXACT_INT); otherwise `raw` as it is."""
    ints = {c: raw[c].to_numpy() for c in preprocessing.NUMERIC_COLS if raw[c].dtype.kind in "iu"}
    if not ints or any(np.abs(values).max(initial=0) >= EXACT_INT for values in ints.values()):
        return raw
    return raw.assign(**{c: values.astype("float64") for c, values in ints.items()})


def pad_rows(frame: pd.DataFrame, block: int) -> pd.DataFrame:
    """`frame` with its last row repeated until the row count is a multiple of `block`."""
    missing = -len(frame) % block
    if not len(frame) or not missing:
        return frame
    return frame.iloc[[*range(len(frame)), *[len(frame) - 1] * missing]]


def json_records(scored: pd.DataFrame) -> list[dict]:
    """The rows as JSON-ready records: exact floats (shortest repr), missing as null."""
    rows = scored.astype(object).where(scored.notna(), None).to_dict(orient="records")
    return [{k: v.item() if hasattr(v, "item") else v for k, v in row.items()} for row in rows]


def response_type(accept: str, content_type: str) -> str:
    """The media type to answer in: Accept, else the request's own type (406 if neither works)."""
    wanted = media_type(content_type if media_type(accept) in ("", "*/*") else accept)
    if wanted not in CONTENT_TYPES:
        raise BadRequest(f"cannot answer in {accept!r}; accept text/csv or application/json", 406)
    return wanted


def render(scored: pd.DataFrame, kind: str) -> tuple[bytes, str]:
    """(body, content type): the predictions.csv text, or the same rows as JSON records."""
    if kind == CSV:
        return scored.to_csv(index=False).encode(), CSV
    return json.dumps(json_records(scored), allow_nan=False).encode(), JSON


def invoke(body: bytes, content_type: str, accept: str, model,
           batcher: "Batcher | None" = None) -> tuple[bytes, str]:
    """One /invocations request: raw bookings in, scored bookings out (with others' rows in one
    scoring call when a `batcher` is given; the bytes are the same). Its types are checked
    first (415, 406), then its body (400)."""
    check_content_type(content_type)
    kind = response_type(accept, content_type)
    if batcher is not None:
        return batcher.invoke(Waiting(body, content_type, kind))
    return render(score(read_bookings(body, content_type), model), kind)


# --- scoring concurrent requests together ------------------------------------------------------

def batch_key(raw: pd.DataFrame) -> tuple | None:
    """Requests with equal keys can share a scoring call and each get its own bytes; None: this
    request is scored alone (too many rows, or a number a float could round)."""
    if len(raw) > BATCH_MAX_ROWS:
        return None
    key, integers = [], []
    for name, dtype in zip(raw.columns, raw.dtypes):
        if name == ID_COL or name not in REQUIRED:
            kind = "any"          # booking_id is put back per request; the rest is never read
        elif name in NUMERIC:
            if dtype.kind == "i":
                integers.append(name)
            elif dtype.kind != "f" and not (is_text(dtype) and short_numbers(raw[name])):
                return None
            kind = "number"       # int, float and text all read to the same float
        elif is_text(dtype) or (dtype.kind == "f" and np.isnan(raw[name].to_numpy()).all()):
            kind = "text"         # an empty column reads as float, and is missing either way
        else:
            kind = str(dtype)
        key.append((name, kind))
    for name in integers:
        values = raw[name].to_numpy()
        if values.min() <= -EXACT_INT or values.max() >= EXACT_INT:
            return None
    return tuple(key)


def short_numbers(column: pd.Series) -> bool:
    """Whether every text of this numeric column is short enough that, if it is an integer, it
    is below 2**50 (so it reads to the same number as an int or as a float)."""
    return bool((column.dropna().astype(str).str.strip().str.len() <= EXACT_INT_DIGITS).all())


def is_text(dtype) -> bool:
    return dtype == object or isinstance(dtype, pd.StringDtype)


def split(scored: pd.DataFrame, raws: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The scored rows of each request, with that request's own booking_id column (the call's
    column has the same values, so only its type can differ)."""
    parts, start = [], 0
    for raw in raws:
        part = scored.iloc[start:start + len(raw)].reset_index(drop=True)
        if raw[ID_COL].dtype != part[ID_COL].dtype:
            part[ID_COL] = raw[ID_COL].reset_index(drop=True)
        parts.append(part)
        start += len(raw)
    return parts


class Waiting:
    """One request waiting for a scoring call: its body, then its answer (body, media type) or
    the error to answer with. The call reads it (`read`), scores it and renders its answer."""

    def __init__(self, body: bytes, content_type: str, kind: str):
        self.body, self.content_type, self.kind = body, content_type, kind
        self.raw: pd.DataFrame | None = None
        self.key: tuple | None = None
        self.answer: tuple[bytes, str] | None = None
        self.error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.answer is not None or self.error is not None

    def read(self) -> bool:
        """Parse the body and take its `batch_key`; False, with the error kept, if it cannot."""
        try:
            self.raw = read_bookings(self.body, self.content_type)
            self.key = batch_key(self.raw)
        except Exception as exc:
            self.error = exc
            return False
        return True


class Batcher:
    """Scores the requests that one worker's threads receive together, in one call per kind.

    One call runs at a time. A request joins the queue unread; if no call is running, its thread
    runs one on everything queued by then, otherwise it waits until a call has answered it, or
    until the running call ends and it may run the next. So the requests that arrive while a call
    runs share the next call. Before a call takes the queue, it waits up to GATHER_SECONDS for as
    many requests as the previous call had (the clients of a busy endpoint send their next
    requests together); a lone client never waits.

    The call's thread reads every request, scores them grouped by `batch_key` (a request too big
    to share, or with numbers a float could round, alone) and renders every answer, one after
    the other: the other threads only wait, so that work does not contend with the scoring for
    the interpreter (parsing and rendering interleaved with a call cost twice their own time).
    """

    def __init__(self, model, gather_seconds: float = GATHER_SECONDS):
        self.model, self.gather_seconds = model, gather_seconds
        self.queue: list[Waiting] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)    # a request joined the queue
        self.finished = threading.Condition(self.lock)   # a request was answered, or a call ended
        self.busy = False
        self.recent = [1]       # request counts of the last RECENT_CALLS calls

    def invoke(self, waiting: Waiting) -> tuple[bytes, str]:
        """The request's answer, from whichever call takes it; raises its error instead."""
        with self.lock:
            self.queue.append(waiting)
            self.arrived.notify()
        while self.take_turn(lambda: not waiting.done):
            try:
                self.run(self.gather())
            finally:
                self.end_turn()
        if waiting.error is not None:
            raise waiting.error
        return waiting.answer

    def take_turn(self, wanted) -> bool:
        """Wait until no call runs or `wanted()` is false; True: the caller now runs the call."""
        with self.lock:
            while self.busy and wanted():
                self.finished.wait()
            if not wanted():
                return False
            self.busy = True
            return True

    def end_turn(self) -> None:
        with self.lock:
            self.busy = False
            self.finished.notify_all()

    def gather(self) -> list[Waiting]:
        """Everything queued, after waiting briefly for as many requests as recent calls had.

        Clients of a busy endpoint send their next request as soon as they have their answer, so
        a call that started on the first of them would leave the rest to the next call, and the
        clients would stay split in two groups, each waiting for the other's call. Waiting for
        the largest recent count keeps them in one call; a lone client never waits, and when
        clients leave the count drops after RECENT_CALLS calls."""
        expected = max(self.recent)
        deadline = time.monotonic() + self.gather_seconds
        with self.lock:
            while len(self.queue) < expected and (left := deadline - time.monotonic()) > 0:
                self.arrived.wait(left)
            taken, self.queue = self.queue, []
        self.recent = [*self.recent, len(taken)][-RECENT_CALLS:]
        return taken

    def run(self, taken: list[Waiting]) -> None:
        """Read, score and answer these requests."""
        groups: dict[tuple, list[Waiting]] = {}
        for waiting in taken:
            if not waiting.read():
                self.finish(waiting)
            elif waiting.key is None:
                groups[("alone", id(waiting))] = [waiting]
            else:
                groups.setdefault(waiting.key, []).append(waiting)
        for group in groups.values():
            parts = [None] * len(group)         # None: `finish` scores that request alone
            if len(group) > 1:
                raws = [w.raw for w in group]
                try:
                    parts = split(score(pd.concat(raws, ignore_index=True), self.model), raws)
                except Exception:
                    pass                        # each alone: one request cannot fail the others
            for waiting, part in zip(group, parts):
                self.finish(waiting, part)

    def finish(self, waiting: Waiting, part: pd.DataFrame | None = None) -> None:
        """Answer `waiting` with its scored rows (scoring it alone if `part` is None), or with
        its error."""
        answer, error = None, waiting.error
        if error is None:
            try:
                answer = render(score(waiting.raw, self.model) if part is None else part,
                                waiting.kind)
            except Exception as exc:
                error = exc
        with self.lock:
            waiting.answer, waiting.error = answer, error
            self.finished.notify_all()
