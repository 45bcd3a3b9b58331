"""Site-wide — error messages that leak nothing.

Promise:
  * DEBUG is off (in the tests and in production), so Django's technical pages never appear;
  * a crash — a database error with its SQL, an exception carrying a secret, a missing key — is
    answered with the product's own "Something went wrong" page (or `{"detail": ...}` for the API):
    no traceback, no SQL, no file path, no setting, no secret, no exception name;
  * 400, 403, 404 and 405 pages and API errors show nothing of the code, and a missing object and
    one of another tenant get the very same answer (no telling which ids exist);
  * a failed login does not tell whether the account exists: staff (unknown login ID, wrong
    password, deactivated account), pupils (unknown school, unknown student ID, wrong password),
    QR cards (unknown, revoked) and API tokens (unknown, revoked) each get one message;
  * no response names the software and its version (Server, X-Powered-By).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from classnote import urls as project_urls
from classnote.accounts import actions
from tests.conftest import PASSWORD, Tenant, login_as, read_body

SECRET_MARK = "secret-value-in-an-exception-7731"
SQL = 'SELECT "accounts_user"."password" FROM "accounts_user" WHERE "accounts_user"."id" = 1'


def _database_error(request: HttpRequest) -> HttpResponse:
    raise DatabaseError(f"no such column: accounts_user.x ({SQL})")


def _secret_error(request: HttpRequest) -> HttpResponse:
    raise ValueError(f"{SECRET_MARK} {settings.SECRET_KEY}")


def _key_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse({}["DATABASES"])


urlpatterns = [
    path("crash/database/", _database_error),
    path("crash/secret/", _secret_error),
    path("crash/key/", _key_error),
    path("api/crash/database", _database_error),
    path("api/crash/secret", _secret_error),
    *project_urls.urlpatterns,
]
handler400, handler403 = project_urls.handler400, project_urls.handler403
handler404, handler500 = project_urls.handler404, project_urls.handler500


def internals(body: str) -> list[str]:
    markers = [
        "Traceback",
        'File "',
        "site-packages",
        str(settings.PACKAGE_DIR),
        "/src/classnote/",
        "DatabaseError",
        "ValueError",
        "KeyError",
        "SELECT ",
        "no such column",
        "accounts_user",
        SECRET_MARK,
        settings.SECRET_KEY,
        "DATABASES",
        "INSTALLED_APPS",
        "DEBUG",
        "django.",
        "Django",
    ]
    return [marker for marker in markers if marker and marker in body]


def test_debug_is_off(production_settings: dict[str, Any]) -> None:
    assert settings.DEBUG is False
    assert production_settings["DEBUG"] is False


@override_settings(ROOT_URLCONF=__name__)
def test_a_crash_shows_nothing_of_the_code_the_data_or_the_settings(tenant_a: Tenant) -> None:
    problems = []
    for signed_in in (False, True):
        client = Client(raise_request_exception=False)
        if signed_in:
            login_as(client, tenant_a.teacher)
        for url in ("/crash/database/", "/crash/secret/", "/crash/key/", "/api/crash/database", "/api/crash/secret"):
            response = client.get(url)
            body = response.content.decode("utf-8", "replace")
            if response.status_code != 500:
                problems.append(f"{url}: {response.status_code}")
            leaked = internals(body)
            if leaked:
                problems.append(f"{url} (signed in: {signed_in}): shows {leaked}")
            if url.startswith("/api/") and (set(response.json()) != {"detail"} or not response.json()["detail"]):
                problems.append(f"{url}: the API error is not just a detail: {body[:100]}")
    assert not problems, "\n".join(problems)


def test_refusals_show_nothing_and_do_not_tell_missing_from_forbidden(tenant_a: Tenant, tenant_b: Tenant) -> None:
    teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    cases = {
        "404 page": teacher.get("/no-such-page/"),
        "403 page": teacher.get(f"/schools/{tenant_a.school.pk}/"),
        "405 page": teacher.get("/settings/logout-everywhere/"),
        "400 page": Client(raise_request_exception=False).generic(
            "POST", "/login/student/", b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"
        ),
        "API 404": teacher.get("/api/classes/999999"),
        "API 403": login_as(Client(), tenant_a.student).get(f"/api/boxes/{tenant_a.box.pk}/submissions"),
        "API 405": teacher.delete("/api/me"),
        "API 422": teacher.post(
            f"/api/lessons/{tenant_a.lesson.pk}/boxes", {"title": 5, "deadline": "x"}, content_type="application/json"
        ),
    }
    problems = [
        f"{label}: shows {internals(read_body(r).decode())}"
        for label, r in cases.items()
        if internals(read_body(r).decode())
    ]
    assert not problems, "\n".join(problems)
    # Another municipality's object and an object that does not exist: the same answer.
    for template in (
        "/classes/{}/",
        "/users/{}/",
        "/lessons/{}/",
        "/cards/{}/",
        "/api/classes/{}",
        "/api/lessons/{}",
        "/api/cards/{}",
    ):
        other = {
            "/classes/{}/": tenant_b.school_class.pk,
            "/users/{}/": tenant_b.student.pk,
            "/lessons/{}/": tenant_b.lesson.pk,
            "/cards/{}/": tenant_b.card.pk,
            "/api/classes/{}": tenant_b.school_class.pk,
            "/api/lessons/{}": tenant_b.lesson.pk,
            "/api/cards/{}": tenant_b.card.pk,
        }[template]
        forbidden, missing = teacher.get(template.format(other)), teacher.get(template.format(987654321))
        assert forbidden.status_code == missing.status_code == 404, template
        assert page_text(forbidden) == page_text(missing), (
            f"{template}: another tenant's id is told apart from a missing one"
        )


def page_text(response: Any) -> str:
    """The page without what differs by request anyway: CSRF tokens and the page's own path."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r'name="next" value="[^"]*"', "", body)


