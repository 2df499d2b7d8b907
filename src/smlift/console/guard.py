"""Only the console's own pages may talk to the console: a pure ASGI middleware.

A page on another site can make the browser send requests to 127.0.0.1:8765. Two checks stop
what that could do:

- **Host** (DNS rebinding): a name the attacker controls, re-pointed at 127.0.0.1, reaches the
  console with its own name in `Host`. Every request must carry the console's own address:
  the host and port it listens on, and for a loopback address `localhost`, `127.0.0.1` and
  `[::1]` with that port.
- **Origin** (cross-site requests, CSRF, reading the event streams): when a browser says where
  a request comes from, it must be one of those addresses over http. A request without
  `Origin` (curl, a same-origin GET in some browsers) is allowed: no other site can make a
  browser omit it on a POST.

A refused request gets 403 and a one-line reason; nothing behind the guard runs.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The `Host` values that name this console listening on `host`:`port`."""
    shown = f"[{host}]" if ":" in host else host
    names = {shown}
    if is_loopback(host):
        names.update(LOOPBACK_NAMES)
    return frozenset(f"{name}:{port}" for name in names) | (
        frozenset(names) if port == 80 else frozenset())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class HostOriginGuard:
    """Refuse (403) HTTP requests whose Host, or Origin when given, is not the console's."""

    def __init__(self, app, hosts: frozenset[str]):
        self.app, self.hosts = app, hosts
        self.origins = frozenset(f"http://{h}" for h in hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        reason = self.refusal(headers.get("host"), headers.get("origin"))
        if reason is None:
            return await self.app(scope, receive, send)
        body = f"refused: {reason}\n".encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def refusal(self, host: str | None, origin: str | None) -> str | None:
        """Why a request with these headers is refused (None: it is not)."""
        if (host or "").lower() not in self.hosts:
            return f"Host {host!r} is not this console's address"
        if origin is not None and origin.lower() not in self.origins:
            return f"Origin {origin!r} is not this console"
        return None
