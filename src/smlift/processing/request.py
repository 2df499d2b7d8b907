"""Check a `CreateProcessingJob` request the way SageMaker does, before anything runs.

The source of truth is botocore's shipped SageMaker service model (shape
`CreateProcessingJobRequest`): required members, member types, string and list lengths, integer
ranges, enums and regular-expression patterns. botocore's own client-side validator checks only
required members, types and minimums; SageMaker checks the rest on the server and answers
`ValidationException`. We check all of it here, so `smlift validate` and the local processing
service refuse exactly what AWS would refuse.

    check_create_processing_job(request) -> [(field_path, message), ...]     # [] = valid

A field path reads like `ProcessingInputs[0].S3Input.S3Uri` or `Environment.MY_VAR`; the
message says what is wrong and how to fix it, e.g.
`'x_y' does not match [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (...)`.

The model's patterns are Java regular expressions. Two Java features appear in them that Python's
`re` lacks: Unicode categories (`\\p{L}` letters, `\\p{N}` numbers, `\\p{Z}` separators, used by
tag keys and values) and surrogate-pair ranges for supplementary characters. `_compile_pattern`
translates both; patterns are matched against the whole value, as SageMaker does.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from typing import Any, Callable, Iterator

Problem = tuple[str, str]


class ShapeProblem(tuple):
    """A (path, message) problem with the request's shape itself: an unknown field, a null or a
    value of the wrong JSON type. Step Functions refuses these before it calls SageMaker (a
    `States.Runtime` error at run time); SageMaker answers the others (`ValidationException`)."""

# A fix hint per model shape name, appended to pattern/length messages.
HINTS: dict[str, str] = {
    "ProcessingJobName": "use 1-63 letters, digits and hyphens, starting and ending with a letter or digit",
    "RoleArn": "use an IAM role ARN such as arn:aws:iam::123456789012:role/MyRole",
    "S3Uri": "use an s3://bucket/prefix URI",
    "TagKey": "use letters, digits, spaces and _ . : / = + - @ only",
    "TagValue": "use letters, digits, spaces and _ . : / = + - @ only",
    "ImageUri": "use an image URI such as ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG",
    "ProcessingEnvironmentKey": "use letters, digits and _, not starting with a digit",
    "KmsKeyId": "use a KMS key id, alias or ARN",
}


def check_create_processing_job(request: Any) -> list[Problem]:
    """Every problem with a CreateProcessingJob request, as (field path, message). Empty = valid."""
    if not isinstance(request, dict):
        return [("", f"the request must be a JSON object, not {_json_type(request)}")]
    return list(_check(_request_shape(), request, ""))


def check_request_shape(request: Any) -> list[Problem]:
    """Only the shape problems of a request (see `ShapeProblem`): what Step Functions itself
    refuses in a Task's Parameters, before SageMaker sees them."""
    return [problem for problem in check_create_processing_job(request)
            if isinstance(problem, ShapeProblem)]


def check_template_fields(template: Any, *, jsonpath: bool = False) -> list[Problem]:
    """The shape problems of a Task's Arguments (JSONata) or Parameters (`jsonpath=True`)
    template that are known before it runs: every key is, so an unknown field is found; a value
    is known only where it is a literal (not `{% ... %}`, not a `NAME.$` key's path)."""
    return list(_check_template(_request_shape(), template, "", jsonpath))


def _check_template(shape, value: Any, path: str, jsonpath: bool) -> Iterator[Problem]:
    if isinstance(value, str) and value.lstrip().startswith("{%"):
        return  # an expression: its value is known only at run time
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, member_value in value.items():
            dynamic = jsonpath and key.endswith(".$")
            name = key[:-2] if dynamic else key
            member = shape.members.get(name)
            if member is None:
                yield ShapeProblem((_join(path, name), _unknown_field(name, shape)))
            elif not dynamic:
                yield from _check_template(member, member_value, _join(path, name), jsonpath)
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _check_template(shape.member, item, f"{path}[{index}]", jsonpath)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            name = key[:-2] if jsonpath and key.endswith(".$") else key
            if not (jsonpath and key.endswith(".$")):
                yield from _check_template(shape.value, item, _join(path, name), jsonpath)
    else:
        yield from (p for p in _check(shape, value, path) if isinstance(p, ShapeProblem))


def format_problems(problems: list[Problem]) -> str:
    """One line per problem: `field: message`."""
    return "\n".join(f"{path or '(request)'}: {message}" for path, message in problems)


@functools.lru_cache(maxsize=1)
def _request_shape():
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.shape_for("CreateProcessingJobRequest")


def _check(shape, value: Any, path: str) -> Iterator[Problem]:
    yield from CHECKERS.get(shape.type_name, _check_nothing)(shape, value, path)


def _check_nothing(shape, value: Any, path: str) -> Iterator[Problem]:
    return iter(())


def _check_structure(shape, value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, dict):
        yield ShapeProblem((path, f"must be an object with fields {', '.join(shape.members)}, "
                                  f"not {_json_type(value)}"))
        return
    for name in shape.required_members:
        if name not in value:
            yield _join(path, name), f"is required: add {name} to {path or 'the request'}"
    for name, member_value in value.items():
        member = shape.members.get(name)
        if member is None:
            yield ShapeProblem((_join(path, name), _unknown_field(name, shape)))
        elif member_value is None:
            yield ShapeProblem((_join(path, name), "is null: give a value or leave the field out"))
        else:
            yield from _check(member, member_value, _join(path, name))