def normalised(response: Any) -> str:
    """The page without what differs by request: CSRF tokens and the echoed login ID."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'name="login" value="[^"]*"', "", body)


def test_a_failed_staff_login_does_not_tell_whether_the_account_exists(tenant_a: Tenant) -> None:
    wrong = Client().post("/accounts/login/", {"login": tenant_a.teacher.username, "password": "wrong-password"})
    unknown = Client().post("/accounts/login/", {"login": "no-such-teacher", "password": "wrong-password"})
    pupil = Client().post("/accounts/login/", {"login": tenant_a.student.username, "password": PASSWORD})
    actions.set_active(tenant_a.school_admin, tenant_a.teacher.pk, False)
    inactive = Client().post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD})
    answers = {
        "wrong password": wrong,
        "unknown login ID": unknown,
        "a pupil's account": pupil,
        "deactivated account": inactive,
    }
    statuses = {label: r.status_code for label, r in answers.items()}
    assert set(statuses.values()) == {200}, statuses
    pages = {label: normalised(r) for label, r in answers.items()}
    assert len(set(pages.values())) == 1, "the login page differs by account: " + ", ".join(pages)


def test_a_failed_pupil_login_does_not_tell_what_was_wrong(tenant_a: Tenant) -> None:
    number = tenant_a.student.student_number
    cases = {
        "wrong password": (tenant_a.school.code, number, "wrong"),
        "unknown student ID": (tenant_a.school.code, "nobody", "wrong"),
        "unknown school": ("no-such-school", number, "wrong"),
    }
    pages = set()
    for label, (school, student, password) in cases.items():
        response = Client().post(
            "/login/student/", {"school_code": school, "student_number": student, "password": password}
        )
        assert response.status_code == 400, label
        body = re.sub(r'value="[^"]*"', "", response.content.decode())
        pages.add(body)
    assert len(pages) == 1


def test_unknown_and_revoked_cards_and_tokens_get_the_same_answer(tenant_a: Tenant) -> None:
    token = dict(actions.issue_login_cards(tenant_a.teacher, tenant_a.school_class))[tenant_a.student]
    actions.revoke_login_cards(tenant_a.teacher, tenant_a.student.pk)
    revoked = Client().post("/login/card/", {"token": token})
    unknown = Client().post("/login/card/", {"token": "x" * len(token)})
    assert revoked.status_code == unknown.status_code == 400
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", revoked.content.decode()) == strip.sub("", unknown.content.decode())
    from classnote.accounts import tokens

    _row, api_token = tokens.issue(tenant_a.teacher, "t", None)
    tokens.revoke(tenant_a.teacher, _row.pk)
    answers = [
        Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {value}") for value in (api_token, "y" * len(api_token))
    ]
    assert answers[0].status_code == answers[1].status_code == 401
    assert answers[0].json() == answers[1].json()


def test_no_response_names_the_software_or_its_version(tenant_a: Tenant) -> None:
    for response in (Client().get("/"), Client().get("/api/me"), login_as(Client(), tenant_a.teacher).get("/home/")):
        assert "X-Powered-By" not in response
        assert "django" not in response.get("Server", "").lower() and "python" not in response.get("Server", "").lower()
