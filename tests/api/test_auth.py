"""Authentication of the API: personal tokens of staff (Bearer, no CSRF) and the session cookie
(CSRF on unsafe methods); every refusal is JSON with a translated "detail"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from classnote.accounts import actions as account_actions
from classnote.accounts import tokens
from classnote.accounts.models import ApiToken
from tests.api.conftest import bearer, csrf_header, english, in_language, issue_token, send, session
from tests.conftest import Tenant

CSRF_MESSAGE = "The CSRF check failed. With the session cookie, send the X-CSRFToken header (GET /api/csrf gives it)."


def test_a_teacher_makes_a_token_that_is_shown_once_and_stored_as_a_hash(tenant_a: Tenant) -> None:
    client = session(tenant_a.teacher, csrf=True, fresh=True)
    response = send(client, "POST", "/api/tokens", {"name": "grading script"}, **csrf_header(client))
    assert response.status_code == 201, response.content
    made = response.json()
    token = made["token"]
    assert token.startswith("cn_") and len(token) > 40
    assert made["active"] is True and made["name"] == "grading script"
    assert made["expires_at"] is not None  # 90 days unless asked otherwise

    stored = ApiToken.objects.get(pk=made["id"])
    assert stored.token_hash == tokens.hash_token(token)
    assert token not in {value for value in vars(stored).values() if isinstance(value, str)}

    listed = client.get("/api/tokens").json()
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0] and token not in client.get("/api/tokens").content.decode()

    me = bearer(token).get("/api/me")
    assert me.status_code == 200 and me.json()["id"] == tenant_a.teacher.pk
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_a_token_request_needs_no_csrf_token(tenant_a: Tenant) -> None:
    client = bearer(issue_token(tenant_a.teacher))  # CSRF enforced as in a browser
    opened = send(client, "POST", f"/api/classes/{tenant_a.school_class.pk}/lessons", {"title": "By script"})
    assert opened.status_code == 201, opened.content
    lesson_id = opened.json()["id"]
    card = send(client, "POST", "/api/cards", {"kind": "text", "title": "t", "lesson_id": lesson_id})
    assert card.status_code == 201, card.content
    saved = send(client, "PATCH", f"/api/cards/{card.json()['id']}", {"version": 1, "fields": {"text": "x"}})
    assert saved.status_code == 200, saved.content
    assert send(client, "DELETE", f"/api/cards/{card.json()['id']}").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/classes/{class_id}/lessons", {"title": "No token"}),
        ("PATCH", "/api/cards/{card_id}", {"version": 1, "fields": {"text": "x"}}),
        ("DELETE", "/api/cards/{card_id}", None),
        ("POST", "/api/tokens", {"name": "x"}),
    ],
)
def test_session_requests_without_the_csrf_header_are_refused(
    tenant_a: Tenant, method: str, path: str, body: object
) -> None:
    english(tenant_a.teacher)
    own_card = send(session(tenant_a.teacher), "POST", "/api/cards", {"kind": "text", "title": "mine"})
    path = path.format(class_id=tenant_a.school_class.pk, card_id=own_card.json()["id"])
    client = session(tenant_a.teacher, csrf=True, fresh=True)
    refused = send(client, method, path, body)
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/json")
    assert refused.json() == {"detail": CSRF_MESSAGE}
    forged = send(client, method, path, body, HTTP_X_CSRFTOKEN="x" * 64)
    assert forged.status_code == 403
    accepted = send(client, method, path, body, **csrf_header(client))
    assert accepted.status_code in {200, 201, 204}, accepted.content


def test_the_csrf_refusal_is_translated(tenant_a: Tenant) -> None:
    client = session(tenant_a.teacher, csrf=True)  # the tenant's language: Japanese
    refused = send(client, "POST", f"/api/classes/{tenant_a.school_class.pk}/lessons", {"title": "x"})
    assert refused.status_code == 403
    assert refused["Content-Language"] == "ja"
    assert refused.json()["detail"] == in_language("ja", CSRF_MESSAGE)
    assert refused.json()["detail"] != CSRF_MESSAGE


def test_revoked_and_expired_tokens_are_refused(tenant_a: Tenant) -> None:
    english(tenant_a.teacher)
    token = issue_token(tenant_a.teacher)
    assert bearer(token).get("/api/me").status_code == 200
    stored = ApiToken.objects.get(token_hash=tokens.hash_token(token))

    revoked = send(session(tenant_a.teacher), "DELETE", f"/api/tokens/{stored.pk}")
    assert revoked.status_code == 204
    refused = bearer(token).get("/api/me")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "The API token is not valid, has expired or was revoked."}
    assert refused["WWW-Authenticate"].startswith("Bearer")

    expiring = issue_token(tenant_a.teacher, days=1)
    assert bearer(expiring).get("/api/me").status_code == 200
    ApiToken.objects.filter(token_hash=tokens.hash_token(expiring)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert bearer(expiring).get("/api/me").status_code == 401
    listed = {t["id"]: t for t in session(tenant_a.teacher).get("/api/tokens").json()}
    assert listed[stored.pk]["active"] is False and listed[stored.pk]["revoked_at"]


def test_unknown_and_malformed_tokens_are_refused_without_falling_back_to_the_session(
    tenant_a: Tenant,
) -> None:
    for value in ("cn_not-a-token", "x", "cn_" + "a" * 500, "", "cn_\u00e9"):
        response = bearer(value).get("/api/me")
        assert response.status_code == 401, value
        assert response.json()["detail"]
    # A signed-in browser that also sends a wrong token is refused, not let in by its cookie.
    client = session(tenant_a.teacher)
    assert client.get("/api/me", HTTP_AUTHORIZATION="Bearer cn_wrong").status_code == 401
    assert client.get("/api/me").status_code == 200


def test_deactivation_and_logging_out_everywhere_end_tokens(tenant_a: Tenant) -> None:
    teacher = tenant_a.teacher
    token = issue_token(teacher)
    account_actions.set_active(tenant_a.school_admin, teacher.pk, False)
    assert bearer(token).get("/api/me").status_code == 401
    teacher.refresh_from_db()
    account_actions.set_active(tenant_a.school_admin, teacher.pk, True)
    # Reactivation does not bring old tokens back (deactivation raised the session epoch).
    assert bearer(token).get("/api/me").status_code == 401

    teacher.refresh_from_db()
    fresh = issue_token(teacher)
    assert bearer(fresh).get("/api/me").status_code == 200
    account_actions.logout_everywhere(teacher)
    assert bearer(fresh).get("/api/me").status_code == 401
    assert not ApiToken.objects.filter(user=teacher, revoked_at__isnull=True).exists()


def test_logging_out_everywhere_from_the_site_revokes_tokens(tenant_a: Tenant) -> None:
    token = issue_token(tenant_a.school_admin)
    client = session(tenant_a.school_admin)
    assert client.post("/settings/logout-everywhere/").status_code == 302
    assert bearer(token).get("/api/me").status_code == 401


def test_students_get_no_tokens(tenant_a: Tenant) -> None:
    student = tenant_a.student
    client = session(student, csrf=True)
    refused = send(client, "POST", "/api/tokens", {"name": "mine"}, **csrf_header(client))
    assert refused.status_code == 403
    assert refused.json()["detail"]
    assert client.get("/api/tokens").status_code == 403
    with pytest.raises(account_actions.ActionError):
        tokens.issue(student, "direct")
    # Even a token row made behind the actions' back does not let a student in.
    ApiToken.objects.create(user=student, name="sneaked", token_hash=tokens.hash_token("cn_student"))
    assert bearer("cn_student").get("/api/me").status_code == 401
    assert not ApiToken.objects.filter(user=student, last_used_at__isnull=False).exists()


def test_a_token_cannot_make_tokens_or_revoke_anothers(tenant_a: Tenant, tenant_b: Tenant) -> None:
    english(tenant_a.teacher)
    client = bearer(issue_token(tenant_a.teacher))
    refused = send(client, "POST", "/api/tokens", {"name": "more"})
    assert refused.status_code == 401
    assert "logged in to the site" in refused.json()["detail"]

    theirs = ApiToken.objects.get(user=tenant_b.teacher, pk=tokens.issue(tenant_b.teacher, "b")[0].pk)
    assert send(client, "DELETE", f"/api/tokens/{theirs.pk}").status_code == 404
    colleague = tokens.issue(tenant_a.school_admin, "colleague")[0]
    assert send(client, "DELETE", f"/api/tokens/{colleague.pk}").status_code == 404
    theirs.refresh_from_db()
    colleague.refresh_from_db()
    assert theirs.revoked_at is None and colleague.revoked_at is None


def test_token_names_and_lifetimes_are_checked(tenant_a: Tenant) -> None:
    client = session(tenant_a.teacher, fresh=True)
    assert send(client, "POST", "/api/tokens", {"name": ""}).status_code == 422
    assert send(client, "POST", "/api/tokens", {"name": "x", "expires_in_days": 0}).status_code == 422
    assert send(client, "POST", "/api/tokens", {"name": "x\u0000y"}).status_code == 422
    forever = send(client, "POST", "/api/tokens", {"name": "no end", "expires_in_days": None})
    assert forever.status_code == 201 and forever.json()["expires_at"] is None
    for number in range(tokens.MAX_ACTIVE_TOKENS - 1):
        assert send(client, "POST", "/api/tokens", {"name": f"t{number}"}).status_code == 201
    too_many = send(client, "POST", "/api/tokens", {"name": "one more"})
    assert too_many.status_code == 400 and too_many.json()["detail"]


def test_anonymous_requests_get_401_json(db: None) -> None:
    client = Client(raise_request_exception=False)
    for method, path in (("GET", "/api/cards"), ("POST", "/api/cards"), ("GET", "/api/tokens")):
        response = client.generic(method, path)
        assert response.status_code in {401, 403}, (method, path)
        assert response.json()["detail"]


def test_refusals_speak_the_token_users_language(tenant_a: Tenant) -> None:
    client = bearer(issue_token(tenant_a.teacher))  # no cookie, no Accept-Language: the tenant's language
    response = client.get("/api/cards/999999")
    assert response.status_code == 404
    assert response["Content-Language"] == "ja"
    assert response.json() == {"detail": in_language("ja", "Not found.")}


def test_methods_that_an_api_path_does_not_have_are_refused_with_json(tenant_a: Tenant) -> None:
    response = session(tenant_a.teacher).put("/api/files")
    assert response.status_code == 405
    assert response.json()["detail"]
    assert response["Allow"] == "POST"
