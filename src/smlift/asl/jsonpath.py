"""JSONPath for the States Language, and the JSON value helpers everything else shares.

A path is parsed once (cached) into a root and a tuple of steps, then applied to a value:

    "$.a['b c'][0]"  -> root "$",   steps (Field a, Field "b c", Index 0)
    "$$.Map.Item"    -> root "$$",  the context object the engine builds
    "$myVar.x"       -> root "myVar", a variable set by Assign

Semantics follow Jayway JsonPath, which AWS uses: a *definite* path (only fields and indexes)
selects one value or fails with "No results for path"; an *indefinite* path (wildcard, slice,
filter, union, `..`) always yields a list, empty when nothing matches.

Missing values: `select_path` raises `PathNotFound` (a `StatesError("States.Runtime", ...)`).
Returned values may share structure with the inputs: callers treat JSON values as immutable,
and this module never mutates its arguments. `check_path` and `check_reference_path` are the
validation side: a message naming the problem, or None.

The JSON helpers (`to_json`, `json_type`, `is_number`, `json_equal`) are JSON's rules as AWS
applies them (compact text, `true` is not `1`); this module is their one home. It imports
nothing else from the engine, so every other module of `asl/` may import it.

What a path selects *for* (Parameters, ResultSelector, InputPath, ResultPath, OutputPath) is
`payload.py`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from json.encoder import c_encode_basestring, c_make_encoder
from typing import Any

from smlift.errors import StatesError

__all__ = [
    "PathNotFound", "PathSyntaxError", "select_path", "compile_path", "check_path",
    "check_reference_path", "field_not_found", "to_json", "json_type", "is_number", "json_equal",
]


# ---------------------------------------------------------------------------- JSON values

def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# One C encoder, made once (json.dumps makes a new one on every call); None without the _json
# accelerator, where the pure-Python encoder does the same work.
_C_ENCODE = None if c_make_encoder is None else c_make_encoder(
    None, _not_json, c_encode_basestring, None, ":", ",", False, False, True)


def to_json(value: Any) -> str:
    """Compact JSON, as AWS writes payloads into history events and values into error causes
    (`{"a":1}`)."""
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def json_type(value) -> str:
    """The JSON type name AWS uses in causes: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def is_number(v) -> bool:
    """A JSON number (bool is not one, though Python says it is an int)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def json_equal(a, b) -> bool:
    """Equality of JSON values: 1 == 1.0, but true is never equal to 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# ------------------------------------------------------------------------------ misses

class PathNotFound(StatesError):
    """A definite path matched nothing. `path` is the path text as written."""

    def __init__(self, path: str, normalized: str):
        super().__init__("States.Runtime",
                         f"Invalid path '{path}' : No results for path: {normalized}")
        self.path = path


def field_not_found(path: str, field: str, value: Any) -> StatesError:
    """AWS's cause for a payload/ErrorPath/CausePath/ItemsPath-style path that matched nothing."""
    return StatesError(
        "States.Runtime",
        f"The JSONPath '{path}' specified for the field '{field}' could not be found "
        f"in the input '{to_json(value)}'")


# --------------------------------------------------------------------------- parsing

class PathSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Index:
    index: int


@dataclass(frozen=True)
class Wildcard:
    pass


@dataclass(frozen=True)
class Slice:
    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True)
class Union:
    keys: tuple  # all str (fields) or all int (indexes)


@dataclass(frozen=True)
class Descend:
    """`..` followed by one step: applies that step at every depth."""
    step: Any


@dataclass(frozen=True)
class Filter:
    expr: Any  # a parsed filter expression (see _parse_filter)


@dataclass(frozen=True)
class Call:
    """A trailing Jayway function: length(), min(), max(), avg(), sum(), keys()."""
    name: str


@dataclass(frozen=True)
class Path:
    text: str
    root: str            # "$", "$$" or a variable name
    steps: tuple
    definite: bool

    def normalized(self) -> str:
        return "$" + "".join(_normalize_step(s) for s in self.steps)


