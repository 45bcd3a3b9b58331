"""Every write of the status page's posts and subscriptions. Operator actions take the acting user,
check it (``status.access``), run in one transaction and are recorded in the audit log with ids and
codes, never the text; notifications to subscribers go out after the commit (``status.notify``).

Incidents: open (published at once), post a timeline update, resolve; a draft (opened automatically
by ``open_automatic_drafts`` after STATUS_INCIDENT_AFTER_MINUTES of failed probes) is confirmed
(published) or discarded by a person. Maintenance: announced in advance, changed, cancelled.
Subscribers: e-mail with double opt-in (the public form), webhooks (set up by operators)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError, Refused
from classnote.core import formguard
from classnote.privacy import egress
from classnote.privacy import hosts as _hosts
from classnote.status import access, notify
from classnote.status.components import COMPONENTS
from classnote.status.models import (
    Impact,
    IncidentState,
    Maintenance,
    ProbeResult,
    StatusIncident,
    StatusUpdate,
    Subscriber,
)

TITLE_MAX = 200
BODY_MAX = 5000
# Confirmation mails to one address a day, whoever asks: the address is typed by the requester.
CONFIRMATIONS_PER_ADDRESS = 3
CONFIRMATION_WINDOW_SECONDS = 24 * 3600
UNCONFIRMED_DAYS = 7


# --- Checks ----------------------------------------------------------------------------------------


def _require_operator(actor: User) -> None:
    if not access.may_manage(actor):
        raise Refused(_("Only the operator manages the status page."))


def _components(values: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(values))
    if not chosen:
        raise ActionError(_("Choose at least one affected component."))
    unknown = [key for key in chosen if key not in COMPONENTS]
    if unknown:
        raise ActionError(_("Choose components from the list."))
    return [key for key in COMPONENTS if key in chosen]  # in the page's order


def _text(value: str, *, required: bool, limit: int, what: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ActionError(_("Enter the %(what)s.") % {"what": what})
    if len(value) > limit:
        raise ActionError(_("The %(what)s is too long.") % {"what": what})
    return value


def _impact(value: str) -> str:
    if value not in Impact.values:
        raise ActionError(_("Choose the impact from the list."))
    return value


def _state(value: str) -> str:
    if value not in IncidentState.values:
        raise ActionError(_("Choose the state from the list."))
    return value


def _open_incident(actor: User, incident_id: object) -> StatusIncident:
    found = access.get_incident_for(actor, incident_id)
    incident = StatusIncident.objects.select_for_update().get(pk=found.pk)
    if incident.discarded_at is not None:
        raise ActionError(_("This draft was discarded."))
    if incident.resolved_at is not None:
        raise ActionError(_("This incident is resolved already."))
    return incident


# --- Incidents -------------------------------------------------------------------------------------


def open_incident(
    actor: User,
    *,
    title: str,
    impact: str,
    components: Iterable[str],
    body: str,
    state: str = IncidentState.INVESTIGATING,
) -> StatusIncident:
    """Open an incident and publish it with its first update."""
    _require_operator(actor)
    title = _text(title, required=True, limit=TITLE_MAX, what=_("title"))
    body = _text(body, required=True, limit=BODY_MAX, what=_("update"))
    chosen = _components(components)
    impact, state = _impact(impact), _state(state)
    if state == IncidentState.RESOLVED:
        raise ActionError(_("A new incident cannot be resolved already."))
    now = timezone.now()
    with transaction.atomic():
        incident = StatusIncident.objects.create(
            title=title,
            impact=impact,
            components=chosen,
            state=state,
            started_at=now,
            published_at=now,
            created_at=now,
            created_by=actor,
        )
        StatusUpdate.objects.create(incident=incident, state=state, body=body, at=now, author=actor)
        record(actor, "status.incident_opened", target=incident, impact=impact, components=chosen)
        notify.on_commit(notify.INCIDENT_PUBLISHED, incident)
    return incident


def post_update(actor: User, incident_id: object, *, state: str, body: str) -> StatusUpdate:
    """A timeline update; the state RESOLVED resolves the incident."""
    _require_operator(actor)
    state = _state(state)
    body = _text(body, required=True, limit=BODY_MAX, what=_("update"))
    now = timezone.now()
    with transaction.atomic():
        incident = _open_incident(actor, incident_id)
        update = StatusUpdate.objects.create(incident=incident, state=state, body=body, at=now, author=actor)
        incident.state = state
        if state == IncidentState.RESOLVED:
            incident.resolved_at = now
        incident.save(update_fields=["state", "resolved_at"])
        resolved = state == IncidentState.RESOLVED
        record(
            actor,
            "status.incident_resolved" if resolved else "status.incident_updated",
            target=incident,
            state=state,
            update=update.pk,
        )
        if not incident.is_draft:
            notify.on_commit(notify.INCIDENT_RESOLVED if resolved else notify.INCIDENT_UPDATED, incident)
    return update


def resolve_incident(actor: User, incident_id: object, *, body: str = "") -> StatusIncident:
    body = body.strip() or _("This incident has been resolved.")
    update = post_update(actor, incident_id, state=IncidentState.RESOLVED, body=body)
    return update.incident


def publish_draft(
    actor: User,
    incident_id: object,
    *,
    title: str | None = None,
    impact: str | None = None,
    components: Iterable[str] | None = None,
) -> StatusIncident:
    """A person confirms a draft (automatic or not): from now on it is public."""
    _require_operator(actor)
    with transaction.atomic():
        incident = _open_incident(actor, incident_id)
        if not incident.is_draft:
            raise ActionError(_("This incident is public already."))
        if title is not None:
            incident.title = _text(title, required=True, limit=TITLE_MAX, what=_("title"))
        if impact is not None:
            incident.impact = _impact(impact)
        if components is not None:
            incident.components = _components(components)
        incident.published_at = timezone.now()
        incident.created_by = incident.created_by or actor
        incident.save()
        record(actor, "status.draft_confirmed", target=incident, automatic=incident.automatic)
        notify.on_commit(notify.INCIDENT_PUBLISHED, incident)
    return incident


def discard_draft(actor: User, incident_id: object) -> StatusIncident:
    """Throw a draft away (a false alarm): it is kept, never public, so the same outage does not
    open another draft."""
    _require_operator(actor)
    with transaction.atomic():
        incident = _open_incident(actor, incident_id)
        if not incident.is_draft:
            raise ActionError(_("A public incident cannot be discarded; resolve it instead."))
        incident.discarded_at = timezone.now()
        incident.save(update_fields=["discarded_at"])
        record(actor, "status.draft_discarded", target=incident, automatic=incident.automatic)
    return incident


# --- Automatic drafts ------------------------------------------------------------------------------


def failing_since(component: str, now: datetime) -> datetime | None:
    """When the current run of failed probes of COMPONENT began, or None when its last probe
    succeeded (or it has none). A run counts only while probes keep coming: when the last one is
    older than the threshold, the record has a gap (unknown, not down)."""
    last = ProbeResult.objects.filter(component=component, at__lte=now).order_by("-at", "-id").first()
    if last is None or last.ok:
        return None
    if now - last.at > timedelta(minutes=settings.STATUS_INCIDENT_AFTER_MINUTES):
        return None
    last_ok = (
        ProbeResult.objects.filter(component=component, ok=True, at__lte=now)
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    failures = ProbeResult.objects.filter(component=component, ok=False, at__lte=now)
    if last_ok is not None:
        failures = failures.filter(at__gt=last_ok)
    return failures.order_by("at", "id").values_list("at", flat=True).first()


def _covered(component: str, since: datetime) -> bool:
    """An incident already speaks for this outage: an open one naming the component, or any one
    (a discarded draft, a resolved incident) about it opened since the failures began."""
    for incident in StatusIncident.objects.filter(resolved_at=None, discarded_at=None).only("components"):
        if component in incident.components:
            return True
    for incident in StatusIncident.objects.filter(created_at__gte=since).only("components"):
        if component in incident.components:
            return True
    return False


def open_automatic_drafts(now: datetime | None = None) -> StatusIncident | None:
    """The periodic check: one draft for the components whose probes have failed continuously for
    STATUS_INCIDENT_AFTER_MINUTES, unless an incident already covers them. Never public."""
    now = now or timezone.now()
    threshold = now - timedelta(minutes=settings.STATUS_INCIDENT_AFTER_MINUTES)
    down: dict[str, datetime] = {}
    for key in COMPONENTS:
        since = failing_since(key, now)
        if since is not None and since <= threshold and not _covered(key, since):
            down[key] = since
    if not down:
        return None
    started = min(down.values())
    with translation.override(settings.LANGUAGE_CODE):
        names = ", ".join(str(COMPONENTS[key].name) for key in down)
        title = _("%(components)s: failures detected") % {"components": names}
        body = _("Our automatic checks of %(components)s have failed since %(time)s UTC. We are investigating.") % {
            "components": names,
            "time": started.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        }
    with transaction.atomic():
        incident = StatusIncident.objects.create(
            title=title[:TITLE_MAX],
            impact=Impact.MAJOR,
            components=list(down),
            automatic=True,
            started_at=started,
            created_at=now,
        )
        StatusUpdate.objects.create(incident=incident, state=IncidentState.INVESTIGATING, body=body, at=now)
        record(None, "status.draft_opened", target=incident, components=list(down))
    return incident


# --- Maintenance -----------------------------------------------------------------------------------


def _window(starts_at: datetime, ends_at: datetime, *, must_start_later: bool) -> None:
    if must_start_later and starts_at <= timezone.now():
        raise ActionError(_("Maintenance is announced in advance: the start must be in the future."))
    if ends_at <= starts_at:
        raise ActionError(_("The maintenance must end after it starts."))
    if ends_at - starts_at > timedelta(days=7):
        raise ActionError(_("A maintenance window cannot be longer than 7 days."))


def announce_maintenance(
    actor: User, *, title: str, body: str = "", components: Iterable[str], starts_at: datetime, ends_at: datetime
) -> Maintenance:
    _require_operator(actor)
    title = _text(title, required=True, limit=TITLE_MAX, what=_("title"))
    body = _text(body, required=False, limit=BODY_MAX, what=_("description"))
    chosen = _components(components)
    _window(starts_at, ends_at, must_start_later=True)
    with transaction.atomic():
        window = Maintenance.objects.create(
            title=title, body=body, components=chosen, starts_at=starts_at, ends_at=ends_at, created_by=actor
        )
        record(actor, "status.maintenance_announced", target=window, components=chosen)
        notify.on_commit(notify.MAINTENANCE_ANNOUNCED, window)
    return window


def change_maintenance(
    actor: User,
    maintenance_id: object,
    *,
    title: str,
    body: str = "",
    components: Iterable[str],
    starts_at: datetime,
    ends_at: datetime,
) -> Maintenance:
    _require_operator(actor)
    title = _text(title, required=True, limit=TITLE_MAX, what=_("title"))
    body = _text(body, required=False, limit=BODY_MAX, what=_("description"))
    chosen = _components(components)
    with transaction.atomic():
        found = access.get_maintenance_for(actor, maintenance_id)
        window = Maintenance.objects.select_for_update().get(pk=found.pk)
        if window.cancelled_at is not None:
            raise ActionError(_("This maintenance was cancelled."))
        if window.ends_at <= timezone.now():
            raise ActionError(_("This maintenance is over."))
        _window(starts_at, ends_at, must_start_later=starts_at != window.starts_at)
        values: dict[str, Any] = {
            "title": title,
            "body": body,
            "components": chosen,
            "starts_at": starts_at,
            "ends_at": ends_at,
        }
        changed = sorted(name for name, value in values.items() if getattr(window, name) != value)
        if not changed:
            return window
        for name in changed:
            setattr(window, name, values[name])
        window.save(update_fields=changed)
        record(actor, "status.maintenance_changed", target=window, fields=changed)
    return window


def cancel_maintenance(actor: User, maintenance_id: object) -> Maintenance:
    _require_operator(actor)
    with transaction.atomic():
        found = access.get_maintenance_for(actor, maintenance_id)
        window = Maintenance.objects.select_for_update().get(pk=found.pk)
        if window.cancelled_at is not None:
            raise ActionError(_("This maintenance was cancelled already."))
        if window.ends_at <= timezone.now():
            raise ActionError(_("This maintenance is over."))
        window.cancelled_at = timezone.now()
        window.save(update_fields=["cancelled_at"])
        record(actor, "status.maintenance_cancelled", target=window)
    return window


# --- Subscribers -----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def _language(value: str) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    return value if value in codes else settings.LANGUAGE_CODE


def subscribe_email(address: str, language: str, base_url: str) -> None:
    """Ask for an e-mail subscription: a confirmation mail with a link (double opt-in). Says nothing
    about whether the address is subscribed already: the form answers the same either way."""
    address = address.strip()
    with transaction.atomic():
        existing = (
            Subscriber.objects.select_for_update().filter(kind=Subscriber.Kind.EMAIL, address__iexact=address).first()
        )
        if existing is not None and existing.confirmed_at is not None:
            return  # subscribed already: nothing to confirm, nothing to mail
        if not formguard.take(
            "status", "confirm", address.lower(), CONFIRMATIONS_PER_ADDRESS, CONFIRMATION_WINDOW_SECONDS
        ):
            return  # this address has had its share of confirmation mails today
        token, token_hash = _new_token()
        if existing is None:
            subscriber = Subscriber.objects.create(
                kind=Subscriber.Kind.EMAIL, address=address, language=_language(language), token_hash=token_hash
            )
        else:
            subscriber = existing
            subscriber.token_hash = token_hash
            subscriber.language = _language(language)
            subscriber.created_at = timezone.now()
            subscriber.save(update_fields=["token_hash", "language", "created_at"])
    notify.send_confirmation(subscriber, token, base_url)


def find_subscription(token: str) -> Subscriber | None:
    if not token or len(token) > 100:
        return None
    return Subscriber.objects.filter(kind=Subscriber.Kind.EMAIL, token_hash=hash_token(token)).first()


def confirm_subscription(token: str) -> Subscriber:
    with transaction.atomic():
        subscriber = find_subscription(token)
        if subscriber is None or _unconfirmed_expired(subscriber):
            raise ActionError(_("This link is not valid (any more). Please subscribe again."))
        if subscriber.confirmed_at is None:
            subscriber.confirmed_at = timezone.now()
            subscriber.save(update_fields=["confirmed_at"])
    return subscriber


def _unconfirmed_expired(subscriber: Subscriber) -> bool:
    return subscriber.confirmed_at is None and subscriber.created_at < timezone.now() - timedelta(days=UNCONFIRMED_DAYS)


def unsubscribe(key: str) -> None:
    """End a subscription (the key of its unsubscribe links, ``notify.unsubscribe_key``): the row,
    and the address with it, is deleted."""
    with transaction.atomic():
        subscriber = notify.subscriber_of_key(key)
        if subscriber is None:
            raise ActionError(_("This link is not valid (any more). You are not subscribed."))
        subscriber.delete()


def purge_unconfirmed(now: datetime | None = None) -> int:
    """Delete e-mail subscriptions not confirmed within 7 days (the retention of the inventory)."""
    cutoff = (now or timezone.now()) - timedelta(days=UNCONFIRMED_DAYS)
    deleted, _rows = Subscriber.objects.filter(
        kind=Subscriber.Kind.EMAIL, confirmed_at=None, created_at__lt=cutoff
    ).delete()
    return deleted


@dataclass(frozen=True)
class NewWebhook:
    subscriber: Subscriber
    secret: str  # shown once to the operator who set it up; deliveries are signed with it


def check_webhook_url(url: str) -> str:
    """An https URL whose host the egress guard allows (a declared host: OPERATOR_HOSTS or a
    sub-processor), never this machine or a private address."""
    url = (url or "").strip()
    if len(url) > 500:
        raise ActionError(_("The webhook URL is too long."))
    parts = urlsplit(url)
    host = _hosts.normalise(parts.hostname or "")
    if parts.scheme != "https" or not host or parts.username or parts.password:
        raise ActionError(_("Enter an https:// URL without a user name or password."))
    if _hosts.is_local(host) or _is_private(host):
        raise ActionError(_("A webhook cannot point at this machine or a private network."))
    if not egress.Policy.of(egress.declared_hosts()).allows(host):
        raise ActionError(
            _("%(host)s is not a declared host: add it to OPERATOR_HOSTS first (see the configuration guide).")
            % {"host": host}
        )
    return url


def _is_private(host: str) -> bool:
    address = _hosts.ip_of(host)
    return address is not None and (address.is_private or address.is_link_local or address.is_reserved)


def add_webhook(actor: User, url: str, language: str = "en") -> NewWebhook:
    _require_operator(actor)
    url = check_webhook_url(url)
    _token, token_hash = _new_token()
    secret = secrets.token_hex(32)
    with transaction.atomic():
        subscriber = Subscriber.objects.create(
            kind=Subscriber.Kind.WEBHOOK,
            address=url,
            language=_language(language),
            token_hash=token_hash,
            secret=secret,
            confirmed_at=timezone.now(),
        )
        record(actor, "status.webhook_added", target=subscriber)
    return NewWebhook(subscriber, secret)


def remove_webhook(actor: User, subscriber_id: object) -> None:
    _require_operator(actor)
    with transaction.atomic():
        subscriber = access.get_webhook_for(actor, subscriber_id)
        record(actor, "status.webhook_removed", target=subscriber)
        subscriber.delete()
