"""Server-Sent Events. An async view held open per client; it does no database work while it
waits, only at connect (who may listen, what was missed) and to fill a rare gap in sequence."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from classnote.accounts import sessions
from classnote.accounts.models import User
from classnote.realtime import channels
from classnote.realtime.bus import get_bus
from classnote.realtime.events import current_seq
from classnote.realtime.messages import Message
from classnote.realtime.store import in_thread, load_since
from classnote.tenancy.access import AUTHENTICATED, audience

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 25
RECHECK_SECONDS = 300  # how often a long-lived stream re-checks that its session is still valid


def _format(message: Message, user_id: int) -> str:
    body = json.dumps(message.payload_for(user_id), ensure_ascii=False, separators=(",", ":"))
    return f"id: {message.seq}\nevent: {message.kind}\ndata: {body}\n\n"


def _parse_last_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("since")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 0 <= value < 2**62 else None


@audience(AUTHENTICATED)
async def stream(request: HttpRequest, kind: str, object_id: int) -> HttpResponse | StreamingHttpResponse:
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"detail": _("Please log in.")}, status=401)
    listener = await in_thread(channels.resolve)(user, kind, object_id)
    if listener is None:
        return JsonResponse({"detail": _("Not found.")}, status=404)
    last_id = _parse_last_id(request)
    user_id, role = user.pk, listener.role
    session_key = request.session.session_key

    async def events() -> AsyncIterator[str]:
        bus = get_bus()
        queue = bus.subscribe(listener.channel)
        try:
            await bus.ready()
            yield "retry: 3000\n\n"
            last_sent = last_id
            if last_sent is None:
                last_sent = await in_thread(current_seq)(listener.channel)
            for message in await in_thread(load_since)(listener.channel, last_sent):
                if message.visible_to(user_id, role):
                    yield _format(message, user_id)
                last_sent = message.seq
            bus.replayed(listener.channel, last_sent)  # from here on the bus (or its catch-up) brings the rest
            loop = asyncio.get_running_loop()
            recheck_at = loop.time() + RECHECK_SECONDS
            while True:
                try:
                    incoming = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": ping\n\n"
                    if loop.time() > recheck_at:
                        recheck_at = loop.time() + RECHECK_SECONDS
                        if not await _session_alive(session_key, user_id):
                            return
                    continue
                if incoming is None:
                    return  # this client fell behind; it reconnects and replays
                message = incoming
                if message.seq <= last_sent:
                    continue
                if message.seq > last_sent + 1:
                    # Published out of order by two processes: take the missing ones from the store.
                    for missed in await in_thread(load_since)(listener.channel, last_sent, message.seq):
                        if missed.visible_to(user_id, role):
                            yield _format(missed, user_id)
                if message.visible_to(user_id, role):
                    yield _format(message, user_id)
                last_sent = message.seq
        finally:
            bus.unsubscribe(listener.channel, queue)

    response = StreamingHttpResponse(events(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


@in_thread
def _session_alive(session_key: str | None, user_id: int) -> bool:
    """The stream's session still stands (not logged out, not past its lifetime); an open lesson
    screen counts as activity for the idle limit."""
    if session_key is None:
        return False
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")(session_key)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or str(store.get(SESSION_KEY)) != str(user_id):
        return False
    if not constant_time_compare(store.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return False
    absolute, _idle = settings.SESSION_LIFETIMES[user.session_kind()]
    now = int(time.time())
    if now - store.get(sessions.LOGIN_AT, 0) > absolute:
        return False
    store[sessions.SEEN_AT] = now
    store.save()
    return True


# Route walkers in the tests call every page; an open stream never ends, so they skip it and the
# live tests (tests/live/) exercise it against a real server instead.
stream.classnote_streaming = True  # type: ignore[attr-defined]
