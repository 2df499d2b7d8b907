"""How the commands print values: one JSON printer, one report renderer per shared report.

    dump(value)               JSON as every command prints it: indent 2, dates in ISO 8601,
                              non-ASCII text as it is; `compact=True` is one line (`smlift
                              execute`'s contract with outside runners)
    parity_text(report)       a `smlift.parity.ParityReport`, one line per file
    output_option(default)    `--output json|table|text`, on every command that prints results
    render(value, output, rows, columns, text)   the one renderer behind `--output`
    emit(...)                 render, then print on stdout
    say(text, output)         a human message: stdout for text/table, stderr for json, so that
                              stdout stays exactly one JSON document
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


OUTPUT_FORMATS = ("json", "table", "text")


def output_option(default: str = "json"):
    """`--output json|table|text`: JSON is exactly one document; table is aligned columns with
    a header; text is one tab-separated line per row. Neither is ever wrapped."""
    import click

    return click.option("--output", "-o", "output", type=click.Choice(OUTPUT_FORMATS),
                        default=default, show_default=True,
                        help="json: one document; table: aligned columns; text: one line per row.")


def render(value: Any, output: str, rows: list[dict] | None = None,
           columns: tuple[str, ...] = (), text: str | None = None) -> str:
    """`value` as JSON, or `rows` (default: [value]) as a table or text lines of `columns`.
    `text`, when given, is the text form (a command's own human lines); with no `columns`
    it is the table form too."""
    if output == "json":
        return dump(value)
    if text is not None and (output == "text" or not columns):
        return text
    if not columns:
        return dump(value)
    rows = [value] if rows is None else rows
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    if output == "text":
        return "\n".join("\t".join(line) for line in cells)
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    lines = [columns] + cells
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                     for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return _default(value) if hasattr(value, "isoformat") else str(value)


def emit(value: Any, output: str, rows: list[dict] | None = None,
         columns: tuple[str, ...] = (), text: str | None = None) -> None:
    """`render(...)`, printed on stdout (nothing at all for an empty text form)."""
    import click

    rendered = render(value, output, rows, columns, text)
    if rendered or output == "json":
        click.echo(rendered)


def say(text: str, output: str) -> None:
    """A message for a person: on stdout in the text and table forms, on stderr with --output
    json (stdout is then one JSON document and nothing else)."""
    import click

    click.echo(text, err=output == "json")


def progress_echo(output: str):
    """A command's progress lines (a plan, a build's steps): on stdout in the text form, where
    they are the output, on stderr in the others, whose stdout is the document or the table."""
    import click

    return lambda line: click.echo(line, err=output != "text")