def _unknown_field(name: str, shape) -> str:
    close = difflib.get_close_matches(name, list(shape.members), n=1)
    hint = f"did you mean {close[0]}?" if close else f"allowed: {', '.join(shape.members)}"
    return f"unknown field {name!r} ({hint})"


def _check_list(shape, value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, list):
        yield ShapeProblem((path, f"must be a list, not {_json_type(value)}"))
        return
    yield from _check_size(shape, len(value), path, "items")
    for index, item in enumerate(value):
        yield from _check(shape.member, item, f"{path}[{index}]")


def _check_map(shape, value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, dict):
        yield ShapeProblem((path, f"must be an object of key/value pairs, not {_json_type(value)}"))
        return
    yield from _check_size(shape, len(value), path, "entries")
    for key, item in value.items():
        for _, message in _check(shape.key, key, path):
            yield path, f"key {message}"
        yield from _check(shape.value, item, _join(path, key))


def _check_string(shape, value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield ShapeProblem((path, f"must be a string, not {_json_type(value)} {value!r}"))
        return
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        yield path, _not_in_enum(value, enum, shape.name)
        return
    yield from _check_size(shape, len(value), path, "characters", shown=value)
    pattern = shape.metadata.get("pattern")
    if pattern and not _matches(pattern, value):
        yield path, _with_hint(f"{value!r} does not match {pattern}", shape.name)


def _not_in_enum(value: str, enum: list[str], shape_name: str) -> str:
    if len(enum) <= 8:
        return f"{value!r} is not one of {', '.join(enum)}"
    close = difflib.get_close_matches(value, enum, n=3)
    hint = f"did you mean {' or '.join(close)}?" if close else f"e.g. {', '.join(enum[:4])}, ..."
    return f"{value!r} is not a valid {shape_name} ({hint})"


def _check_integer(shape, value: Any, path: str) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, int):
        yield ShapeProblem((path, f"must be an integer, not {_json_type(value)} {value!r}"))
        return
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        yield path, f"{value} is out of range: must be {_range_text(low, high)}"


def _check_float(shape, value: Any, path: str) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        yield ShapeProblem((path, f"must be a number, not {_json_type(value)} {value!r}"))


def _check_boolean(shape, value: Any, path: str) -> Iterator[Problem]:
    if not isinstance(value, bool):
        yield ShapeProblem((path, f"must be true or false, not {_json_type(value)} {value!r}"))


def _check_timestamp(shape, value: Any, path: str) -> Iterator[Problem]:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        yield ShapeProblem((path, "must be a timestamp (ISO 8601 text or epoch seconds), not "
                                  f"{_json_type(value)}"))


def _check_size(shape, size: int, path: str, unit: str, shown: str | None = None) -> Iterator[Problem]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and size < low) or (high is not None and size > high):
        subject = f"{shown!r} has" if shown is not None else "has"
        yield path, _with_hint(f"{subject} {size} {unit}; must have {_range_text(low, high)}", shape.name)


def _range_text(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _with_hint(message: str, shape_name: str) -> str:
    hint = HINTS.get(shape_name)
    return f"{message} ({hint})" if hint else message


CHECKERS: dict[str, Callable[..., Iterator[Problem]]] = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "float": _check_float,
    "double": _check_float,
    "boolean": _check_boolean,
    "timestamp": _check_timestamp,
}


# --- Java patterns in Python -------------------------------------------------------------------

# Unicode general category (first letter) -> (the ASCII part, a private-use stand-in for the rest).
# A value's non-ASCII characters of that category are replaced by the stand-in before matching.
_CATEGORY_STAND_INS = {"L": ("A-Za-z", "\ue000"), "N": ("0-9", "\ue001"), "Z": (" ", "\ue002")}
_SUPPLEMENTARY_JAVA = "\\uD800\\uDC00-\\uDBFF\\uDFFF"
_CATEGORY_RE = re.compile(r"\\p\{([LNZ])\}")


@functools.lru_cache(maxsize=256)
def _compile_pattern(pattern: str) -> tuple[re.Pattern, frozenset[str]]:
    """Translate a Java pattern; return it with the categories whose stand-ins it uses."""
    text = pattern.replace(_SUPPLEMENTARY_JAVA, "\\U00010000-\\U0010FFFF")
    categories = frozenset(_CATEGORY_RE.findall(text))
    text = _CATEGORY_RE.sub(lambda m: "".join(_CATEGORY_STAND_INS[m.group(1)]), text)
    return re.compile(text), categories


def _matches(pattern: str, value: str) -> bool:
    try:
        compiled, categories = _compile_pattern(pattern)
    except re.error:
        return True  # a construct we cannot translate: leave this one check to SageMaker
    if categories:
        value = "".join(_stand_in(char, categories) for char in value)
    return compiled.fullmatch(value) is not None


def _stand_in(char: str, categories: frozenset[str]) -> str:
    if char.isascii():
        return char
    category = unicodedata.category(char)[0]
    return _CATEGORY_STAND_INS[category][1] if category in categories else char


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)
