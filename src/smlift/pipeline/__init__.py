"""The pipeline contract: the execution input (`contract`), the IAM policies (`iam`), the checks
of `smlift validate` (`validate`) and the drawings of `smlift graph` (`graph`).

Here: `read_json_file`, the one reader of the JSON files a user edits (the input, the iam/
templates), so that every one of them fails the same way: InputError naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..jsontext import loads


def read_json_file(path: str | Path, missing_fix: str) -> Any:
    """The JSON in `path`, or InputError naming the file and the JSON error (`missing_fix`:
    what to do when there is no such file)."""
    path = Path(path)
    try:
        return loads(path.read_text(encoding="utf-8"))
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
        raise InputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                         where=str(path), fix="correct the JSON syntax") from None
