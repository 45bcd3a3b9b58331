"""Server-Sent Events. An async view held open per client; it does no database work while it
waits, only at connect (who may listen, what was missed), to fill a rare gap in sequence, to fill in
stored events (a replay) through the channel owner's rules, and to re-check its session and channel:
at once when the person's access changed (a notice on their channel), else every
REALTIME_RECHECK_SECONDS. A stream whose access ended says so (``access.ended``) and ends."""

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
from classnote.core.metrics import STREAMS_OPEN
from classnote.core.refusals import answers_json
from classnote.realtime import capacity, channels
from classnote.realtime.bus import Ticket, get_bus
from classnote.realtime.events import current_seq
from classnote.realtime.messages import ACCESS_CHANGED, Message
from classnote.realtime.store import in_thread, load_since
from classnote.tenancy.access import AUTHENTICATED, audience

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 25
RETRY_AFTER_SECONDS = 30  # a stream refused for capacity: when to try again
ACCESS_ENDED = "event: access.ended\ndata: {}\n\n"  # lesson.js stops and reloads the page
STREAM_CLOSED = "event: stream.closed\ndata: {}\n\n"  # too many streams: lesson.js stops reconnecting


def _format(message: Message, user_id: int) -> str:
    body = json.dumps(message.payload_for(user_id), ensure_ascii=False, separators=(",", ":"))
    return f"id: {message.seq}\nevent: {message.kind}\ndata: {body}\n\n"


def _as_seq(raw: str | None) -> int | None:
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


def _parse_last_id(request: HttpRequest) -> int | None:
    """Where the client's state stands: Last-Event-ID (EventSource's own reconnects) if it is a
    sequence number, else ?since= (the page's first connection), else None (start at the present)."""
    header = _as_seq(request.headers.get("Last-Event-ID"))
    return header if header is not None else _as_seq(request.GET.get("since"))


@answers_json
@audience(AUTHENTICATED)
async def stream(request: HttpRequest, kind: str, object_id: int) -> HttpResponse | StreamingHttpResponse:
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"detail": _("Please log in.")}, status=401)
    if capacity.crowded():
        logger.warning("realtime: near the open-file limit; a new stream is refused")
        refused = JsonResponse({"detail": _("The server is busy. Please try again shortly.")}, status=503)
        refused["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return refused
    listener = await in_thread(channels.resolve)(user, kind, object_id)
    if listener is None:
        return JsonResponse({"detail": _("Not found.")}, status=404)
    last_id = _parse_last_id(request)
    user_id, role = user.pk, listener.role
    session_key = request.session.session_key
    ticket = Ticket.of(user_id, session_key)

    @in_thread
    def still_allowed() -> bool:
        """The session stands and the user may still listen here, in the same role."""
        reader = _session_user(session_key, user_id)
        return reader is not None and channels.resolve(reader, kind, object_id) == listener

    @in_thread
    def as_today(messages: list[Message]) -> list[Message]:
        """Stored messages as the user may see them now (the owning app's replay), visible ones only."""
        shown = [m for m in messages if m.visible_to(user_id, role)]
        return channels.replay(user, kind, listener, shown) if shown else []

    async def events() -> AsyncIterator[str]:
        bus = get_bus()
        queue = bus.subscribe(listener.channel, person=user_id, stream=ticket.id)
        STREAMS_OPEN.inc()
        try:
            await bus.ready()  # first: a close notice naming this stream can reach this process
            await bus.admit(ticket)
            yield "retry: 3000\n\n"
            current = await in_thread(current_seq)(listener.channel)
            # A starting point beyond the channel (state from before a restore) starts at the present.
            last_sent = current if last_id is None or last_id > current else last_id
            stored = await in_thread(load_since)(listener.channel, last_sent)
            for replayed in await as_today(stored):
                yield _format(replayed, user_id)
            if stored:
                last_sent = stored[-1].seq
            bus.replayed(listener.channel, last_sent)  # from here on the bus (or its catch-up) brings the rest
            loop = asyncio.get_running_loop()
            recheck_at = loop.time() + settings.REALTIME_RECHECK_SECONDS
            beat_at = loop.time() + HEARTBEAT_SECONDS
            while True:
                message: Message | None = None
                try:
                    message = await asyncio.wait_for(queue.get(), max(beat_at - loop.time(), 0))
                    if message is None:
                        return  # this client fell behind; it reconnects and replays
                except TimeoutError:
                    pass
                if loop.time() >= beat_at:  # on a clock, however busy the channel: the book's entry stays
                    beat_at = loop.time() + HEARTBEAT_SECONDS
                    yield ": ping\n\n"
                    await bus.refresh(ticket)
                if bus.closing(ticket.id):
                    yield STREAM_CLOSED
                    return
                notice = message is not None and message.is_notice and message.kind == ACCESS_CHANGED
                if notice or loop.time() > recheck_at:
                    recheck_at = loop.time() + settings.REALTIME_RECHECK_SECONDS
                    if not await still_allowed():
                        yield ACCESS_ENDED
                        return
                if message is None:
                    continue
                if message.is_notice:
                    continue
                if message.seq <= last_sent:
                    continue
                if message.seq > last_sent + 1:
                    # Published out of order by two processes: take the missing ones from the store.
                    for missed in await as_today(await in_thread(load_since)(listener.channel, last_sent, message.seq)):
                        yield _format(missed, user_id)
                if message.stored:  # from the bus's catch-up: filled in as for a replay
                    for shown in await as_today([message]):
                        yield _format(shown, user_id)
                elif message.visible_to(user_id, role):
                    yield _format(message, user_id)
                last_sent = message.seq
        finally:
            STREAMS_OPEN.dec()
            bus.unsubscribe(listener.channel, queue, person=user_id, stream=ticket.id)
            await bus.release(ticket)

    response = StreamingHttpResponse(events(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


def _session_user(session_key: str | None, user_id: int) -> User | None:
    """The stream's user, if its session still stands (not logged out, not past its lifetime, its
    login card not revoked); an open lesson screen counts as activity for the idle limit."""
    if session_key is None:
        return None
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")(session_key)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or str(store.get(SESSION_KEY)) != str(user_id):
        return None
    if not constant_time_compare(store.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return None
    absolute, _idle = settings.SESSION_LIFETIMES[user.session_kind()]
    now = int(time.time())
    if now - store.get(sessions.LOGIN_AT, 0) > absolute or sessions.card_revoked(store):
        return None
    if now - store.get(sessions.SEEN_AT, 0) >= sessions.SEEN_RESOLUTION:
        store[sessions.SEEN_AT] = now
        store.save()
    return user


# Route walkers in the tests call every page; an open stream never ends, so they skip it and the
# live tests (tests/live/) exercise it against a real server instead.
stream.classnote_streaming = True  # type: ignore[attr-defined]
