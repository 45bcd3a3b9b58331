"""Helpers of the API tests: clients signed in by session or by a personal API token."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.utils import translation

from classnote.accounts import tokens
from classnote.accounts.models import User
from tests.conftest import login_as, recently_authenticated


def session(user: User, *, csrf: bool = False, fresh: bool = False) -> Client:
    """A browser-like client signed in as USER; with csrf=True CSRF is enforced as in a browser;
    with fresh=True the password was entered just now (step-up for making a token passes)."""
    client = login_as(Client(enforce_csrf_checks=csrf, raise_request_exception=False), user)
    return recently_authenticated(client, user) if fresh else client


def csrf_header(client: Client) -> dict[str, str]:
    """The X-CSRFToken header a session client sends, as GET /api/csrf gives it."""
    response = client.get("/api/csrf")
    assert response.status_code == 200, response.content
    return {"HTTP_X_CSRFTOKEN": response.json()["csrf_token"]}


def issue_token(user: User, name: str = "test", days: int | None = 30) -> str:
    return tokens.issue(user, name, days)[1]


def bearer(token: str) -> Client:
    """A client that authenticates with a token only, and is held to CSRF like a browser would be."""
    return Client(enforce_csrf_checks=True, raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")


def with_token(user: User) -> Client:
    return bearer(issue_token(user))


def send(client: Client, method: str, path: str, data: Any = None, **extra: Any) -> Any:
    """A JSON request (any method)."""
    body = "" if data is None else data
    return client.generic(method, path, _json(body), content_type="application/json", **extra)


def _json(data: Any) -> str:
    return data if isinstance(data, str) else json.dumps(data)


def english(*users: User) -> None:
    for user in users:
        user.language = "en"
        user.save(update_fields=["language"])


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)