def _normalize_step(step) -> str:
    if isinstance(step, Field):
        return f"['{step.name}']"
    if isinstance(step, Index):
        return f"[{step.index}]"
    if isinstance(step, Wildcard):
        return "[*]"
    if isinstance(step, Descend):
        return ".." + _normalize_step(step.step).lstrip(".")
    if isinstance(step, Slice):
        parts = ["" if v is None else str(v) for v in (step.start, step.stop)]
        return f"[{parts[0]}:{parts[1]}]"
    if isinstance(step, Union):
        return "[" + ",".join(f"'{k}'" if isinstance(k, str) else str(k) for k in step.keys) + "]"
    if isinstance(step, Call):
        return f".{step.name}()"
    return "[?]"


_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOT_NAME = re.compile(r"[^.\[\]()\s]+")
_SIMPLE = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_-]*)+")
_FUNCTIONS = ("length", "size", "min", "max", "avg", "sum", "stddev", "keys", "first", "last")


@functools.lru_cache(maxsize=4096)
def compile_path(text: str) -> Path:
    """Parse a path; raises PathSyntaxError with a message naming the problem."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"a path must start with '$': {text!r}")
    if _SIMPLE.fullmatch(text):
        steps = tuple(Field(n) for n in text[2:].split("."))
        return Path(text, "$", steps, True)
    if text.startswith("$$"):
        root, pos = "$$", 2
    else:
        m = _VAR_NAME.match(text, 1)
        root, pos = (m.group(0), m.end()) if m else ("$", 1)
    steps, pos = _parse_steps(text, pos)
    if pos != len(text):
        raise PathSyntaxError(f"unexpected {text[pos:]!r} at position {pos}")
    definite = all(isinstance(s, (Field, Index)) for s in steps)
    return Path(text, root, tuple(steps), definite)


def _parse_steps(text: str, pos: int) -> tuple[list, int]:
    steps: list = []
    n = len(text)
    while pos < n:
        ch = text[pos]
        if text.startswith("..", pos):
            step, pos = _parse_after_dot(text, pos + 2, descend=True)
            steps.append(Descend(step))
        elif ch == ".":
            step, pos = _parse_after_dot(text, pos + 1, descend=False)
            steps.append(step)
        elif ch == "[":
            step, pos = _parse_bracket(text, pos)
            steps.append(step)
        else:
            break
    return steps, pos


def _parse_after_dot(text: str, pos: int, *, descend: bool):
    if pos < len(text) and text[pos] == "*":
        return Wildcard(), pos + 1
    if descend and pos < len(text) and text[pos] == "[":
        return _parse_bracket(text, pos)
    m = _DOT_NAME.match(text, pos)
    if not m:
        raise PathSyntaxError(f"expected a field name at position {pos}")
    name, end = m.group(0), m.end()
    if text.startswith("()", end):
        if name not in _FUNCTIONS or end + 2 != len(text):
            raise PathSyntaxError(f"unsupported function {name}()")
        return Call(name), end + 2
    return Field(name), end


def _parse_bracket(text: str, pos: int):
    close = _find_close(text, pos)
    inner = text[pos + 1:close].strip()
    end = close + 1
    if inner == "*":
        return Wildcard(), end
    if inner.startswith("?"):
        body = inner[1:].strip()
        if not (body.startswith("(") and body.endswith(")")):
            raise PathSyntaxError(f"a filter must look like [?(...)]: [{inner}]")
        return Filter(_parse_filter(body[1:-1])), end
    if ":" in inner and not inner.startswith(("'", '"')):
        return _parse_slice(inner), end
    items = _split_union(inner)
    if len(items) == 1:
        key = items[0]
        return (Field(key) if isinstance(key, str) else Index(key)), end
    if len({type(k) for k in items}) != 1:
        raise PathSyntaxError(f"cannot mix names and indexes: [{inner}]")
    return Union(tuple(items)), end


def _find_close(text: str, pos: int) -> int:
    depth, quote, i = 0, None, pos
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise PathSyntaxError(f"unclosed '[' at position {pos}")


def _parse_slice(inner: str) -> Slice:
    parts = [p.strip() for p in inner.split(":")]
    if len(parts) > 3:
        raise PathSyntaxError(f"bad slice [{inner}]")
    try:
        vals = [int(p) if p else None for p in parts] + [None] * (3 - len(parts))
    except ValueError:
        raise PathSyntaxError(f"bad slice [{inner}]") from None
    return Slice(*vals)


def _split_union(inner: str) -> list:
    items, i, n = [], 0, len(inner)
    while i < n:
        ch = inner[i]
        if ch in " ,":
            i += 1
        elif ch in "'\"":
            value, i = _read_quoted(inner, i)
            items.append(value)
        else:
            m = re.compile(r"-?\d+").match(inner, i)
            if not m:
                raise PathSyntaxError(f"bad subscript [{inner}]")
            items.append(int(m.group(0)))
            i = m.end()
    if not items:
        raise PathSyntaxError("empty subscript []")
    return items


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    quote, out, i = text[i], [], i + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise PathSyntaxError("unterminated string")


# ------------------------------------------------------------------ filter expressions

_FILTER_TOKEN = re.compile(r"""\s*(?:
    (?P<op>==|!=|<=|>=|<|>|&&|\|\||=~|!|\(|\))
  | (?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<wordop>in|nin|subsetof|anyof|noneof|size|empty)\b
  | (?P<word>true|false|null)\b
  | (?P<array>\[(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|[^\]'"])*\])
  | (?P<regex>/(?:\\.|[^/\\])*/[a-z]*)
  | (?P<path>[@$](?:\.\.?[^.\[\]\s()=!<>&|]+|\[[^\]]*\])*)
)""", re.X)


def _tokenize_filter(text: str) -> list[tuple[str, Any]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _FILTER_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise PathSyntaxError(f"bad filter expression near {text[pos:]!r}")
        kind = m.lastgroup
        raw = m.group(kind)
        if kind == "str":
            tokens.append(("lit", _read_quoted(raw, 0)[0]))
        elif kind == "num":
            tokens.append(("lit", json.loads(raw)))
        elif kind == "word":
            tokens.append(("lit", {"true": True, "false": False, "null": None}[raw]))
        elif kind == "array":
            tokens.append(("lit", _array_literal(raw)))
        elif kind == "wordop":
            tokens.append(("op", raw))
        elif kind == "regex":
            body, _, flags = raw[1:].rpartition("/")
            tokens.append(("regex", re.compile(body, re.I if "i" in flags else 0)))
        elif kind == "path":
            tokens.append(("path", _compile_filter_path(raw)))
        else:
            tokens.append(("op", raw))
        pos = m.end()
    return tokens


def _array_literal(raw: str) -> list:
    """"['a', 1, true]" -> ["a", 1, True] (Jayway's array operands for in/nin/subsetof...)."""
    items, inner, i = [], raw[1:-1], 0
    while i < len(inner):
        if inner[i] in " ,":
            i += 1
        elif inner[i] in "'\"":
            value, i = _read_quoted(inner, i)
            items.append(value)
        else:
            m = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null").match(inner, i)
            if not m:
                raise PathSyntaxError(f"bad array literal {raw}")
            items.append(json.loads(m.group(0)))
            i = m.end()
    return items


def _compile_filter_path(raw: str) -> tuple[str, tuple]:
    steps, pos = _parse_steps(raw, 1)
    if pos != len(raw):
        raise PathSyntaxError(f"bad path in filter: {raw}")
    return raw[0], tuple(steps)


def _parse_filter(text: str):
    tokens = _tokenize_filter(text)
    expr, pos = _parse_or(tokens, 0)
    if pos != len(tokens):
        raise PathSyntaxError(f"bad filter expression: {text}")
    return expr


def _parse_or(tokens, pos):
    left, pos = _parse_and(tokens, pos)
    while pos < len(tokens) and tokens[pos] == ("op", "||"):
        right, pos = _parse_and(tokens, pos + 1)
        left = ("or", left, right)
    return left, pos


def _parse_and(tokens, pos):
    left, pos = _parse_unary(tokens, pos)
    while pos < len(tokens) and tokens[pos] == ("op", "&&"):
        right, pos = _parse_unary(tokens, pos + 1)
        left = ("and", left, right)
    return left, pos


_COMPARATORS = ("==", "!=", "<", "<=", ">", ">=", "=~", "in", "nin", "subsetof", "anyof",
                "noneof", "size", "empty")


def _parse_unary(tokens, pos):
    if pos >= len(tokens):
        raise PathSyntaxError("incomplete filter expression")
    if tokens[pos] == ("op", "!"):
        inner, pos = _parse_unary(tokens, pos + 1)
        return ("not", inner), pos
    if tokens[pos] == ("op", "("):
        inner, pos = _parse_or(tokens, pos + 1)
        if pos >= len(tokens) or tokens[pos] != ("op", ")"):
            raise PathSyntaxError("missing ')' in filter expression")
        return inner, pos + 1
    left = tokens[pos]
    pos += 1
    if pos < len(tokens) and tokens[pos][0] == "op" and tokens[pos][1] in _COMPARATORS:
        op = tokens[pos][1]
        if pos + 1 >= len(tokens):
            raise PathSyntaxError("missing right operand in filter expression")
        return ("cmp", op, left, tokens[pos + 1]), pos + 2
    if left[0] != "path":
        raise PathSyntaxError("a filter term must be a path or a comparison")
    return ("exists", left), pos


# ------------------------------------------------------------------------ evaluation

_NOTHING = object()


def select_path(path: str, value: Any, *, context: dict | None = None,
                variables: dict | None = None) -> Any:
    """Select with a JSONPath. Raises PathNotFound (States.Runtime) when a definite path misses."""
    if path == "$":
        return value
    try:
        compiled = compile_path(path)
    except PathSyntaxError as exc:
        raise StatesError("States.Runtime", f"Invalid path '{path}' : {exc}") from None
    root = _root_value(compiled, value, context, variables)
    if compiled.definite:
        result = _walk_definite(root, compiled.steps)
        if result is _NOTHING:
            raise PathNotFound(path, compiled.normalized())
        return result
    return _walk_indefinite(root, compiled.steps, value)


def _root_value(compiled: Path, value, context, variables):
    if compiled.root == "$":
        return value
    if compiled.root == "$$":
        return context if context is not None else {}
    if variables is None or compiled.root not in variables:
        raise StatesError(
            "States.Runtime",
            f"Invalid path '{compiled.text}' : the variable '${compiled.root}' is not defined")
    return variables[compiled.root]


def _walk_definite(node, steps):
    for step in steps:
        if isinstance(step, Field):
            if not isinstance(node, dict) or step.name not in node:
                return _NOTHING
            node = node[step.name]
        else:
            if not isinstance(node, list):
                return _NOTHING
            i = step.index
            if i < -len(node) or i >= len(node):
                return _NOTHING
            node = node[i]
    return node


def _walk_indefinite(root, steps, document):
    nodes = [root]
    for step in steps:
        if isinstance(step, Call):
            return _call_function(step.name, nodes)
        out: list = []
        for node in nodes:
            _apply_step(step, node, out, document)
        nodes = out
    return nodes


def _apply_step(step, node, out: list, document) -> None:
    if isinstance(step, Field):
        if isinstance(node, dict) and step.name in node:
            out.append(node[step.name])
    elif isinstance(step, Index):
        if isinstance(node, list) and -len(node) <= step.index < len(node):
            out.append(node[step.index])
    elif isinstance(step, Wildcard):
        if isinstance(node, dict):
            out.extend(node.values())
        elif isinstance(node, list):
            out.extend(node)
    elif isinstance(step, Slice):
        if isinstance(node, list):
            out.extend(node[step.start:step.stop:step.step])
    elif isinstance(step, Union):
        _apply_union(step, node, out)
    elif isinstance(step, Filter):
        items = node if isinstance(node, list) else [node] if isinstance(node, dict) else []
        out.extend(item for item in items if _truthy(step.expr, item, document))
    elif isinstance(step, Descend):
        _descend(step.step, node, out, document)


def _apply_union(step: Union, node, out: list) -> None:
    if isinstance(step.keys[0], str):
        if isinstance(node, dict):
            picked = {k: node[k] for k in step.keys if k in node}
            out.append(picked)
    elif isinstance(node, list):
        out.extend(node[i] for i in step.keys if -len(node) <= i < len(node))


def _descend(step, node, out: list, document) -> None:
    _apply_step(step, node, out, document)
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        if isinstance(child, (dict, list)):
            _descend(step, child, out, document)


def _call_function(name: str, nodes: list):
    target = nodes[0] if len(nodes) == 1 and isinstance(nodes[0], (list, dict)) else nodes
    if name in ("length", "size"):
        return len(target)
    if name == "keys":
        return list(target.keys()) if isinstance(target, dict) else []
    if name in ("first", "last"):
        return target[0 if name == "first" else -1] if target else None
    numbers = [v for v in target if is_number(v)]
    if not numbers:
        raise StatesError("States.Runtime", "Aggregation function attempted to calculate "
                                            "value using empty array")
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    if name == "sum":
        return sum(numbers)
    mean = sum(numbers) / len(numbers)
    if name == "avg":
        return mean
    return (sum((v - mean) ** 2 for v in numbers) / len(numbers)) ** 0.5


def _operand(token, item, document):
    kind, payload = token
    if kind == "lit":
        return payload
    if kind == "regex":
        return payload
    anchor, steps = payload
    base = item if anchor == "@" else document
    if all(isinstance(s, (Field, Index)) for s in steps):
        return _walk_definite(base, steps)
    return _walk_indefinite(base, steps, document)


def _truthy(expr, item, document) -> bool:
    kind = expr[0]
    if kind == "or":
        return _truthy(expr[1], item, document) or _truthy(expr[2], item, document)
    if kind == "and":
        return _truthy(expr[1], item, document) and _truthy(expr[2], item, document)
    if kind == "not":
        return not _truthy(expr[1], item, document)
    if kind == "exists":
        return _operand(expr[1], item, document) is not _NOTHING
    _, op, left_t, right_t = expr
    left, right = _operand(left_t, item, document), _operand(right_t, item, document)
    if left is _NOTHING or right is _NOTHING:
        return op == "!="
    return _compare(op, left, right)


def _contains(items, value) -> bool:
    return any(json_equal(item, value) for item in items)


_SET_OPERATORS = {
    "in": lambda a, b: isinstance(b, list) and _contains(b, a),
    "nin": lambda a, b: isinstance(b, list) and not _contains(b, a),
    "subsetof": lambda a, b: isinstance(a, list) and isinstance(b, list)
    and all(_contains(b, x) for x in a),
    "anyof": lambda a, b: isinstance(a, list) and isinstance(b, list)
    and any(_contains(b, x) for x in a),
    "noneof": lambda a, b: isinstance(a, list) and isinstance(b, list)
    and not any(_contains(b, x) for x in a),
    "size": lambda a, b: isinstance(a, (str, list)) and is_number(b) and len(a) == b,
    "empty": lambda a, b: isinstance(a, (str, list)) and isinstance(b, bool)
    and (len(a) == 0) == b,
}


def _compare(op: str, left, right) -> bool:
    if op in _SET_OPERATORS:
        return _SET_OPERATORS[op](left, right)
    if op == "=~":
        return isinstance(left, str) and isinstance(right, re.Pattern) and bool(right.fullmatch(left))
    if op in ("==", "!="):
        equal = json_equal(left, right)
        return equal if op == "==" else not equal
    comparable = (is_number(left) and is_number(right)) or (
        isinstance(left, str) and isinstance(right, str))
    if not comparable:
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


#END


# ------------------------------------------------------------------------- validation

def check_path(path: Any, *, allow_context: bool = True, allow_variables: bool = True,
               ) -> str | None:
    """None when `path` is a valid JSONPath, else a message naming the problem."""
    if not isinstance(path, str):
        return f"a path must be a string, got {json_type(path)}"
    try:
        compiled = compile_path(path)
    except PathSyntaxError as exc:
        return f"invalid JSONPath {path!r}: {exc}"
    if compiled.root == "$$" and not allow_context:
        return f"the context object ($$) is not allowed here: {path!r}"
    if compiled.root not in ("$", "$$") and not allow_variables:
        return f"variables are not allowed here: {path!r}"
    return None


def check_reference_path(path: Any) -> str | None:
    """A ReferencePath (ResultPath): only `$`, fields and indexes; no $$, variables or wildcards."""
    problem = check_path(path, allow_context=False, allow_variables=False)
    if problem:
        return problem
    if not compile_path(path).definite:
        return f"{path!r} is not a reference path (no wildcards, slices, filters or '..')"
    return None
