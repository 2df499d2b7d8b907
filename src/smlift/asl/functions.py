"""The cores of the functions AWS offers in both query languages, one home each.

    intrinsic (JSONPath)       JSONata       core here
    States.ArrayPartition      $partition    partition
    States.ArrayRange          $range        inclusive_range, MAX_RANGE_ITEMS
    States.Hash                $hash         hash_hex, HASH_ALGORITHMS
    States.MathRandom          $random       random_source
    States.UUID                $uuid         new_uuid

`intrinsics.py` and `jsonata.py` check the arguments and word their errors as AWS does for
their language (`States.IntrinsicFailure` causes, JSONata's); the work itself, and the facts
both must agree on (the hash algorithms, the range limit, what counts as an integer), live here.
This module imports nothing from the engine.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from typing import Any

MAX_RANGE_ITEMS = 1000  # the most items States.ArrayRange and $range generate

# AWS's algorithm names -> hashlib's
HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
                   "SHA-512": "sha512"}


def is_integral(value: Any) -> bool:
    """A JSON number with an integer value (2 and 2.0; not true, which Python calls 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, float) or value.is_integer()


def partition(items: list, size: int) -> list[list]:
    """`items` in chunks of `size` (> 0), the last one shorter if need be."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def inclusive_range(start: int, end: int, step: int) -> range:
    """From `start` to `end` inclusive by `step` (not 0). A range, so that a caller can refuse
    one longer than MAX_RANGE_ITEMS before making the list."""
    return range(start, end + (1 if step > 0 else -1), step)


def hash_hex(data: str, algorithm: str) -> str:
    """The hex digest of the UTF-8 bytes of `data`; `algorithm` is a key of HASH_ALGORITHMS."""
    return hashlib.new(HASH_ALGORITHMS[algorithm], data.encode("utf-8")).hexdigest()


def random_source(seed: int | None = None) -> Any:
    """Where random numbers come from: the process's generator, or a new one for a seed (the
    same seed gives the same numbers)."""
    return random if seed is None else random.Random(seed)


def new_uuid() -> str:
    """A random (version 4) UUID in its 36-character text form."""
    return str(uuid.uuid4())
