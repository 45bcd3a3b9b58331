"""Session lifetime per role: an absolute limit and an idle limit (settings.SESSION_LIFETIMES).

Shared tablets in primary schools make automatic logout matter: a pupil's
session ends after a school day at most and after a break of inactivity.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

LOGIN_AT = "classnote_login_at"
SEEN_AT = "classnote_seen_at"
# The session is written at most this often just to record activity.
SEEN_RESOLUTION = 60


@receiver(user_logged_in)
def start_session(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    absolute, _idle = settings.SESSION_LIFETIMES[user.session_kind()]
    now = int(time.time())
    request.session.set_expiry(absolute)
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def session_expired(request: HttpRequest, now: int) -> bool:
    absolute, idle = settings.SESSION_LIFETIMES[request.user.session_kind()]  # type: ignore[union-attr]
    login_at = request.session.get(LOGIN_AT, 0)
    seen_at = request.session.get(SEEN_AT, 0)
    return now - login_at > absolute or now - seen_at > idle


def touch(request: HttpRequest, now: int) -> None:
    if now - request.session.get(SEEN_AT, 0) >= SEEN_RESOLUTION:
        request.session[SEEN_AT] = now
