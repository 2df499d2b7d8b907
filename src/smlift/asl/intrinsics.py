"""The States.* intrinsic functions of JSONPath states: a parser, an evaluator and the functions.

    "States.Format('{} of {}', $.n, States.ArrayLength($.items))"
        -> Call("States.Format", [Literal, Path("$.n"), Call("States.ArrayLength", [Path])])

The parser accepts what AWS accepts as arguments: single-quoted strings (escapes \\' \\{ \\} \\\\),
numbers, true/false/null, paths ($, $$, $var) and nested calls (at most 10 levels deep). Parsed
expressions are cached. Each function is a plain Python function taking the evaluated argument
values; `INTRINSICS` maps AWS's names to them. Bad arguments raise
`StatesError("States.IntrinsicFailure", cause)`. What JSONata offers too (partition, range, hash,
random, UUID) does its work through the shared cores of `functions.py`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from smlift.errors import StatesError

from .functions import (HASH_ALGORITHMS, MAX_RANGE_ITEMS, hash_hex, inclusive_range,
                        is_integral, new_uuid, partition, random_source)
from .jsonpath import (PathSyntaxError, compile_path, json_equal, json_type,
                       select_path, to_json)

__all__ = ["evaluate_intrinsic", "check_intrinsic", "is_intrinsic", "INTRINSICS",
           "parse_intrinsic", "IntrinsicSyntaxError", "format_value"]

MAX_NESTING = 10
MAX_STRING = 10_000
INT_MIN, INT_MAX = -2**31, 2**31 - 1


class IntrinsicSyntaxError(ValueError):
    pass


def _fail(cause: str) -> StatesError:
    return StatesError("States.IntrinsicFailure", cause)


# --------------------------------------------------------------------------- parsing

@dataclass(frozen=True)
class Literal:
    value: Any
    raw: str | None = None    # the text between the quotes, escapes kept (string literals)
    bad_escape: bool = False  # an open "\\" : AWS fails at run time, not at validation


@dataclass(frozen=True)
class PathArg:
    text: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"(true|false|null)(?=\s*[,)])")


def is_intrinsic(text: Any) -> bool:
    """True for a string that looks like an intrinsic call (`States.Xxx(`)."""
    return isinstance(text, str) and bool(re.match(r"States\.[A-Za-z0-9]+\s*\(", text))


@functools.lru_cache(maxsize=2048)
def parse_intrinsic(text: str) -> Call:
    """Parse a whole call expression; raises IntrinsicSyntaxError."""
    call, pos = _parse_call(text, 0, depth=1)
    if text[pos:].strip():
        raise IntrinsicSyntaxError(f"unexpected text after the call: {text[pos:]!r}")
    return call


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _parse_call(text: str, pos: int, depth: int) -> tuple[Call, int]:
    if depth > MAX_NESTING:
        raise IntrinsicSyntaxError(f"intrinsic functions can be nested at most {MAX_NESTING} deep")
    m = _NAME.match(text, pos)
    if not m:
        raise IntrinsicSyntaxError(f"expected a States.* function name at position {pos}")
    name = m.group(0)
    if name not in INTRINSICS:
        raise IntrinsicSyntaxError(f"unknown intrinsic function {name}")
    pos = _skip(text, m.end())
    if pos >= len(text) or text[pos] != "(":
        raise IntrinsicSyntaxError(f"expected '(' after {name}")
    args: list = []
    pos = _skip(text, pos + 1)
    if pos < len(text) and text[pos] == ")":
        return Call(name, ()), pos + 1
    while True:
        arg, pos = _parse_arg(text, _skip(text, pos), depth)
        args.append(arg)
        pos = _skip(text, pos)
        if pos >= len(text):
            raise IntrinsicSyntaxError(f"missing ')' to close {name}(")
        if text[pos] == ")":
            return Call(name, tuple(args)), pos + 1
        if text[pos] != ",":
            raise IntrinsicSyntaxError(f"expected ',' or ')' at position {pos} in {name}(...)")
        pos += 1


def _parse_arg(text: str, pos: int, depth: int):
    if pos >= len(text):
        raise IntrinsicSyntaxError("missing argument")
    ch = text[pos]
    if ch == "'":
        return _parse_string(text, pos)
    if ch == "$":
        return _parse_path(text, pos)
    if text.startswith("States.", pos):
        return _parse_call(text, pos, depth + 1)
    m = _NUMBER.match(text, pos)
    if m:
        return Literal(json.loads(m.group(0))), m.end()
    m = _WORD.match(text, pos)
    if m:
        return Literal({"true": True, "false": False, "null": None}[m.group(1)]), m.end()
    raise IntrinsicSyntaxError(f"invalid argument at position {pos}: {text[pos:pos + 20]!r}")


_ESCAPABLE = {"'": "'", "{": "{", "}": "}", "\\": "\\"}


def _parse_string(text: str, pos: int) -> tuple[Literal, int]:
    out, i, bad = [], pos + 1, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            bad = bad or nxt not in _ESCAPABLE
            out.append(_ESCAPABLE.get(nxt, "\\" + nxt))
            i += 2
            continue
        if ch == "'":
            return Literal("".join(out), text[pos + 1:i], bad), i + 1
        out.append(ch)
        i += 1
    raise IntrinsicSyntaxError(f"unterminated string starting at position {pos}")


def _parse_path(text: str, pos: int) -> tuple[PathArg, int]:
    i, depth, quote = pos, 0, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"" and depth:
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0 and (ch in ",)" or ch in " \t\r\n"):
            break
        i += 1
    path = text[pos:i]
    try:
        compile_path(path)
    except PathSyntaxError as exc:
        raise IntrinsicSyntaxError(f"invalid path {path!r}: {exc}") from None
    return PathArg(path), i


def check_intrinsic(expression: Any) -> str | None:
    """None when `expression` is a valid intrinsic call, else a message naming the problem."""
    if not isinstance(expression, str):
        return "an intrinsic function call must be a string"
    try:
        call = parse_intrinsic(expression)
    except IntrinsicSyntaxError as exc:
        return f"invalid intrinsic function call {expression!r}: {exc}"
    return _check_arity(call)


def _check_arity(call: Call) -> str | None:
    low, high = ARITY[call.name]
    n = len(call.args)
    if n < low or (high is not None and n > high):
        return _arity_message(call.name, low, high, n)
    for arg in call.args:
        if isinstance(arg, Call):
            problem = _check_arity(arg)
            if problem:
                return problem
    return None


def _arity_message(name: str, low: int, high: int | None, n: int) -> str:
    if high is None:
        wanted = f"at least {low}"
    elif low == high:
        wanted = str(low)
    else:
        wanted = f"{low} to {high}"
    return f"The function {name} takes {wanted} argument(s), but {n} were given"


# ------------------------------------------------------------------------ evaluation

def evaluate_intrinsic(expression: str, value: Any, *, context: dict | None = None,
                       variables: dict | None = None) -> Any:
    """Evaluate `States.Xxx(...)` against the state's effective input `value`."""
    try:
        call = parse_intrinsic(expression)
    except IntrinsicSyntaxError as exc:
        raise _fail(f"Invalid intrinsic function call '{expression}': {exc}") from None
    return _eval_call(call, value, context, variables)


