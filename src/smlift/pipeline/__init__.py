"""The pipeline contract: the execution input (`contract`), the IAM policies (`iam`), what
sm-docker names on AWS (`smdocker`) and the drawings of `smlift graph` (`graph`). The checks of
`smlift validate` run them against a definition from above (`smlift.validate`).

Here: `read_json_file`, the one reader of the JSON files a user edits (the input, the iam/
templates, the definition), so that every one of them fails the same way: InputError naming the
file (and, for bad JSON, the line and column). `read_definition` is the one reader of the state
machine definition: `smlift run`, `start --local`, `validate` and `deploy` all read it here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..jsontext import loads


DEFINITION_FIX = "run from the project root, or pass --definition FILE"


def read_definition(path: str | Path, missing_fix: str = DEFINITION_FIX) -> tuple[str, Any]:
    """The definition file's text, exactly as written (deploy uploads it), and its JSON."""
    return read_json_text(path, missing_fix)


def read_json_file(path: str | Path, missing_fix: str) -> Any:
    """The JSON in `path`, or InputError naming the file and the JSON error (`missing_fix`:
    what to do when there is no such file)."""
    return read_json_text(path, missing_fix)[1]


def read_json_text(path: str | Path, missing_fix: str) -> tuple[str, Any]:
    """The text of `path` and its JSON (see `read_json_file`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        return text, loads(text)
    except FileNotFoundError:
        raise InputError("file not found", where=str(path), fix=missing_fix) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a JSON file", where=str(path), fix=missing_fix) from None
    except OSError as exc:  # unreadable, or a parent that is not a folder
        raise InputError(f"cannot read the file: {exc.strerror}", where=str(path),
                         fix=missing_fix) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", where=str(path),
                         fix="save the file as UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}:{exc.colno}",
                         fix="correct the JSON syntax") from None
