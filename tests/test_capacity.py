"""A process out of file descriptors answers 503 with Retry-After, never a 500 (issue 12, finding 4).

The failure is made where it happens under a flood of connections: the session store cannot open the
database file (SQLite) or a socket (EMFILE), before any view runs."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client

from tests.conftest import Tenant, login_as

FAILURES = {
    "SQLite cannot open its file": sqlite3.OperationalError("unable to open database file"),
    "no descriptor left for a socket": OSError(errno.EMFILE, "Too many open files"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("path", ["/home/", "/api/cards"])
def test_out_of_files_is_503_with_retry_after(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch, failure: str, path: str
) -> None:
    client = login_as(Client(raise_request_exception=False), tenant_a.teacher)

    def fail(self: SessionStore) -> dict[str, object]:
        raise FAILURES[failure]

    monkeypatch.setattr(SessionStore, "load", fail)
    response = client.get(path)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert b"Traceback" not in response.content


@pytest.mark.django_db
def test_other_failures_stay_500(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    client = login_as(Client(raise_request_exception=False), tenant_a.teacher)

    def fail(self: SessionStore) -> dict[str, object]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(SessionStore, "load", fail)
    assert client.get("/home/").status_code == 500
