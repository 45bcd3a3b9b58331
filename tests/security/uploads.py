"""Multipart bodies written by hand, as a hostile client would send them (no test here).

Django's test client quotes file names itself (and cannot send some names at all); a browser
percent-encodes quotes and line breaks; an attacker sends whatever bytes they like."""

from __future__ import annotations

from typing import Any

from django.test import Client

BOUNDARY = "SecuritySuiteBoundary9f3a"


def multipart(filename: str | bytes, content: bytes, *, field: str = "file", quote: bool = True) -> bytes:
    """A body with one file part whose Content-Disposition carries FILENAME exactly as given
    (str is sent as UTF-8). With quote=False the name is sent without quotes."""
    raw = filename.encode("utf-8") if isinstance(filename, str) else filename
    value = b'"' + raw + b'"' if quote else raw
    return (
        f"--{BOUNDARY}\r\n".encode()
        + f'Content-Disposition: form-data; name="{field}"; filename='.encode()
        + value
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def post_upload(client: Client, path: str, filename: str | bytes, content: bytes, **extra: Any) -> Any:
    return client.generic(
        "POST",
        path,
        multipart(filename, content, **extra),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def browser_name(name: str) -> str:
    """How a browser writes a file name into the form: quotes and line breaks percent-encoded."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
