"""`smlift console`: a web page over the embedded default (executions, jobs, local S3, images).

Thin: builds a `ConsoleBackend` for this project and serves it with `ConsoleServer` until
Ctrl-C. The console's own modules (Starlette, uvicorn, Jinja2) are imported only here.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--port", type=int, default=8765, show_default=True,
              help="The port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on. Keep it on loopback: the console has no login.")
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@click.option("--definition", "definitions", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also offer this state machine definition (repeatable); the project's "
                   "statemachine/definition.asl.json is offered when it exists.")
def console(port: int, host: str, no_open: bool, definitions: tuple[Path, ...]) -> None:
    """Serve the local console: start executions and watch them live, read job logs, browse
    local S3 and local images. Executions started there run in this process.

    \b
    Example:
      smlift console
      smlift console --port 9000 --no-open --definition my.asl.json
    """
    from ..console import ConsoleBackend, ConsoleServer
    from ..console.server import exposure_warning
    from . import Terminated, sigterm_interrupts
    from .project import require_state

    require_state()  # the project's executions, jobs and local S3
    server = ConsoleServer(ConsoleBackend.open(definitions=definitions), host, port)
    warning = exposure_warning(host)
    if warning:
        click.echo(warning, err=True)
    click.echo(f"smlift console: {server.url} (Ctrl-C to quit)", err=True)
    if not no_open:
        import webbrowser

        webbrowser.open(server.url)
    with sigterm_interrupts():
        server.run(say=lambda text: click.echo(text, err=True), urgent=(Terminated,))
