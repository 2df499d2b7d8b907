"""The console's web app: Starlette routes that render `ConsoleBackend`'s answers.

    app = create_app(backend, hosts=allowed_hosts("127.0.0.1", 8765))

Pages are Jinja2 templates (`templates/`, autoescaped); the execution and job pages then follow
live over server-sent events (`/executions/{arn}/events`, `/jobs/{name}/log`), which the page's
script (`static/console.js`) turns into colours, table rows and log lines. The graph is laid
out in the page by dagre (`static/dagre.min.js`, vendored, see `static/dagre.LICENSE.txt`).

Every request passes `guard.HostOriginGuard` first. Nothing is served but the package's own
static files, the store's records and local S3's objects (`LocalS3` refuses keys that leave
a bucket and never follows links).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..errors import ExecutionDoesNotExist, ExecutionError, SmliftError
from ..processing.spec import ApiError
from .backend import GENERAL, STATUSES, ConsoleBackend, StartRefused
from .guard import HostOriginGuard

HERE = Path(__file__).parent
POLL_SECONDS = 0.4
FORM = "application/x-www-form-urlencoded"
NOT_FOUND = (ExecutionDoesNotExist, ExecutionError, ApiError)


def create_app(backend: ConsoleBackend, hosts: frozenset[str]) -> HostOriginGuard:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["url"] = lambda text: quote(str(text), safe="")
    templates.env.globals.update(pid=os.getpid(), statuses=STATUSES)
    pages = Pages(backend, templates)
    routes = [
        Route("/", lambda request: RedirectResponse("/executions", 303)),
        Route("/machines", pages.machines),
        Route("/machines/{name}", pages.machine),
        Route("/machines/{name}/start", pages.start, methods=["POST"]),
        Route("/executions", pages.executions),
        Route("/executions/{arn:path}/events", pages.execution_events),
        Route("/executions/{arn:path}/stop", pages.stop, methods=["POST"]),
        Route("/executions/{arn:path}/redrive", pages.redrive, methods=["POST"]),
        Route("/executions/{arn:path}", pages.execution),
        Route("/jobs/{name}/log", pages.job_log),
        Route("/jobs/{name}", pages.job),
        Route("/s3/object", pages.s3_object),
        Route("/s3", pages.s3),
        Route("/images", pages.images),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={
        SmliftError: pages.error, HTTPException: pages.error})
    return HostOriginGuard(app, hosts)


def sse(data: object, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a urlencoded form post (the console's only kind), last value wins."""
    if not request.headers.get("content-type", "").startswith(FORM):
        raise HTTPException(415, f"send the form as {FORM}")
    body = await request.body()
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


