"""`smlift graph`: draw the state machine as Mermaid or Graphviz dot, with Retry and Catch edges.

Thin: reads the definition, calls `smlift.pipeline.graph.draw`, prints or writes the text.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import layout


@click.command()
@click.option("--definition", "definition", default=None,
              help=f"The state machine definition [default: the project's, {layout.DEFINITION}].")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True, help="Mermaid (GitHub renders it) or Graphviz dot.")
@click.option("--output", "output", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def graph(definition: str | None, fmt: str, output: Path | None) -> None:
    """Draw the state machine, with its Retry (dotted) and Catch (dashed) edges.

    It prints a drawing, not results: --format picks its language and --output a file.

    \b
    Example:
      smlift graph
      smlift graph --format dot | dot -Tsvg > pipeline.svg
    """
    from ..pipeline.graph import draw
    from ..execute import read_json
    from .project import project_default

    if definition is None:
        definition = str(project_default(lambda p: p.definition, layout.DEFINITION,
                                         "pass --definition FILE"))
    text = draw(read_json(definition, "definition"), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    from ..local.s3 import write_atomically

    write_atomically(output, lambda temp: temp.write_text(text, encoding="utf-8"))
    click.echo(f"wrote {output}", err=True)
