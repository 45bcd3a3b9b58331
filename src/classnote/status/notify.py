"""Notifications to the status page's subscribers: e-mail (in the subscriber's language) and signed
webhook deliveries when an incident is published, updated or resolved and when maintenance is
announced. Sent by huey tasks after the action's commit; each delivery has a bounded timeout, and a
failure is counted on the subscriber (``failures``; reset by the next success).

What goes out is public data only: the post as the status page shows it (title, impact, state,
components, times, the updates' text), never who posted it. Logs name subscriber ids and status
codes, never an address or a URL.

Webhooks: ``POST`` of a JSON body with the headers ``X-Classnote-Event``, ``X-Classnote-Timestamp``
and ``X-Classnote-Signature: sha256=<hex>``, the HMAC-SHA256 of ``<timestamp>.<body>`` with the
webhook's secret; the connection goes through the egress guard (declared hosts only) and redirects
are not followed."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from classnote.privacy import egress
from classnote.status.components import COMPONENTS
from classnote.status.models import Maintenance, StatusIncident, Subscriber

logger = logging.getLogger("classnote.status.notify")

INCIDENT_PUBLISHED = "incident.published"
INCIDENT_UPDATED = "incident.updated"
INCIDENT_RESOLVED = "incident.resolved"
MAINTENANCE_ANNOUNCED = "maintenance.announced"
EVENTS = (INCIDENT_PUBLISHED, INCIDENT_UPDATED, INCIDENT_RESOLVED, MAINTENANCE_ANNOUNCED)
SIGNATURE_HEADER = "X-Classnote-Signature"
TIMESTAMP_HEADER = "X-Classnote-Timestamp"
EVENT_HEADER = "X-Classnote-Event"
_UNSUBSCRIBE_SALT = "classnote.status.unsubscribe"


def site_url() -> str:
    """The service's public address for links in mails sent by jobs (STATUS_SITE_URL, else the
    first name of ALLOWED_HOSTS): the subscription pages are the app's."""
    if settings.STATUS_SITE_URL:
        return str(settings.STATUS_SITE_URL)
    hosts = [host for host in settings.ALLOWED_HOSTS if host and "*" not in host and not host.startswith(".")]
    return f"https://{hosts[0]}" if hosts else "http://localhost:8000"


def page_url(base_url: str | None = None) -> str:
    """The public status page: STATUS_PUBLIC_URL when the operator names it (the page's own setting,
    possibly on another origin), else /status/ of the service."""
    named = str(getattr(settings, "STATUS_PUBLIC_URL", "") or "")
    return named or f"{base_url or site_url()}/status/"


# --- Unsubscribe links -----------------------------------------------------------------------------


def unsubscribe_key(subscriber: Subscriber) -> str:
    """The key in a subscriber's unsubscribe links: signed (not stored), bound to this subscription."""
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign(f"{subscriber.pk}.{subscriber.token_hash[:16]}")


def subscriber_of_key(key: str) -> Subscriber | None:
    try:
        value = signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign(key or "")
        pk, prefix = value.split(".", 1)
        subscriber = Subscriber.objects.filter(pk=int(pk)).first()
    except (signing.BadSignature, ValueError, OverflowError):
        return None
    if subscriber is None or not hmac.compare_digest(subscriber.token_hash[:16], prefix):
        return None
    return subscriber


def unsubscribe_url(subscriber: Subscriber, base_url: str | None = None) -> str:
    return (base_url or site_url()) + reverse("status_unsubscribe", args=[unsubscribe_key(subscriber)])


# --- What is sent ----------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def payload(event: str, post: StatusIncident | Maintenance) -> dict[str, Any]:
    """The public data of the post (the same the status page shows)."""
    data: dict[str, Any] = {"event": event, "sent_at": _iso(timezone.now()), "page": page_url()}
    if isinstance(post, StatusIncident):
        data["incident"] = {
            "id": post.pk,
            "title": post.title,
            "impact": post.impact,
            "state": post.state,
            "components": list(post.components),
            "started_at": _iso(post.started_at),
            "resolved_at": _iso(post.resolved_at),
            "updates": [
                {"at": _iso(update.at), "state": update.state, "body": update.body}
                for update in post.updates.order_by("-at", "-id")
            ],
        }
    else:
        data["maintenance"] = {
            "id": post.pk,
            "title": post.title,
            "body": post.body,
            "components": list(post.components),
            "starts_at": _iso(post.starts_at),
            "ends_at": _iso(post.ends_at),
        }
    return data


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _component_names(keys: list[str]) -> str:
    return ", ".join(str(COMPONENTS[key].name) for key in keys if key in COMPONENTS)


