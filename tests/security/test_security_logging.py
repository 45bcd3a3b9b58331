"""Site-wide — security logging.

Promise: what an operator needs to notice an attack is in the log, one JSON line per event, with
the id of the request it belongs to (the X-Request-ID of the response) and without personal data
or secrets:
  * every login, failed or not, of every kind (staff, pupil, QR card), and every refusal for too
    many failures (login.succeeded / login.failed / login.throttled, with the kind; the account's
    id only when known) — never the login ID, school code, student ID, password or card secret;
  * a wrong second factor (mfa.failed, with the account's id);
  * a refused access (access.refused, status and path) on the site and the API;
  * a read refused for its purpose (privacy.read_refused) and an outbound connection refused by the
    egress guard (egress.refused, naming the host only);
  * a refused CSRF check (Django's django.security.csrf).
Each line is valid JSON whatever was sent, so input cannot forge log lines, and short whatever was
sent (a 5,000-character Host header or path is cut), so input cannot flood the log; a bad Host
header is a warning, not an error.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from classnote import urls as project_urls
from classnote.accounts import actions
from classnote.tenancy.access import PUBLIC, audience
from tests.conftest import PASSWORD, Tenant, login_as
from tests.security.conftest import LogLines

SECRETS_OF_THE_TEST = [PASSWORD, "wrong-password-4711"]
# A log line stays short whatever a request carries (time, level, logger, request id and a cut message).
LOG_LINE_LIMIT = 600
LOG_FIELD_LIMIT = 300


def no_secrets(log: LogLines, *extra: str) -> None:
    text = log.text()
    for secret in [*SECRETS_OF_THE_TEST, *extra]:
        assert secret not in text, f"the log holds {secret!r}"


def one_event(log: LogLines, name: str, response: Any) -> dict[str, Any]:
    """The single line of EVENT, tied to RESPONSE by its request id."""
    lines = [line for line in log.events(name) if line["request_id"] == response["X-Request-ID"]]
    assert len(lines) == 1, (name, response["X-Request-ID"], log.lines())
    return lines[0]


# --- Logins --------------------------------------------------------------------------------------------


def test_failed_and_successful_staff_logins_are_logged_without_the_login_id(
    tenant_a: Tenant, log_lines: LogLines
) -> None:
    client = Client()
    failed = client.post("/accounts/login/", {"login": tenant_a.teacher.username, "password": "wrong-password-4711"})
    line = one_event(log_lines, "login.failed", failed)
    assert line["kind"] == "staff" and line["level"] == "warning"
    unknown = client.post("/accounts/login/", {"login": "nobody-at-all", "password": "wrong-password-4711"})
    assert one_event(log_lines, "login.failed", unknown)["kind"] == "staff"
    ok = client.post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD})
    line = one_event(log_lines, "login.succeeded", ok)
    assert line["user_id"] == tenant_a.teacher.pk and line["kind"] == "staff"
    no_secrets(log_lines, tenant_a.teacher.username, "nobody-at-all", tenant_a.teacher.display_name)


def test_pupil_and_qr_card_logins_are_logged_without_school_code_student_id_or_secret(
    tenant_a: Tenant, log_lines: LogLines
) -> None:
    data = {"school_code": tenant_a.school.code, "student_number": tenant_a.student.student_number}
    failed = Client().post("/login/student/", data | {"password": "wrong-password-4711"})
    assert one_event(log_lines, "login.failed", failed)["kind"] == "student"
    ok = Client().post("/login/student/", data | {"password": PASSWORD})
    assert one_event(log_lines, "login.succeeded", ok) | {"kind": "student"} == one_event(
        log_lines, "login.succeeded", ok
    )
    token = dict(actions.issue_login_cards(tenant_a.teacher, tenant_a.school_class))[tenant_a.student]
    card_ok = Client().post("/login/card/", {"token": token})
    line = one_event(log_lines, "login.succeeded", card_ok)
    assert line["kind"] == "card" and line["user_id"] == tenant_a.student.pk
    card_failed = Client().post("/login/card/", {"token": "not-a-card-secret-123456"})
    assert one_event(log_lines, "login.failed", card_failed)["kind"] == "card"
    no_secrets(log_lines, token, "not-a-card-secret-123456", tenant_a.school.code, tenant_a.student.student_number)


def test_throttled_logins_are_logged(tenant_a: Tenant, log_lines: LogLines) -> None:
    for _ in range(5):
        Client().post("/accounts/login/", {"login": tenant_a.teacher.username, "password": "wrong-password-4711"})
    staff = Client().post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD})
    assert one_event(log_lines, "login.throttled", staff)["kind"] == "staff"
    data = {"school_code": tenant_a.school.code, "student_number": tenant_a.student.student_number}
    for _ in range(8):
        Client().post("/login/student/", data | {"password": "wrong-password-4711"})
    pupil = Client().post("/login/student/", data | {"password": PASSWORD})
    assert pupil.status_code == 429
    assert one_event(log_lines, "login.throttled", pupil)["kind"] == "student"
    for _ in range(60):
        Client().post("/login/card/", {"token": "x" * 32})
    card = Client().post("/login/card/", {"token": "x" * 32})
    assert card.status_code == 429
    assert one_event(log_lines, "login.throttled", card)["kind"] == "card"
    no_secrets(log_lines, tenant_a.teacher.username, tenant_a.student.student_number)


def test_a_wrong_second_factor_is_logged_with_the_account_id(tenant_a: Tenant, log_lines: LogLines) -> None:
    TOTP.activate(tenant_a.school_admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client = Client()
    client.post("/accounts/login/", {"login": tenant_a.school_admin.username, "password": PASSWORD})
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    line = one_event(log_lines, "mfa.failed", wrong)
    assert line["user_id"] == tenant_a.school_admin.pk and line["kind"] == "totp"
    no_secrets(log_lines, "000000 ", "JBSWY3DPEHPK3PXP", tenant_a.school_admin.username)


# --- Refusals ------------------------------------------------------------------------------------------


def test_refused_access_is_logged_on_the_site_and_the_api(tenant_a: Tenant, log_lines: LogLines) -> None:
    teacher = login_as(Client(), tenant_a.teacher)
    page = teacher.get(f"/schools/{tenant_a.school.pk}/")
    assert page.status_code == 403
    line = one_event(log_lines, "access.refused", page)
    assert line["user_id"] == tenant_a.teacher.pk and line["path"] == f"/schools/{tenant_a.school.pk}/"
    pupil = login_as(Client(), tenant_a.student)
    api = pupil.get(f"/api/boxes/{tenant_a.box.pk}/submissions")
    assert api.status_code == 403
    assert one_event(log_lines, "access.refused", api)["user_id"] == tenant_a.student.pk


def test_refused_csrf_checks_are_logged(tenant_a: Tenant, log_lines: LogLines) -> None:
    response = Client(enforce_csrf_checks=True).post("/login/student/", {"school_code": "x"})
    assert response.status_code == 403
    lines = [line for line in log_lines.lines() if line["logger"] == "django.security.csrf"]
    assert lines and lines[0]["request_id"] == response["X-Request-ID"] and lines[0]["level"] == "warning"


def test_a_read_refused_for_its_purpose_is_logged(tenant_a: Tenant, log_lines: LogLines) -> None:
    from classnote.accounts.models import User
    from classnote.base.inventory import Purpose
    from classnote.privacy import purposes

    with pytest.raises(purposes.PurposeRefused):
        purposes.check_reads(tenant_a.school_admin, Purpose.STATISTICS, {User: ["display_name"]})
    lines = log_lines.events("privacy.read_refused")
    assert lines and "display_name" in lines[0]["message"]
    no_secrets(log_lines, tenant_a.school_admin.display_name, tenant_a.student.display_name)


# A view that tries to reach a host outside the declared list, as a careless integration would.
@audience(PUBLIC)
def _reach_out(request: HttpRequest) -> HttpResponse:
    try:
        socket.create_connection(("203.0.113.77", 443), timeout=1)
    except OSError:
        return HttpResponse("refused", status=502)
    return HttpResponse("connected")  # pragma: no cover


urlpatterns = [path("egress-for-test/", _reach_out), *project_urls.urlpatterns]


@override_settings(ROOT_URLCONF=__name__)
def test_an_outbound_connection_refused_by_the_egress_guard_is_logged_with_the_request(
    db: None, log_lines: LogLines
) -> None:
    response = Client().get("/egress-for-test/")
    assert response.status_code == 502
    line = one_event(log_lines, "egress.refused", response)
    assert "203.0.113.77" in line["message"] and line["level"] == "warning"


# --- The lines themselves ----------------------------------------------------------------------------------


def test_input_cannot_forge_a_log_line(tenant_a: Tenant, log_lines: LogLines) -> None:
    forged = '\n{"level": "info", "event": "login.succeeded", "user_id": 1}\n'
    teacher = login_as(Client(), tenant_a.teacher)
    teacher.get(f"/schools/{tenant_a.school.pk}/%0a{{%22event%22:%22forged%22}}")
    Client().post("/accounts/login/", {"login": forged, "password": forged})
    Client().post("/login/student/", {"school_code": forged, "student_number": forged, "password": "x"})
    raw = log_lines.text().splitlines()
    parsed = log_lines.lines()  # raises if any line is not JSON
    assert len(raw) == len(parsed)
    assert not [line for line in parsed if line.get("event") == "forged"]
    # The only successful login is the test's own (force_login, outside any request).
    assert [line["request_id"] for line in parsed if line.get("event") == "login.succeeded"] == ["-"]
    assert len(log_lines.events("login.failed")) == 1  # (the pupil form refuses the over-long values itself)


def test_each_line_has_a_time_a_level_and_a_request_id(tenant_a: Tenant, log_lines: LogLines) -> None:
    Client().post("/accounts/login/", {"login": "x", "password": "wrong-password-4711"})
    line = log_lines.events("login.failed")[0]
    assert set(line) >= {"time", "level", "logger", "request_id", "message", "event"}
    assert line["logger"] == "classnote.security"
    assert line["time"].endswith("+00:00")  # UTC
    assert abs(time.time() - __import__("datetime").datetime.fromisoformat(line["time"]).timestamp()) < 60


# --- What a request can put into the log is bounded ---------------------------------------------------


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the console handler configured by settings.LOGGING writes (its own filters and formatter)."""
    handlers = {
        id(handler): handler
        for name in ("", "django.security", "django.request")
        for handler in logging.getLogger(name).handlers
        if getattr(handler, "name", "") == "console"
    }
    assert handlers, "settings.LOGGING has no console handler"
    stream = io.StringIO()
    previous = {key: handler.setStream(stream) for key, handler in handlers.items()}  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        for key, handler in handlers.items():
            handler.setStream(previous[key])  # type: ignore[attr-defined]