def _eval_call(call: Call, value, context, variables):
    low, high = ARITY[call.name]
    if len(call.args) < low or (high is not None and len(call.args) > high):
        raise _fail(_arity_message(call.name, low, high, len(call.args)))
    args = [_eval_arg(a, value, context, variables) for a in call.args]
    if call.name == "States.Format" and isinstance(call.args[0], Literal) \
            and call.args[0].raw is not None:
        args[0] = _Template(call.args[0].raw)
    return INTRINSICS[call.name](*args)


def _eval_arg(arg, value, context, variables):
    if isinstance(arg, Literal):
        if arg.bad_escape:
            raise _fail(f"The string literal '{arg.raw}' contains an open escape backslash; "
                        f"only \\' \\{{ \\}} and \\\\ are escapes")
        return arg.value
    if isinstance(arg, PathArg):
        return select_path(arg.text, value, context=context, variables=variables)
    return _eval_call(arg, value, context, variables)


# --------------------------------------------------------------------- type helpers



def _expect(name: str, position: str, value, kind: str):
    if json_type(value) != kind:
        raise _fail(f"The {position} argument of {name} must be a JSON {kind}, "
                    f"but was {json_type(value)}: {to_json(value)}")
    return value


def _expect_int(name: str, position: str, value) -> int:
    if not is_integral(value):
        raise _fail(f"The {position} argument of {name} must be an integer, "
                    f"but was {json_type(value)}: {to_json(value)}")
    return int(value)


