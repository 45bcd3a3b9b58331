"""Subscribers of the status page: e-mail with double opt-in (confirmation link, only the token's
SHA-256 stored), unsubscribe, the spam traps and limits of the public form, notifications in the
subscriber's language, webhooks signed with HMAC-SHA256 and sent through the egress guard."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from classnote.accounts.models import User
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.core import formguard
from classnote.privacy import egress
from classnote.privacy import hosts as _hosts
from classnote.status import actions, notify
from classnote.status.models import Subscriber
from classnote.status.views import subscriptions
from tests.conftest import PASSWORD, login_as

ADDRESS = "parent@example.jp"


@pytest.fixture(autouse=True)
def _locmem_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _notify_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's transaction never commits: run what waits for the commit at once."""
    monkeypatch.setattr(notify, "transaction", SimpleNamespace(on_commit=lambda callback: callback()))


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user("operator", PASSWORD, display_name="Operator", role=Role.OPERATOR)


def token(seconds_ago: float = 10) -> str:
    with time_machine.travel(timezone.now() - timedelta(seconds=seconds_ago), tick=False):
        return formguard.form_token(subscriptions._SALT)


def subscribe(client: Client, address: str = ADDRESS, language: str = "en", **extra: Any) -> Any:
    data = {"email": address, formguard.TOKEN_FIELD: token(), **extra}
    return client.post("/status/subscribe/", data, HTTP_ACCEPT_LANGUAGE=language)


def link(message: Any, kind: str) -> str:
    found = re.search(rf"https?://[^\s]+/status/subscribe/{kind}/[^\s]+/", message.body)
    assert found, message.body
    return found.group(0).split("testserver", 1)[-1]


def confirmed_subscriber(client: Client, address: str = ADDRESS, language: str = "en") -> Subscriber:
    assert subscribe(client, address, language).status_code == 200
    confirm = link(mail.outbox[-1], "confirm")
    assert client.post(confirm).status_code == 200
    return Subscriber.objects.get(address=address)


def test_double_opt_in(client: Client, db: None) -> None:
    response = subscribe(client)
    assert response.status_code == 200
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [ADDRESS]
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is None
    confirm = link(mail.outbox[0], "confirm")
    secret = confirm.rstrip("/").rsplit("/", 1)[-1]
    assert subscriber.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(list(Subscriber.objects.values()), default=str)
    # Opening the link confirms nothing (mail scanners open links); the button does.
    assert client.get(confirm).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None
    assert client.post(confirm).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None
    # Asking again for a confirmed address sends nothing, and the answer is the same.
    assert subscribe(client).status_code == 200
    assert len(mail.outbox) == 1


def test_bad_links_are_refused_with_4xx(client: Client, db: None) -> None:
    assert client.get("/status/subscribe/confirm/nonsense/").status_code == 404
    assert client.post("/status/subscribe/confirm/nonsense/").status_code == 404
    assert client.post("/status/subscribe/unsubscribe/nonsense/").status_code == 404


def test_unsubscribe_deletes_the_address(client: Client, operator: User) -> None:
    subscriber = confirmed_subscriber(client)
    actions.open_incident(operator, title="API errors", impact="major", components=["api"], body="500s.")
    notice = mail.outbox[-1]
    assert "API errors" in notice.subject
    unsubscribe = link(notice, "unsubscribe")
    assert client.get(unsubscribe).status_code == 200
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()
    assert client.post(unsubscribe).status_code == 200
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    assert client.post(unsubscribe).status_code == 404


def test_unconfirmed_subscriptions_are_deleted_after_7_days(client: Client, db: None) -> None:
    subscribe(client)
    assert actions.purge_unconfirmed(timezone.now() + timedelta(days=6)) == 0
    assert actions.purge_unconfirmed(timezone.now() + timedelta(days=8)) == 1
    assert not Subscriber.objects.exists()


def test_the_spam_traps_and_the_limits(client: Client, db: None, settings: Any) -> None:
    assert subscribe(client, website="http://spam.example").status_code == 400
    assert client.post("/status/subscribe/", {"email": ADDRESS, formguard.TOKEN_FIELD: token(0)}).status_code == 400
    assert subscribe(client, "not an address").status_code == 400
    assert subscribe(client, "a@example.jp, b@example.jp").status_code == 400
    assert not Subscriber.objects.exists() and not mail.outbox
    # Per address: at most 3 confirmation mails a day, whoever asks.
    settings.STATUS_SUBSCRIPTIONS_PER_HOUR = 100
    for _n in range(5):
        assert subscribe(Client(), "victim@example.jp").status_code == 200
    assert len(mail.outbox) == actions.CONFIRMATIONS_PER_ADDRESS
    # Per client: STATUS_SUBSCRIPTIONS_PER_HOUR.
    settings.STATUS_SUBSCRIPTIONS_PER_HOUR = 1
    other = Client(REMOTE_ADDR="192.0.2.50")
    assert subscribe(other, "one@example.jp").status_code == 200
    assert subscribe(other, "two@example.jp").status_code == 429


