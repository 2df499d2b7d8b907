"""The local console: `smlift console`, a web page over the embedded default.

    backend = ConsoleBackend.open(project=Path.cwd())    # what the pages read and do
    ConsoleServer(backend, "127.0.0.1", 8765).run()      # serve until Ctrl-C

How it fits together
--------------------
`backend.ConsoleBackend` is the console as library calls: state machines, executions, a start
checked by `smlift validate`'s rules, an execution's snapshot, processing jobs and their logs,
local S3 and local images, all through the library's public clients (`LocalStepFunctions`,
`LocalProcessing`, `LocalS3`, `images.list_images`). `progress.state_progress` folds a history
into one colour per state. `app.create_app` is the Starlette app that renders them (Jinja2
templates, server-sent events for the live pages), behind `guard.HostOriginGuard`, which
refuses requests whose Host or Origin is not the console's own. `server.ConsoleServer` serves
it with uvicorn on loopback by default. Starlette, uvicorn and Jinja2 are imported only here,
and only `smlift console` imports this package, so `smlift --help` does not pay for them.
"""

from __future__ import annotations

from .backend import ConsoleBackend, StartRefused
from .server import ConsoleServer

__all__ = ["ConsoleBackend", "ConsoleServer", "StartRefused"]