class Pages:
    """One method per route: read the request, call the backend, render."""

    def __init__(self, backend: ConsoleBackend, templates: Jinja2Templates):
        self.backend, self.templates = backend, templates

    def render(self, request: Request, template: str, status_code: int = 200, **context):
        return self.templates.TemplateResponse(request, template, context,
                                               status_code=status_code)

    async def error(self, request: Request, exc: Exception):
        if isinstance(exc, HTTPException):
            status, message, where, fix = exc.status_code, exc.detail, None, None
        else:
            status = 404 if isinstance(exc, NOT_FOUND) else 400
            message, where, fix = exc.message, exc.where, exc.fix
        return self.render(request, "error.html", status, message=message, where=where,
                           fix=fix, title="Error")

    # -- state machines -------------------------------------------------------------------
    async def machines(self, request: Request):
        rows = await run_in_threadpool(self.backend.machines)
        return self.render(request, "machines.html", machines=rows, title="State machines")

    async def machine(self, request: Request, problems=None, form=None):
        name = request.path_params["name"]
        graph = await run_in_threadpool(self.backend.graph, name)
        source = self.backend.source(name)
        form = form or {"input": await run_in_threadpool(self.backend.example_input, name),
                        "name": ""}
        return self.render(request, "machine.html", 400 if problems else 200, machine=source,
                           graph=graph, form=form, problems=problems or {}, general=GENERAL,
                           title=name)

    async def start(self, request: Request):
        name = request.path_params["name"]
        data = await form_fields(request)
        form = {"input": data.get("input", ""), "name": data.get("name", "").strip()}
        try:
            arn = await run_in_threadpool(self.backend.start, name, form["input"],
                                          form["name"] or None)
        except StartRefused as refused:
            return await self.machine(request, refused.problems, form)
        return RedirectResponse(f"/executions/{quote(arn, safe=':')}", 303)

    # -- executions -----------------------------------------------------------------------
    async def executions(self, request: Request):
        status = request.query_params.get("status") or None
        machine = request.query_params.get("machine") or None
        if status is not None and status not in STATUSES:
            raise HTTPException(400, f"unknown status {status!r}")
        rows = await run_in_threadpool(self.backend.executions, status, machine)
        return self.render(request, "executions.html", executions=rows, status=status,
                           machine=machine, title="Executions")

    async def execution(self, request: Request):
        arn = request.path_params["arn"]
        snapshot = await run_in_threadpool(self.backend.snapshot, arn)
        machine = snapshot["execution"]["stateMachineArn"].rsplit(":", 1)[1]
        graph = await run_in_threadpool(self.backend.graph, machine)
        return self.render(request, "execution.html", snapshot=snapshot, graph=graph,
                           arn=arn, title=snapshot["execution"]["name"])

    async def execution_events(self, request: Request):
        arn = request.path_params["arn"]
        await run_in_threadpool(self.backend.snapshot, arn)  # 404 before the stream opens
        after = int(request.query_params.get("after") or 0)

        async def stream():
            last, seen = None, after
            while not await request.is_disconnected():
                snapshot = await run_in_threadpool(self.backend.snapshot, arn, seen)
                seen = max([seen] + [e["id"] for e in snapshot["events"]])
                key = json.dumps({**snapshot, "events": []}, sort_keys=True)
                if snapshot["events"] or key != last:  # only what changed goes out
                    yield sse(snapshot)
                last = key
                if snapshot["ended"]:
                    yield sse({}, "end")
                    return
                await asyncio.sleep(POLL_SECONDS)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def stop(self, request: Request):
        arn = request.path_params["arn"]
        await run_in_threadpool(self.backend.stop, arn)
        return RedirectResponse(f"/executions/{quote(arn, safe=':')}", 303)

    async def redrive(self, request: Request):
        arn = request.path_params["arn"]
        await run_in_threadpool(self.backend.redrive, arn)
        return RedirectResponse(f"/executions/{quote(arn, safe=':')}", 303)

    # -- jobs -----------------------------------------------------------------------------
    async def job(self, request: Request):
        name = request.path_params["name"]
        description = await run_in_threadpool(self.backend.job, name)
        return self.render(request, "job.html", job=description, name=name,
                           described=json.dumps(description, indent=2, ensure_ascii=False),
                           title=name)

    async def job_log(self, request: Request):
        name = request.path_params["name"]
        await run_in_threadpool(self.backend.job, name)  # 404 before the stream opens

        async def stream():
            async for line in iterate_in_threadpool(self.backend.follow_log(name)):
                yield sse(line)
            description = await run_in_threadpool(self.backend.job, name)
            yield sse(description.get("ProcessingJobStatus"), "end")

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    # -- local S3 and images --------------------------------------------------------------
    async def s3(self, request: Request):
        uri = request.query_params.get("uri") or ""
        entries = await run_in_threadpool(self.backend.s3_entries, uri)
        base = uri if uri.endswith("/") or not uri else uri.rpartition("/")[0] + "/"
        if uri and "/" not in uri[len("s3://"):]:
            base = uri + "/"
        return self.render(request, "s3.html", uri=uri, base=base, entries=entries,
                           title="Local S3")

    async def s3_object(self, request: Request):
        uri = request.query_params.get("uri") or ""
        path = await run_in_threadpool(self.backend.s3_object, uri)
        return FileResponse(path, filename=uri.rsplit("/", 1)[-1],
                            media_type="application/octet-stream")

    async def images(self, request: Request):
        rows = await run_in_threadpool(self.backend.images)
        return self.render(request, "images.html", images=rows, title="Local images")
