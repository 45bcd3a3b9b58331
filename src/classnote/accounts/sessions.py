"""Session lifetime per role: an absolute limit and an idle limit (settings.SESSION_LIFETIMES).

Shared tablets in primary schools make automatic logout matter: a pupil's
session ends after a school day at most and after a break of inactivity.

A session opened with a QR login card remembers the card, and ends when the card is revoked or
reprinted (``card_revoked``, checked by the middleware and by open event streams).

Whenever a person's access may have narrowed (deactivation, log out everywhere, a password reset, a
new role or school, deletion, a revoked card, logging out), their open event streams are told at
once (``realtime.events.access_changed``) and re-check their session and channel.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from classnote.accounts.models import LoginCard, User
from classnote.realtime.events import access_changed

LOGIN_AT = "classnote_login_at"
SEEN_AT = "classnote_seen_at"
LOGIN_CARD = "classnote_login_card"  # the id of the QR login card that opened the session
# Saves of these fields may narrow what a person may see: their open streams re-check.
_ACCESS_FIELDS = frozenset({"is_active", "session_epoch", "password", "role", "school", "municipality"})
# The session is written at most this often just to record activity.
SEEN_RESOLUTION = 60


@receiver(user_logged_in)
def start_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    absolute, _idle = settings.SESSION_LIFETIMES[user.session_kind()]
    now = int(time.time())
    request.session.set_expiry(absolute)
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
    card_id = getattr(user, "login_card_id", None)  # set by the login card backend
    if card_id is not None:
        request.session[LOGIN_CARD] = card_id


def _card_key(card_id: object) -> str:
    return f"auth:logincard:{card_id}"


def card_revoked(session: Mapping[str, Any]) -> bool:
    """Whether the session was opened with a login card that has since been revoked (or reprinted).
    Cached like the signed-in user (USER_CACHE_SECONDS); revoking drops the entries at once."""
    card_id = session.get(LOGIN_CARD)
    if card_id is None:
        return False
    active = cache.get(_card_key(card_id)) if settings.USER_CACHE_SECONDS else None
    if active is None:
        active = LoginCard.objects.filter(pk=card_id, revoked_at__isnull=True).exists()
        if settings.USER_CACHE_SECONDS:
            cache.set(_card_key(card_id), active, settings.USER_CACHE_SECONDS)
    return not active


def cards_revoked(user_id: int, card_ids: Iterable[int]) -> None:
    """The cards were revoked in the current transaction: once it commits, the sessions they opened
    end at their next request, and the person's open streams at once."""
    keys = [_card_key(card_id) for card_id in card_ids]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))
        access_changed([user_id])


@receiver(post_save, sender=User)
def _user_saved(sender: Any, instance: User, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    if not created and (update_fields is None or _ACCESS_FIELDS & set(update_fields)):
        access_changed([instance.pk])


@receiver(post_delete, sender=User)
def _user_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    access_changed([instance.pk])


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is not None:
        request.classnote_signed_out = True  # type: ignore[attr-defined]  # Clear-Site-Data (core.middleware)
        # Django flushes the session only after this signal: end it in the store now, so that every
        # stream the notice below wakes finds it gone (a stream re-checking before the flush would
        # otherwise see it standing and follow on until its periodic re-check).
        request.session.delete()
    if user is not None and user.pk is not None:
        access_changed([user.pk])  # the streams of the session just ended close; others re-check and stay


def session_expired(request: HttpRequest, now: int) -> bool:
    absolute, idle = settings.SESSION_LIFETIMES[request.user.session_kind()]  # type: ignore[union-attr]
    login_at = request.session.get(LOGIN_AT, 0)
    seen_at = request.session.get(SEEN_AT, 0)
    return now - login_at > absolute or now - seen_at > idle or card_revoked(request.session)


def touch(request: HttpRequest, now: int) -> None:
    if now - request.session.get(SEEN_AT, 0) >= SEEN_RESOLUTION:
        request.session[SEEN_AT] = now
