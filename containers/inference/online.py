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
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

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


class BadRequest(Exception):
    """The request cannot be scored; the message is one line for the client, `status` its 4xx."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def media_type(header: str | None) -> str:
    """'text/csv; charset=utf-8' -> 'text/csv'; '' -> ''."""
    return (header or "").split(";")[0].strip().lower()


def read_bookings(body: bytes, content_type: str) -> pd.DataFrame:
    """The request's raw bookings rows, read as the preprocessing step reads its input file."""
    kind = media_type(content_type)
    if kind not in CONTENT_TYPES:
        raise BadRequest(f"unsupported content type {content_type!r}; send text/csv (bookings with "
                         "their header row) or application/json (a list of booking records)", 415)
    text = body if kind == CSV else records_to_csv(body)
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
    features = preprocessing.preprocess(raw)
    features[BATCH_FLOATS] = features[BATCH_FLOATS].astype("float64")
    probability = predict.predict_probability(pad_rows(features, BLAS_BLOCK), model)[:len(features)]
    return postprocessing.score_bookings(predict.add_probability(features, probability))


def pad_rows(frame: pd.DataFrame, block: int) -> pd.DataFrame:
    """`frame` with its last row repeated until the row count is a multiple of `block`."""
    missing = -len(frame) % block
    if not len(frame) or not missing:
        return frame
    return pd.concat([frame, frame.iloc[[-1] * missing]], ignore_index=True)


def json_records(scored: pd.DataFrame) -> list[dict]:
    """The rows as JSON-ready records: exact floats (shortest repr), missing as null."""
    rows = scored.astype(object).where(scored.notna(), None).to_dict(orient="records")
    return [{k: v.item() if hasattr(v, "item") else v for k, v in row.items()} for row in rows]


def render(scored: pd.DataFrame, accept: str) -> tuple[bytes, str]:
    """(body, content type): the predictions.csv text, or the same rows as JSON records."""
    kind = media_type(accept)
    if kind == CSV:
        return scored.to_csv(index=False).encode(), CSV
    if kind == JSON:
        return json.dumps(json_records(scored), allow_nan=False).encode(), JSON
    raise BadRequest(f"cannot answer in {accept!r}; accept text/csv or application/json", 406)


def invoke(body: bytes, content_type: str, accept: str, model) -> tuple[bytes, str]:
    """One /invocations request: raw bookings in, scored bookings out."""
    wanted = content_type if media_type(accept) in ("", "*/*") else accept
    return render(score(read_bookings(body, content_type), model), wanted)
