"""The plain-HTTP listener of `classnote serve` when it terminates TLS itself (HTTP_REDIRECT_PORT).

It serves nothing: every request is answered with a permanent redirect to the same path and query
on the HTTPS port (301 for GET and HEAD, 308 for other methods, so a client repeats its method over
HTTPS). Only a host in ALLOWED_HOSTS is redirected to; any other Host header gets 400, so the
listener cannot send visitors to another site. It never reaches Django: no page, cookie or session
is ever served over plain HTTP. Behind a TLS-terminating reverse proxy the proxy redirects instead
and this listener stays off (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.http.request import split_domain_port, validate_host

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_KEEP_METHOD = 308
_PERMANENT = 301


def _printable(value: bytes) -> bool:
    """Visible ASCII only: no space, CR, LF or other control character can reach the Location header."""
    return all(0x21 <= byte <= 0x7E for byte in value)


def location(
    headers: list[tuple[bytes, bytes]], raw_path: bytes, query: bytes, https_port: int, allowed_hosts: list[str]
) -> str | None:
    """The https:// URL for a request, or None when its Host is not one of ours or the target is odd."""
    hosts = [value for name, value in headers if name.lower() == b"host"]
    if len(hosts) != 1 or not _printable(hosts[0]):
        return None
    domain, _port = split_domain_port(hosts[0].decode("ascii"))
    if not domain or not validate_host(domain, allowed_hosts):
        return None
    netloc = domain if https_port == 443 else f"{domain}:{https_port}"
    # An absolute-form request target (GET http://elsewhere/ HTTP/1.1) or an empty one goes to "/".
    path = raw_path if raw_path.startswith(b"/") and _printable(raw_path) else b"/"
    url = f"https://{netloc}{path.decode('ascii')}"
    if query:
        if not _printable(query):
            return None
        url += "?" + query.decode("ascii")
    return url


def redirect_app(https_port: int, allowed_hosts: list[str]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        url = location(
            scope["headers"], scope.get("raw_path") or b"/", scope.get("query_string", b""), https_port, allowed_hosts
        )
        if url is None:
            status, headers, body = 400, [(b"content-type", b"text/plain; charset=utf-8")], b"Bad Request\n"
        else:
            status = _PERMANENT if scope["method"] in ("GET", "HEAD") else _KEEP_METHOD
            headers, body = [(b"location", url.encode("ascii"))], b""
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
