"""Fixtures of the security suite (one module per IPA checklist item, see docs/security-checklist.md)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from classnote.accounts.models import User
from classnote.base.roles import Role
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate limits and throttles live in the cache: every test starts (and leaves) it empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def officer(db: None) -> User:
    return User.objects.create_user(
        "sec-officer", PASSWORD, display_name="Officer Sec", role=Role.PRIVACY_OFFICER, language="en"
    )


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user("sec-operator", PASSWORD, display_name="Operator Sec", role=Role.OPERATOR)


# --- Production settings, read once from a real `classnote` process --------------------------------

PRODUCTION_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_DOMAIN",
    "LANGUAGE_COOKIE_SECURE",
    "LANGUAGE_COOKIE_NAME",
    "PASSWORD_HASHERS",
    "AUTH_PASSWORD_VALIDATORS",
    "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN",
    "CONTENT_SECURITY_POLICY",
    "X_FRAME_OPTIONS",
    "ALLOWED_HOSTS",
]


@pytest.fixture(scope="session")
def production_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The settings a production configuration (CLASSNOTE_ENV=production, tests/test_settings.py's
    minimal environment) really yields, printed by `classnote shell` as JSON."""
    from tests.test_settings import production, run_classnote

    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {PRODUCTION_SETTINGS!r}}}, default=str))"
    )
    result = run_classnote(tmp_path_factory.mktemp("production"), "shell", "--no-imports", "-c", code, **production())
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


# --- The log lines operators get ----------------------------------------------------------------


class LogLines:
    """The JSON lines the configured handler would write (same filter, same formatter)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def text(self) -> str:
        return self.stream.getvalue()

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == name]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """Captures what classnote logs, through the same request-id filter and JSON formatter as the
    console handler of settings.LOGGING (also for loggers that do not propagate, like django.security)."""
    from classnote.core.logging import JsonFormatter, LimitLengthFilter, RequestIdFilter

    captured = LogLines()
    handler = logging.StreamHandler(captured.stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(LimitLengthFilter())
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.INFO)
    loggers = [logging.getLogger(), logging.getLogger("django.security"), logging.getLogger("django.request")]
    for logger in loggers:
        logger.addHandler(handler)
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)
    try:
        yield captured
    finally:
        logging.getLogger().setLevel(root_level)
        for logger in loggers:
            logger.removeHandler(handler)


SRC = Path(__file__).resolve().parents[2] / "src" / "classnote"