def _expect_short_string(name: str, position: str, value) -> str:
    _expect(name, position, value, "string")
    if len(value) > MAX_STRING:
        raise _fail(f"The {position} argument of {name} must be at most {MAX_STRING} "
                    f"characters long, but has {len(value)}")
    return value


def _java_round(x: float) -> int:
    """Java's Math.round: half-way values go up (towards positive infinity)."""
    return math.floor(x + 0.5)


# ------------------------------------------------------------------------ formatting

def _java_double(x: float) -> str:
    """Double.toString: plain between 1e-3 and 1e7, else scientific (1.0E10)."""
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(float(x))  # Python's shortest repr, plain in this range like Java's
    shortest = repr(x)
    if "e" in shortest:
        mantissa, _, exponent = shortest.partition("e")
    else:
        exp = math.floor(math.log10(abs(x)))
        mantissa, exponent = repr(round(x / 10 ** exp, 15)), str(exp)
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def format_value(value: Any) -> str:
    """How States.Format renders an argument (Java toString of the JSON value)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) + "}"


@dataclass(frozen=True)
class _Template:
    raw: str  # a string literal's text with its escapes, so \\{ is a literal brace


def _template_parts(template) -> list:
    """Split a template into text pieces and None for each `{}` placeholder."""
    raw, escaped = (template.raw, True) if isinstance(template, _Template) else (template, False)
    parts: list = []
    buf: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if escaped and ch == "\\" and i + 1 < len(raw):
            buf.append(_ESCAPABLE.get(raw[i + 1], "\\" + raw[i + 1]))
            i += 2
        elif raw.startswith("{}", i):
            parts.extend(["".join(buf), None])
            buf = []
            i += 2
        else:
            buf.append(ch)
            i += 1
    parts.append("".join(buf))
    return parts


# ------------------------------------------------------------------------- functions

def states_format(template, *args) -> str:
    if not isinstance(template, (_Template, str)):
        _expect("States.Format", "first", template, "string")
    parts = _template_parts(template)
    holes = parts.count(None)
    if holes != len(args):
        raise _fail(f"The number of arguments of States.Format ({len(args)}) does not match "
                    f"the number of placeholders {{}} in its template ({holes})")
    values = iter(args)
    return "".join(format_value(next(values)) if p is None else p for p in parts)


def string_to_json(text) -> Any:
    _expect("States.StringToJson", "first", text, "string")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise _fail(f"The argument of States.StringToJson is not a valid JSON string: "
                    f"{text}") from None


def json_to_string(value) -> str:
    return to_json(value)


def array(*args) -> list:
    return list(args)


def array_partition(items, size) -> list:
    _expect("States.ArrayPartition", "first", items, "array")
    size = _expect_int("States.ArrayPartition", "second", size)
    if size <= 0:
        raise _fail(f"The chunk size of States.ArrayPartition must be greater than 0, "
                    f"but was {size}")
    return partition(items, size)


def array_contains(items, needle) -> bool:
    _expect("States.ArrayContains", "first", items, "array")
    return any(json_equal(item, needle) for item in items)


def array_range(start, end, step) -> list:
    start = _expect_int("States.ArrayRange", "first", start)
    end = _expect_int("States.ArrayRange", "second", end)
    step = _expect_int("States.ArrayRange", "third", step)
    if step == 0:
        raise _fail("The step of States.ArrayRange must not be 0")
    values = inclusive_range(start, end, step)
    if len(values) > MAX_RANGE_ITEMS:
        raise _fail(f"States.ArrayRange can generate at most {MAX_RANGE_ITEMS} items")
    return list(values)


def array_get_item(items, index) -> Any:
    _expect("States.ArrayGetItem", "first", items, "array")
    index = _expect_int("States.ArrayGetItem", "second", index)
    if not 0 <= index < len(items):
        raise _fail(f"The index {index} given to States.ArrayGetItem is out of bounds for an "
                    f"array of length {len(items)}")
    return items[index]


def array_length(items) -> int:
    return len(_expect("States.ArrayLength", "first", items, "array"))


def _unique_key(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_unique_key(v)}"
                              for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_unique_key(v) for v in value) + "]"
    return json.dumps(value)


def array_unique(items) -> list:
    _expect("States.ArrayUnique", "first", items, "array")
    seen: set[str] = set()
    out = []
    for item in items:
        key = _unique_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def base64_encode(text) -> str:
    text = _expect_short_string("States.Base64Encode", "first", text)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def base64_decode(text) -> str:
    text = _expect_short_string("States.Base64Decode", "first", text)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise _fail(f"The argument of States.Base64Decode is not valid base64: {text}") from None


def states_hash(data, algorithm) -> str:
    data = _expect_short_string("States.Hash", "first", data)
    _expect("States.Hash", "second", algorithm, "string")
    if algorithm not in HASH_ALGORITHMS:
        raise _fail(f"The hash algorithm '{algorithm}' of States.Hash is not supported; "
                    f"use one of {', '.join(HASH_ALGORITHMS)}")
    return hash_hex(data, algorithm)


def json_merge(first, second, deep) -> dict:
    _expect("States.JsonMerge", "first", first, "object")
    _expect("States.JsonMerge", "second", second, "object")
    _expect("States.JsonMerge", "third", deep, "boolean")
    if deep:
        raise _fail("States.JsonMerge supports only shallow merging: "
                    "its third argument must be false")
    return {**first, **second}


def math_random(start, end, seed=None) -> int:
    start = _expect_int("States.MathRandom", "first", start)
    end = _expect_int("States.MathRandom", "second", end)
    if end <= start:
        raise _fail(f"The end of States.MathRandom ({end}) must be greater than its "
                    f"start ({start})")
    if seed is not None:
        seed = _expect_int("States.MathRandom", "third", seed)
    return random_source(seed).randrange(start, end)


def math_add(first, second) -> int:
    total = 0
    for position, value in (("first", first), ("second", second)):
        _expect("States.MathAdd", position, value, "number")
        if not INT_MIN <= value <= INT_MAX:
            raise _fail(f"The {position} argument of States.MathAdd must be between "
                        f"{INT_MIN} and {INT_MAX}, but was {to_json(value)}")
        total += _java_round(value)
    return total


def string_split(text, delimiters) -> list:
    _expect("States.StringSplit", "first", text, "string")
    _expect("States.StringSplit", "second", delimiters, "string")
    if not delimiters:
        return [text] if text else []
    pattern = "[" + re.escape(delimiters) + "]"
    return [part for part in re.split(pattern, text) if part]


def states_uuid() -> str:
    return new_uuid()


INTRINSICS: dict[str, Callable] = {
    "States.Format": states_format,
    "States.StringToJson": string_to_json,
    "States.JsonToString": json_to_string,
    "States.Array": array,
    "States.ArrayPartition": array_partition,
    "States.ArrayContains": array_contains,
    "States.ArrayRange": array_range,
    "States.ArrayGetItem": array_get_item,
    "States.ArrayLength": array_length,
    "States.ArrayUnique": array_unique,
    "States.Base64Encode": base64_encode,
    "States.Base64Decode": base64_decode,
    "States.Hash": states_hash,
    "States.JsonMerge": json_merge,
    "States.MathRandom": math_random,
    "States.MathAdd": math_add,
    "States.StringSplit": string_split,
    "States.UUID": states_uuid,
}

# (minimum, maximum or None for "no limit") number of arguments
ARITY: dict[str, tuple[int, int | None]] = {
    "States.Format": (1, None), "States.StringToJson": (1, 1), "States.JsonToString": (1, 1),
    "States.Array": (0, None), "States.ArrayPartition": (2, 2), "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3), "States.ArrayGetItem": (2, 2), "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1), "States.Base64Encode": (1, 1), "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2), "States.JsonMerge": (3, 3), "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2), "States.StringSplit": (2, 2), "States.UUID": (0, 0),
}
