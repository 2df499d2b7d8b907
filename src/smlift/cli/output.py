"""How the commands print values: one JSON printer, one report renderer per shared report.

    dump(value)               JSON as every command prints it: indent 2, dates in ISO 8601,
                              non-ASCII text as it is; `compact=True` is one line (`smlift
                              execute`'s contract with outside runners)
    parity_text(report)       a `smlift.parity.ParityReport`, one line per file
"""

from __future__ import annotations

import json
from typing import Any


def _default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def dump(value: Any, *, compact: bool = False) -> str:
    """`value` as the commands print JSON (see the module docstring)."""
    if compact:
        return json.dumps(value, ensure_ascii=False, default=_default)
    return json.dumps(value, indent=2, ensure_ascii=False, default=_default)


def parity_text(report: Any) -> str:
    """The parity report: the summary, one line per file, the wall time of each side."""
    lines = [report.summary()]
    for f in report.files:
        mark = "identical" if f.identical else "DIFFERENT"
        lines.append(f"  {f.name}: {mark}, {f.identical_rows} of {f.legacy_rows} rows"
                     + (f" ({f.detail})" if f.detail else ""))
    if report.seconds:
        lines.append("  wall time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items()))
    return "\n".join(lines)
