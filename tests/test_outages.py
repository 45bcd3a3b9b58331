"""classnote.base.outages: which failures are outages of which dependency (issue 13)."""

from __future__ import annotations

import errno
import sqlite3
from unittest import mock

import psycopg
import pytest
from django.db.utils import OperationalError as DjangoOperationalError
from django.test import Client
from psycopg_pool import PoolTimeout

from classnote.base import outages
from classnote.core.postgres import DeadlineExceeded
from tests.conftest import Tenant, login_as


def wrapped(error: BaseException) -> BaseException:
    """As Django raises a driver's error: its own class, from the driver's."""
    try:
        raise DjangoOperationalError(*error.args) from error
    except DjangoOperationalError as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "dependency", "reason", "status"),
    [
        (wrapped(DeadlineExceeded("x")), "database", "timeout", 503),
        (wrapped(PoolTimeout("x")), "database", "timeout", 503),
        (wrapped(psycopg.OperationalError("connection refused")), "database", "unreachable", 503),
        (wrapped(sqlite3.OperationalError("database or disk is full")), "database", "disk_full", 507),
        (wrapped(sqlite3.OperationalError("database is locked")), "database", "busy", 503),
        (OSError(errno.ENOSPC, "No space left on device"), "disk", "disk_full", 507),
        (OSError(errno.EMFILE, "Too many open files"), "server", "busy", 503),
        (outages.Unavailable(outages.STORAGE), "storage", "unreachable", 503),
    ],
)
def test_outages_are_recognised_along_the_chain(
    error: BaseException, dependency: str, reason: str, status: int
) -> None:
    outage = outages.classify(error)
    assert outage is not None
    assert (outage.dependency, outage.reason, outage.status) == (dependency, reason, status)


@pytest.mark.parametrize(
    "error",
    [ValueError("x"), wrapped(sqlite3.OperationalError("no such table: x")), psycopg.errors.UniqueViolation("x")],
)
def test_bugs_are_not_outages(error: BaseException) -> None:
    assert outages.classify(error) is None


def test_the_cause_names_classes_and_codes_never_messages() -> None:
    error = wrapped(psycopg.OperationalError("password for user taro@example.org was wrong"))
    text = outages.describe(error)
    assert text.startswith("database unreachable: OperationalError")
    assert "taro" not in text


def test_a_database_deadline_in_a_view_is_a_translated_503(tenant_a: Tenant) -> None:
    client = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    with mock.patch("classnote.core.views.access.readable_classes", side_effect=DeadlineExceeded("x")):
        page = client.get("/home/")
        api = client.get("/home/", HTTP_ACCEPT="application/json")
    assert page.status_code == 503 and page["Retry-After"]
    assert page["Content-Language"] == "ja"
    assert "一時的" in page.content.decode()  # the page is in the teacher's language
    assert api.status_code == 503 and api.json()["unavailable"] == "database"