def notice_mail(subscriber: Subscriber, event: str, post: StatusIncident | Maintenance) -> EmailMessage:
    with translation.override(subscriber.language):
        subjects = {
            INCIDENT_PUBLISHED: _("Incident: %(title)s"),
            INCIDENT_UPDATED: _("Update: %(title)s"),
            INCIDENT_RESOLVED: _("Resolved: %(title)s"),
            MAINTENANCE_ANNOUNCED: _("Maintenance: %(title)s"),
        }
        # One line whatever the title holds: a line break in a header would be refused (or, in a
        # looser library, start a header of its own).
        title = " ".join(post.title.split())
        subject = f"[{settings.CLASSNOTE_SITE_NAME}] " + subjects[event] % {"title": title}
        context: dict[str, Any] = {
            "event": event,
            "post": post,
            "components": _component_names(list(post.components)),
            "page_url": page_url(),
            "unsubscribe_url": unsubscribe_url(subscriber),
            "site_name": settings.CLASSNOTE_SITE_NAME,
        }
        if isinstance(post, StatusIncident):
            context["incident"] = post
            context["latest"] = post.updates.order_by("-at", "-id").first()
        else:
            context["maintenance"] = post
        body = render_to_string("status/subscribe/mail/notice.txt", context)
    return EmailMessage(subject=subject, body=body, to=[subscriber.address])


def confirmation_mail(subscriber: Subscriber, token: str, base_url: str) -> EmailMessage:
    with translation.override(subscriber.language):
        subject = _("Confirm your subscription to the %(site)s status page") % {"site": settings.CLASSNOTE_SITE_NAME}
        body = render_to_string(
            "status/subscribe/mail/confirm.txt",
            {
                "confirm_url": base_url + reverse("status_subscribe_confirm", args=[token]),
                "page_url": page_url(base_url),
                "site_name": settings.CLASSNOTE_SITE_NAME,
            },
        )
    return EmailMessage(subject=subject, body=body, to=[subscriber.address])


def send_confirmation(subscriber: Subscriber, token: str, base_url: str) -> None:
    try:
        confirmation_mail(subscriber, token, base_url).send()
    except Exception:  # noqa: BLE001 - the subscriber can ask again; the address is not logged
        logger.exception("the confirmation mail of status subscriber #%s could not be sent", subscriber.pk)


# --- Sending ---------------------------------------------------------------------------------------


def on_commit(event: str, post: StatusIncident | Maintenance) -> None:
    """Tell every confirmed subscriber once the caller's transaction has committed."""
    kind = "incident" if isinstance(post, StatusIncident) else "maintenance"
    post_id = post.pk
    transaction.on_commit(lambda: fan_out(event, kind, post_id))


def _post(kind: str, post_id: int) -> StatusIncident | Maintenance | None:
    if kind == "incident":
        # Drafts are never sent: a draft discarded meanwhile, or a bad id, sends nothing.
        return StatusIncident.objects.filter(pk=post_id, published_at__isnull=False, discarded_at=None).first()
    return Maintenance.objects.filter(pk=post_id, cancelled_at=None).first()


@db_task()
def fan_out(event: str, kind: str, post_id: int) -> None:
    if event not in EVENTS or _post(kind, post_id) is None:
        return
    for subscriber_id in Subscriber.objects.exclude(confirmed_at=None).values_list("pk", flat=True):
        deliver(subscriber_id, event, kind, post_id)


@db_task()
def deliver(subscriber_id: int, event: str, kind: str, post_id: int) -> bool:
    subscriber = Subscriber.objects.filter(pk=subscriber_id).exclude(confirmed_at=None).first()
    post = _post(kind, post_id)
    if subscriber is None or post is None:
        return False
    try:
        if subscriber.kind == Subscriber.Kind.WEBHOOK:
            ok = send_webhook(subscriber, payload(event, post))
        else:
            notice_mail(subscriber, event, post).send()
            ok = True
    except Exception:  # noqa: BLE001 - counted; the next notification tries again
        ok = False
    if ok:
        Subscriber.objects.filter(pk=subscriber.pk).update(failures=0, last_notified_at=timezone.now())
    else:
        Subscriber.objects.filter(pk=subscriber.pk).update(failures=F("failures") + 1)
        logger.warning("status notification to subscriber #%s failed", subscriber.pk)
    return ok


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer, not a delivery: it counts as failed


_opener = urllib.request.build_opener(_NoRedirect)


def send_webhook(subscriber: Subscriber, data: dict[str, Any]) -> bool:
    """One signed delivery; True when the receiver answered 2xx. Raises EgressRefused for a host
    the egress guard does not allow."""
    url = subscriber.address
    if urlsplit(url).scheme != "https":
        return False
    egress.check(urlsplit(url).hostname or "")  # before any lookup; the guard also watches the socket
    body = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - https only, checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"{settings.CLASSNOTE_SITE_NAME} status webhook",
            EVENT_HEADER: str(data.get("event", "")),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(subscriber.secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.STATUS_WEBHOOK_TIMEOUT) as response:
            return 200 <= int(response.status) < 300
    except egress.EgressRefused:
        raise
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return False
