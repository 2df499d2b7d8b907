"""Parsing JSON text as AWS does: `loads`, the one JSON parser for what a user hands smlift.

Python's `json.loads` accepts more than JSON and fails in ways that are not `ValueError`s:

- `NaN`, `Infinity` and `-Infinity` are read as floats, and a number too large for a float
  (`1e999`) becomes `inf`. None of them is JSON; Step Functions refuses them
  (InvalidExecutionInput), and smlift would print them back as invalid JSON.
- A document nested deeper than Python's recursion limit raises `RecursionError`, which the CLI
  would show as a bug.

`loads` refuses all of them with a `json.JSONDecodeError` (a `ValueError`), so every reader that
already handles invalid JSON handles these too, with a message that says what is wrong.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 256  # deeper documents are refused before anything walks them recursively


class JSONRefused(json.JSONDecodeError):
    """Text that Python could parse but that is not JSON (or is too deep to handle)."""


def loads(text: str | bytes) -> Any:
    """The JSON value of `text`; JSONRefused (a ValueError) for NaN, Infinity, numbers out of a
    double's range and documents nested more than MAX_DEPTH deep."""
    doc = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        value = json.loads(doc, parse_constant=lambda name: _refuse_constant(name, doc),
                           parse_float=lambda digits: _finite_float(digits, doc))
    except RecursionError:
        raise JSONRefused(f"nested more than {MAX_DEPTH} levels deep", doc, 0) from None
    if _deeper_than(value, MAX_DEPTH):
        raise JSONRefused(f"nested more than {MAX_DEPTH} levels deep", doc, 0)
    return value


def _refuse_constant(name: str, doc: str):
    raise JSONRefused(f"{name} is not a JSON value", doc, max(doc.find(name), 0))


def _finite_float(digits: str, doc: str) -> float:
    value = float(digits)
    if math.isinf(value):
        raise JSONRefused(f"the number {digits[:40]} is out of range", doc,
                          max(doc.find(digits), 0))
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False