def lines_of(stream: io.StringIO, logger: str) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if json.loads(line)["logger"] == logger]


def test_a_long_bad_host_header_is_logged_short_and_as_a_warning(db: None, console_log: io.StringIO) -> None:
    """Finding 8 of issue 12: a 5,000-character bad Host header was logged whole, at error level."""
    host = "h" * 4990 + ".example"
    response = Client().get("/login/student/", HTTP_HOST=host)
    assert response.status_code == 400
    (line,) = lines_of(console_log, "django.security.DisallowedHost")
    assert len(line) < LOG_LINE_LIMIT, len(line)
    entry = json.loads(line)
    assert len(entry["message"]) < LOG_FIELD_LIMIT
    assert entry["level"] == "warning"  # anyone can send it: not an error of the service
    assert entry["message"].startswith("Invalid HTTP_HOST header: 'hhhh")


def test_a_long_path_is_logged_short(tenant_a: Tenant, console_log: io.StringIO) -> None:
    """A refused CSRF check names the path; a path of thousands of characters is cut."""
    long_path = f"/users/{'1' * 4000}/active/"
    response = Client(enforce_csrf_checks=True).post(long_path, {})
    assert response.status_code == 403
    (line,) = lines_of(console_log, "django.security.csrf")
    assert len(line) < LOG_LINE_LIMIT, len(line)


def test_every_field_of_a_log_line_is_cut(console_log: io.StringIO) -> None:
    """Any logger, any field the formatter writes: message, arguments and extra fields."""
    logging.getLogger("classnote.anything").warning(
        "value %s and %s", "a" * 3000, "b" * 3000, extra={"path": "/" + "p" * 3000, "kind": "k" * 3000}
    )
    (line,) = lines_of(console_log, "classnote.anything")
    entry = json.loads(line)
    assert entry["message"].startswith("value aaaa")
    assert {key: len(value) for key, value in entry.items() if len(str(value)) >= LOG_FIELD_LIMIT} == {}