def test_notices_are_in_the_subscribers_language(client: Client, operator: User) -> None:
    confirmed_subscriber(client, "ja@example.jp", "ja")
    assert "購読" in mail.outbox[-1].body  # the confirmation mail
    actions.open_incident(operator, title="カードの遅延", impact="minor", components=["lessons"], body="調査中です。")
    notice = mail.outbox[-1]
    assert notice.to == ["ja@example.jp"]
    assert notice.subject.endswith("障害：カードの遅延")
    assert "影響を受けるコンポーネント" in notice.body and "調査中です。" in notice.body
    assert "購読を解除" in notice.body


def test_a_title_with_line_breaks_makes_a_one_line_subject(client: Client, operator: User) -> None:
    confirmed_subscriber(client, "en@example.org", "en")
    title = "Slow uploads\r\nBcc: victim@example.org"
    actions.open_incident(operator, title=title, impact="minor", components=["files"], body="Looking into it.")
    notice = mail.outbox[-1]
    assert "\n" not in notice.subject and "\r" not in notice.subject
    assert notice.subject.endswith("Slow uploads Bcc: victim@example.org")
    assert "victim@example.org" not in notice.message().get_all("Bcc", [])
    assert notice.recipients() == ["en@example.org"]


def test_drafts_are_not_sent(client: Client, operator: User, settings: Any) -> None:
    from tests.status.test_incidents import probes

    confirmed_subscriber(client)
    sent = len(mail.outbox)
    settings.STATUS_INCIDENT_AFTER_MINUTES = 5
    probes("api", 6, ok=False)
    draft = actions.open_automatic_drafts()
    assert draft is not None
    actions.post_update(operator, draft.pk, state="identified", body="x")
    assert len(mail.outbox) == sent
    actions.publish_draft(operator, draft.pk)
    assert len(mail.outbox) == sent + 1


# --- Webhooks --------------------------------------------------------------------------------------


def test_a_webhook_must_be_https_on_a_declared_host(operator: User, settings: Any) -> None:
    for url in ("http://hooks.example/x", "https://localhost/x", "https://10.0.0.1/x", "https://u:p@hooks.example/"):
        with pytest.raises(ActionError):
            actions.add_webhook(operator, url)
    with pytest.raises(ActionError, match="not a declared host"):
        actions.add_webhook(operator, "https://hooks.example/x")
    settings.CLASSNOTE_OPERATOR_HOSTS = _hosts.parse_hosts(["hooks.example"], "OPERATOR_HOSTS")
    added = actions.add_webhook(operator, "https://hooks.example/x")
    assert len(added.secret) == 64 and added.subscriber.confirmed_at is not None


def test_deliveries_are_signed(operator: User, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret"
    hook = Subscriber.objects.create(
        kind="webhook",
        address="https://hooks.example/x",
        token_hash="a" * 64,
        secret=secret,
        confirmed_at=timezone.now(),
    )
    sent: list[Any] = []

    class Answer:
        status = 204

        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *args: Any) -> None:
            return None

    def fake_open(request: Any, timeout: float) -> Answer:
        sent.append((request, timeout))
        return Answer()

    monkeypatch.setattr(notify._opener, "open", fake_open)
    previous = egress.set_policy(egress.Policy.of(["hooks.example"]))
    try:
        actions.open_incident(operator, title="API errors", impact="major", components=["api"], body="500s.")
    finally:
        egress.set_policy(previous)
    [(request, timeout)] = sent
    assert timeout == 10
    body = request.data
    timestamp = request.get_header("X-classnote-timestamp")
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert request.get_header("X-classnote-signature") == f"sha256={expected}"
    data = json.loads(body)
    assert data["event"] == "incident.published"
    assert data["incident"]["title"] == "API errors" and data["incident"]["components"] == ["api"]
    assert "Operator" not in body.decode() and "created_by" not in body.decode()  # public data only
    hook.refresh_from_db()
    assert hook.failures == 0 and hook.last_notified_at is not None


def test_the_egress_guard_refuses_an_undeclared_host(operator: User) -> None:
    hook = Subscriber.objects.create(
        kind="webhook",
        address="https://not-declared.example/x",
        token_hash="b" * 64,
        secret="s",
        confirmed_at=timezone.now(),
    )
    assert egress.active()
    with pytest.raises(egress.EgressRefused):
        notify.send_webhook(hook, {"event": "incident.published"})
    actions.open_incident(operator, title="t", impact="minor", components=["api"], body="b")
    hook.refresh_from_db()
    assert hook.failures == 1 and hook.last_notified_at is None


def test_operators_set_up_webhooks_on_their_page(client: Client, operator: User, settings: Any) -> None:
    settings.CLASSNOTE_OPERATOR_HOSTS = _hosts.parse_hosts(["hooks.example"], "OPERATOR_HOSTS")
    login_as(client, operator)
    assert client.post("/operator/status/subscribers/", {"url": "https://elsewhere.example/"}).status_code == 400
    response = client.post("/operator/status/subscribers/", {"url": "https://hooks.example/in"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    hook = Subscriber.objects.get(kind="webhook")
    assert hook.secret in response.content.decode()
    assert hook.secret not in client.get("/operator/status/subscribers/").content.decode()
    assert client.post(f"/operator/status/subscribers/{hook.pk}/remove/").status_code == 302
    assert not Subscriber.objects.exists()
