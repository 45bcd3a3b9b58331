"""IPA checklist 4 — session management.

Promise:
  * Fixation: every way of logging in (staff password, staff password + second factor, pupil
    school code + student ID, QR login card) gives a new session id; the id a visitor had before
    (one an attacker could have planted) is deleted on the server and opens nothing.
  * The session id travels only in its cookie: it appears in no URL, redirect or page, and an id
    put into a URL is ignored.
  * The cookie is HttpOnly, SameSite=Lax, Path=/ without a Domain, and in production Secure with
    the `__Host-` prefix (the CSRF and language cookies too).
  * Ids are long random values (Django's 32 characters of [a-z0-9], ~165 bits), new every login.
  * Each role's session ends after its idle time and after its absolute lifetime, however active
    (pupils 45 min / 8 h, teachers 2 h / 12 h, administrators 30 min / 8 h by default).
  * Logging out deletes the session on the server: the old cookie, replayed, opens nothing.
    "Log out everywhere", a new password and deactivation end every session of the account.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Any

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client, override_settings

from classnote.accounts import actions
from classnote.accounts.models import User
from tests.conftest import PASSWORD, Tenant, login_as, mfa_passed, read_body
from tests.test_isolation import _values, all_routes

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# A test that makes a TOTP code runs with the clock frozen here, in the middle of a 30-second period,
# so the code cannot roll over to the next period between making it and the server checking it. (Its
# own period: allauth remembers used codes in the cache until the period ends, by the clock.)
TOTP_INSTANT = datetime.datetime(2026, 11, 26, 10, 45, 15, tzinfo=datetime.UTC)


def session_key(client: Client) -> str:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None else ""


def planted(client: Client) -> str:
    """A session the visitor holds before logging in (as an attacker would plant it)."""
    session = client.session
    session["planted"] = "by someone else"
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert session_key(client) == session.session_key
    return str(session.session_key)


def signed_in(client: Client) -> bool:
    return client.get("/home/").status_code == 200


def with_cookie(key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def staff_login(client: Client, user: User) -> Any:
    return client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})


def student_login(client: Client, tenant: Tenant) -> Any:
    return client.post(
        "/login/student/",
        {"school_code": tenant.school.code, "student_number": tenant.student.student_number, "password": PASSWORD},
    )


def card_login(client: Client, tenant: Tenant) -> Any:
    token = dict(actions.issue_login_cards(tenant.teacher, tenant.school_class))[tenant.student]
    return client.post("/login/card/", {"token": token})


# --- Fixation and rotation ------------------------------------------------------------------------------

LOGINS = {
    "teacher (password)": lambda client, t: staff_login(client, t.teacher),
    "pupil (school code and student ID)": student_login,
    "pupil (QR login card)": card_login,
}


@pytest.mark.parametrize("how", list(LOGINS))
def test_login_replaces_a_planted_session_id(tenant_a: Tenant, how: str) -> None:
    client = Client()
    old = planted(client)
    response = LOGINS[how](client, tenant_a)
    assert response.status_code == 302, response.status_code
    new = session_key(client)
    assert new and new != old, "the session id was not changed at login"
    assert not SessionStore().exists(old), "the planted session still exists on the server"
    assert signed_in(client)
    assert not signed_in(with_cookie(old)), "the planted id opens the account"


@time_machine.travel(TOTP_INSTANT, tick=False)
def test_the_second_factor_gives_yet_another_session_id(tenant_a: Tenant) -> None:
    admin = tenant_a.school_admin
    TOTP.activate(admin, TOTP_SECRET)
    client = Client()
    old = planted(client)
    assert staff_login(client, admin)["Location"].startswith("/accounts/2fa/authenticate")
    halfway = session_key(client)
    assert not signed_in(client) and not signed_in(with_cookie(halfway))
    code = format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    final = session_key(client)
    # Between the steps the visitor is not logged in yet (allauth keeps the pending login in the
    # session); once the second factor is accepted the id changes.
    assert final not in (old, halfway), "the id was kept when the login completed"
    assert signed_in(client)
    for stale in (old, halfway):
        assert not SessionStore().exists(stale)
        assert not signed_in(with_cookie(stale))


def test_every_login_gets_a_new_long_random_id(tenant_a: Tenant) -> None:
    keys = set()
    for _ in range(5):
        client = Client()
        assert staff_login(client, tenant_a.teacher).status_code == 302
        keys.add(session_key(client))
    assert len(keys) == 5
    for key in keys:
        assert re.fullmatch(r"[a-z0-9]{32}", key), key  # Django's get_random_string: ~165 bits


# --- The id never travels in a URL -----------------------------------------------------------------------

URL_ATTRIBUTES = re.compile(r'(?:href|src|action|formaction|data-[\w-]*url)="([^"]*)"')


def test_the_session_id_is_in_no_url_redirect_or_page(tenant_a: Tenant) -> None:
    problems = []
    for actor in (tenant_a.student, tenant_a.teacher, tenant_a.school_admin, tenant_a.municipal_admin):
        client = login_as(Client(raise_request_exception=False), actor)
        key = session_key(client)
        assert key
        for route in all_routes():
            if route.streaming:
                continue
            url = route.path(_values(route, tenant_a))
            response = client.get(url)
            body = read_body(response).decode("utf-8", "replace")
            where = f"GET {url} as {actor.role}"
            if key in body:
                problems.append(f"{where}: the page holds the session id")
            if key in response.get("Location", ""):
                problems.append(f"{where}: the redirect carries the session id")
            for link in URL_ATTRIBUTES.findall(body):
                if re.search(r"(?i)(session|sid)=", link):
                    problems.append(f"{where}: a URL with a session parameter: {link}")
            # A request that logged the actor out (log out everywhere is POST-only, but be safe).
            if session_key(client) != key:
                client = login_as(Client(raise_request_exception=False), actor)
                key = session_key(client)
    assert not problems, "\n".join(problems)


def test_a_session_id_in_the_url_is_ignored(tenant_a: Tenant) -> None:
    key = session_key(login_as(Client(), tenant_a.teacher))
    name = settings.SESSION_COOKIE_NAME
    for url in (f"/home/?{name}={key}", f"/home/;{name}={key}", f"/home/?sessionid={key}", f"/home/?sid={key}"):
        response = Client().get(url)
        login = response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert login or response.status_code == 404, (url, response.status_code)


# --- Cookie attributes ------------------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_samesite_and_host_only(tenant_a: Tenant) -> None:
    client = Client()
    page = client.get("/accounts/login/")
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    response = staff_login(client, tenant_a.teacher)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    for name, morsel in ((settings.SESSION_COOKIE_NAME, cookie), (settings.CSRF_COOKIE_NAME, csrf)):
        assert morsel["httponly"] is True, f"{name} is readable by scripts"
        assert morsel["samesite"] == "Lax", f"{name}: SameSite={morsel['samesite']!r}"
        assert morsel["path"] == "/", name
        assert not morsel["domain"], f"{name} is sent to other hosts ({morsel['domain']})"
    language = client.post("/settings/language/", {"language": "ja", "next": "/"}).cookies[
        settings.LANGUAGE_COOKIE_NAME
    ]
    assert language["httponly"] is True and language["samesite"] == "Lax"


def test_production_cookies_are_secure_and_host_prefixed(production_settings: dict[str, Any]) -> None:
    for prefix in ("SESSION", "CSRF", "LANGUAGE"):
        assert production_settings[f"{prefix}_COOKIE_SECURE"] is True, f"{prefix}_COOKIE_SECURE is off in production"
        assert production_settings[f"{prefix}_COOKIE_NAME"].startswith("__Host-"), prefix
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["CSRF_COOKIE_HTTPONLY"] is True
    assert production_settings["SESSION_COOKIE_SAMESITE"] == production_settings["CSRF_COOKIE_SAMESITE"] == "Lax"
    # __Host- cookies must have Path=/ and no Domain, or browsers drop them.
    assert production_settings["SESSION_COOKIE_DOMAIN"] is None and production_settings["CSRF_COOKIE_DOMAIN"] is None
    assert production_settings["SESSION_COOKIE_PATH"] == "/"


def test_over_https_with_the_production_cookie_settings_the_login_sets_a_secure_host_cookie(
    tenant_a: Tenant, production_settings: dict[str, Any]
) -> None:
    names = ("SESSION", "CSRF", "LANGUAGE")
    production = {
        f"{n}_COOKIE_{attr}": production_settings[f"{n}_COOKIE_{attr}"] for n in names for attr in ("SECURE", "NAME")
    }
    with override_settings(**production):
        client = Client()
        client.get("/accounts/login/", secure=True)
        response = client.post(
            "/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD}, secure=True
        )
        assert response.status_code == 302
        raw = [value for header, value in response.items() if header.lower() == "set-cookie"]
        raw += [morsel.OutputString() for morsel in response.cookies.values()]
        session = next(line for line in raw if line.startswith(production["SESSION_COOKIE_NAME"] + "="))
        attributes = {part.strip().split("=")[0].lower() for part in session.split(";")[1:]}
        assert {"secure", "httponly", "samesite", "path"} <= attributes, session
        assert "domain" not in attributes, session
        assert client.get("/home/", secure=True).status_code == 200


# --- Lifetimes per role ---------------------------------------------------------------------------------

ROLES = ["student", "teacher", "school_admin", "municipal_admin"]
DEFAULT_LIFETIMES = {"student": (8 * 3600, 45 * 60), "teacher": (12 * 3600, 2 * 3600), "admin": (8 * 3600, 30 * 60)}


def test_the_default_lifetimes_are_the_documented_ones() -> None:
    lifetimes = settings.SESSION_LIFETIMES
    assert lifetimes == DEFAULT_LIFETIMES
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is False
    longest = max(age for age, _ in DEFAULT_LIFETIMES.values())
    assert longest >= settings.SESSION_COOKIE_AGE


def _actor(tenant: Tenant, role: str) -> User:
    user: User = getattr(tenant, {"student": "student", "teacher": "teacher"}.get(role, role))
    return user


@pytest.mark.parametrize("role", ROLES)
def test_a_session_ends_after_its_idle_time(tenant_a: Tenant, role: str) -> None:
    user = _actor(tenant_a, role)
    _absolute, idle = settings.SESSION_LIFETIMES[user.session_kind()]
    with time_machine.travel("2026-11-26 08:00 +0000", tick=False) as clock:
        client = login_as(Client(), user)
        key = session_key(client)
        clock.shift(idle - 60)
        assert signed_in(client), "ended before its idle time"
        clock.shift(idle + 60)
        response = client.get("/home/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert not SessionStore().exists(key), "the idle session was not deleted on the server"


@pytest.mark.parametrize("role", ROLES)
def test_a_session_ends_after_its_absolute_lifetime_however_active(tenant_a: Tenant, role: str) -> None:
    user = _actor(tenant_a, role)
    absolute, idle = settings.SESSION_LIFETIMES[user.session_kind()]
    step = max(60, idle - 120)
    with time_machine.travel("2026-11-26 08:00 +0000", tick=False) as clock:
        client = login_as(Client(), user)
        if user.requires_mfa():
            mfa_passed(client)
        elapsed = 0
        while elapsed + step < absolute:
            clock.shift(step)
            elapsed += step
            assert signed_in(client), f"ended after {elapsed} s of activity, before {absolute} s"
        clock.shift(absolute - elapsed + 60)
        assert not signed_in(client), "still signed in after the absolute lifetime"


# --- Ending sessions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_logout_deletes_the_session_on_the_server(tenant_a: Tenant, role: str) -> None:
    client = login_as(Client(), _actor(tenant_a, role))
    key = session_key(client)
    assert SessionStore().exists(key)
    assert client.post("/accounts/logout/").status_code == 302
    assert not SessionStore().exists(key)
    assert not signed_in(with_cookie(key)), "the old cookie still opens the account"


def test_log_out_everywhere_ends_every_session_and_allows_a_fresh_login(tenant_a: Tenant) -> None:
    devices = [login_as(Client(), tenant_a.teacher) for _ in range(3)]
    keys = [session_key(device) for device in devices]
    assert devices[0].post("/settings/logout-everywhere/").status_code == 302
    for key in keys:
        assert not signed_in(with_cookie(key))
    fresh = Client()
    assert staff_login(fresh, tenant_a.teacher).status_code == 302 and signed_in(fresh)


def test_a_new_password_or_deactivation_ends_the_persons_sessions(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    actions.reset_password(tenant_a.teacher, tenant_a.student.pk)
    assert not signed_in(pupil)
    classmate = login_as(Client(), tenant_a.classmate)
    actions.set_active(tenant_a.school_admin, tenant_a.classmate.pk, False)
    assert not signed_in(classmate)
    # Reactivation does not bring the old session back.
    actions.set_active(tenant_a.school_admin, tenant_a.classmate.pk, True)
    assert not signed_in(classmate)
