"""The event bus: delivers published messages to the event streams held by this process.

* In-process (embedded default): publishing hands the message to the event loop that holds
  the streams (publishers run in request threads).
* Redis (scale-out, REDIS_URL set): one PUBLISH per message; every process runs one
  subscriber task and fans the message out to its own connections.

Messages are already stored (realtime.models.Event) before they are published, so the bus
may drop them (a full queue, a Redis hiccup, a process that died between commit and publish).
Open streams still get them: one catch-up task per process compares, every
REALTIME_CATCHUP_SECONDS, the channels' last sequence numbers in the store (one query for all
channels this process has streams on) with what the bus delivered here, and delivers from the
store what stayed missing for a whole interval. Streams skip what they already sent.

Each stream is also subscribed to its person's channel (``user:<id>``), where notices arrive: their
access changed (re-check now), or some of their streams are to close. The bus keeps the book of open
streams per person that the caps per session and per user are counted on (REALTIME_STREAMS_PER_SESSION,
REALTIME_STREAMS_PER_USER): in process memory on the embedded default, in Redis across processes.
Admitting a stream over a cap closes that person's oldest streams, wherever they are held: the process
holding a stream named in a close notice marks it closing (``closing``) and wakes only that stream, so
no number of notices to the person's other streams can crowd the mark out of its queue. A stream's
entry in the shared book is refreshed on a clock (``refresh``, every heartbeat interval, busy or not);
a stream that finds its entry gone (its close notice lost in a Redis reconnect, or its entry lapsed)
is admitted again, and closes if that puts it over a cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from classnote.base import outages
from classnote.base.circuit import Circuit
from classnote.realtime.messages import CLOSE_STREAMS, Message, person_channel
from classnote.realtime.models import Channel
from classnote.realtime.store import in_thread, load_since

logger = logging.getLogger(__name__)
QUEUE_SIZE = 256
CATCHUP_CHUNK = 500  # channel names per query of the catch-up
CATCHUP_LIMIT = 200  # events per channel and interval (below QUEUE_SIZE); the rest follow next interval
BOOK_STALE_SECONDS = 90  # a stream's entry in the shared book lapses unless refreshed (every heartbeat)
LISTEN_POLL_SECONDS = 1.0  # the subscriber reads with this timeout, below the socket timeout


def redis_timeouts() -> dict[str, Any]:
    """The connect and answer timeouts of every Redis client of the bus (REDIS_CONNECT_TIMEOUT,
    REDIS_SOCKET_TIMEOUT): a frozen Redis never holds a request thread or a stream longer."""
    return {
        "socket_connect_timeout": float(getattr(settings, "REDIS_CONNECT_TIMEOUT", 1)),
        "socket_timeout": float(getattr(settings, "REDIS_SOCKET_TIMEOUT", 2)),
    }


@dataclass(frozen=True)
class Ticket:
    """One open stream in the book: whose, of which session (hashed), opened when."""

    user_id: int
    session: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    opened: float = field(default_factory=time.time)

    @classmethod
    def of(cls, user_id: int, session_key: str | None) -> Ticket:
        digest = hashlib.sha256((session_key or "").encode()).hexdigest()[:16]  # never the key itself
        return cls(user_id, digest)


def over_caps(tickets: list[Ticket], per_session: int, per_user: int) -> list[str]:
    """The streams to close so that no session holds more than per_session and the person no more
    than per_user: the oldest first."""
    ordered = sorted(tickets, key=lambda t: (t.opened, t.id))
    closing: list[str] = []
    sessions: dict[str, list[Ticket]] = {}
    for ticket in ordered:
        sessions.setdefault(ticket.session, []).append(ticket)
    for held in sessions.values():
        closing += [t.id for t in held[: max(len(held) - per_session, 0)]]
    remaining = [t for t in ordered if t.id not in closing]
    closing += [t.id for t in remaining[: max(len(remaining) - per_user, 0)]]
    return closing


def redis_prefix() -> str:
    """The Redis pub/sub channel prefix of this deployment. Pub/sub ignores Redis database numbers,
    so deployments (or test runs) sharing one Redis are kept apart by their database's name."""
    configured = str(getattr(settings, "REALTIME_CHANNEL_PREFIX", "") or "")
    if configured:
        return configured
    database = str(settings.DATABASES["default"].get("NAME") or "default").replace("\\", "/").rsplit("/", 1)[-1]
    return f"classnote:{database}:events:"


class Bus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message | None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Per channel, a sequence number every stream of it here has already sent or will: what the
        # bus delivered, or what a new stream replayed from the store (lowered to the least of those).
        self._marks: dict[str, int] = {}
        self._catchup: asyncio.Task[None] | None = None
        self._book: dict[int, dict[str, Ticket]] = {}  # user id -> their open streams (in-process book)
        self._streams: dict[str, asyncio.Queue[Message | None]] = {}  # stream (ticket) id -> its queue, here
        self._closing: set[str] = set()  # streams held here that are to close (over a cap)

    # --- stream side (event loop) -----------------------------------------------------------------
    def subscribe(
        self, channel: str, person: int | None = None, stream: str | None = None
    ) -> asyncio.Queue[Message | None]:
        """A queue of the channel's messages, and of the notices to PERSON if given; STREAM (its ticket
        id) is what a close notice names."""
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.setdefault(channel, set()).add(queue)
        if person is not None:
            self._subscribers.setdefault(person_channel(person), set()).add(queue)
        if stream is not None:
            self._streams[stream] = queue
        self._started()
        if self._catchup is None or self._catchup.done() or self._catchup.get_loop() is not self._loop:
            self._catchup = self._loop.create_task(self._catch_up(), name="realtime catch-up")
        return queue

    def replayed(self, channel: str, seq: int) -> None:
        """A new stream on `channel` has sent everything up to `seq` from the store."""
        if channel in self._subscribers:
            self._marks[channel] = min(self._marks.get(channel, seq), seq)

    def unsubscribe(
        self, channel: str, queue: asyncio.Queue[Message | None], person: int | None = None, stream: str | None = None
    ) -> None:
        if stream is not None:
            self._streams.pop(stream, None)
            self._closing.discard(stream)
        for name in (channel, person_channel(person)) if person is not None else (channel,):
            queues = self._subscribers.get(name)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._subscribers[name]
                    self._marks.pop(name, None)

    async def admit(self, ticket: Ticket) -> None:
        """Enter a new stream in the book; close the person's oldest streams over a cap."""
        closing = over_caps(await self._book_add(ticket), *self._caps())
        if closing:
            await self._book_remove(ticket.user_id, closing)
            notice = Message(person_channel(ticket.user_id), 0, CLOSE_STREAMS, {}, {"streams": closing}, {})
            self._close_here(notice)  # at once here; the other processes hear it through the bus
            self.publish(notice)

    async def release(self, ticket: Ticket) -> None:
        await self._book_remove(ticket.user_id, [ticket.id])

    async def refresh(self, ticket: Ticket) -> None:
        """The stream is still open (called on a clock, every heartbeat interval): its entry in a shared
        book stays; an entry found gone is entered again, which closes the stream if that is over a cap."""

    def closing(self, stream: str) -> bool:
        """Whether the stream (held here) is to close: a cap closed it."""
        return stream in self._closing

    def _close_here(self, notice: Message) -> None:
        """Mark the streams named in a close notice that this process holds closing, and wake each of
        them (only them: a person's other streams are not told)."""
        named = notice.data.get("streams")
        for stream in named if isinstance(named, list) else ():
            queue = self._streams.get(stream) if isinstance(stream, str) else None
            if queue is not None and stream not in self._closing:
                self._closing.add(stream)
                self._put(queue, notice)

    @staticmethod
    def _caps() -> tuple[int, int]:
        return settings.REALTIME_STREAMS_PER_SESSION, settings.REALTIME_STREAMS_PER_USER

    async def _book_add(self, ticket: Ticket) -> list[Ticket]:
        """Add the ticket; the person's open streams, the new one included."""
        held = self._book.setdefault(ticket.user_id, {})
        held[ticket.id] = ticket
        return list(held.values())

    async def _book_remove(self, user_id: int, stream_ids: list[str]) -> None:
        held = self._book.get(user_id, {})
        for stream_id in stream_ids:
            held.pop(stream_id, None)
        if not held:
            self._book.pop(user_id, None)

    def _deliver(self, message: Message) -> None:
        if message.is_notice and message.kind == CLOSE_STREAMS:
            self._close_here(message)
            return
        if message.channel in self._marks and message.seq > self._marks[message.channel]:
            self._marks[message.channel] = message.seq
        for queue in list(self._subscribers.get(message.channel, ())):
            self._put(queue, message)

    @staticmethod
    def _put(queue: asyncio.Queue[Message | None], message: Message) -> None:
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            if message.is_notice:  # a notice must arrive: it replaces the oldest queued message
                with contextlib.suppress(asyncio.QueueEmpty, asyncio.QueueFull):
                    queue.get_nowait()
                    queue.put_nowait(message)
                return
            # A stuck client: end its stream (None); it reconnects and replays from the store.
            with contextlib.suppress(asyncio.QueueFull):
                queue.get_nowait()
                queue.put_nowait(None)

    def _started(self) -> None:
        """Hook for buses that need a listener task."""

    async def _catch_up(self) -> None:
        """Deliver stored events the bus lost. Runs while this process has streams; each interval
        one query for the last sequence numbers of their channels, and a load only for a channel
        whose store stayed ahead of what was delivered here for a whole interval (a publish merely
        in flight is left to the bus)."""
        ahead: dict[str, int] = {}  # channel -> the store's last_seq found ahead at the previous check
        while self._subscribers:
            await asyncio.sleep(settings.REALTIME_CATCHUP_SECONDS)
            marks = {channel: mark for channel, mark in self._marks.items() if channel in self._subscribers}
            if not marks:
                continue
            try:
                stored = await in_thread(_last_seqs)(list(marks))
                due = {channel: (marks[channel], ahead[channel]) for channel in stored if channel in ahead}
                due = {channel: bounds for channel, bounds in due.items() if bounds[1] > bounds[0]}
                ahead = {channel: last for channel, last in stored.items() if last > marks[channel]}
                if due:
                    for message in await in_thread(_load_missed)(due):
                        self._deliver(message)
                    logger.info("realtime: delivered unpublished events from the store: %s", sorted(due))
            except Exception:  # noqa: BLE001 - a database hiccup: try again next interval
                logger.warning("realtime: catch-up with the event store failed; retrying", exc_info=True)

    async def ready(self) -> None:
        """Returns once messages published from now on reach this process's subscribers."""

    # --- publisher side (any thread) --------------------------------------------------------------
    def publish(self, message: Message) -> None:
        raise NotImplementedError


class MemoryBus(Bus):
    def publish(self, message: Message) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # nobody is listening in this process; the event is stored
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(message)
        else:
            loop.call_soon_threadsafe(self._deliver, message)


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self._url = url
        self._timeouts = redis_timeouts()
        self._client = redis.Redis.from_url(url, **self._timeouts)
        self._prefix = redis_prefix()  # settled at start-up, not looked up per message
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None
        self._retries = 0  # failed subscription attempts in a row (0: subscribed, or not tried yet)
        # After a failed publish or book update, Redis is left alone for REDIS_RETRY_SECONDS: a
        # request does not wait for a timeout per event while Redis is down (the store's catch-up
        # delivers), and a new stream counts its caps in this process.
        self._circuit = Circuit(float(getattr(settings, "REDIS_RETRY_SECONDS", 5)))
        self._book_client: Any = None
        self._book_loop: asyncio.AbstractEventLoop | None = None

    def publish(self, message: Message) -> None:
        if not self._circuit.allow():
            return  # Redis is down: the event is stored, and the catch-up delivers it
        try:
            self._client.publish(self._prefix + message.channel, json.dumps(message.as_dict()))
        except Exception as error:  # noqa: BLE001 - the event is stored; the catch-up delivers it
            self._failed(error)
            return
        self._answered()

    def _failed(self, error: BaseException) -> None:
        if self._circuit.failed():
            logger.warning(
                "realtime: Redis unavailable (%s); events reach streams through the store's catch-up,"
                " Redis is tried again in %g s",
                outages.describe(error),
                self._circuit.cooldown,
            )

    def _answered(self) -> None:
        if self._circuit.succeeded():
            logger.warning("realtime: Redis answers again")

    # The book of open streams, shared by the processes: per person a sorted set of
    # "opened|stream id|session hash", scored by when the stream last said it is open.
    def _book_key(self, user_id: int) -> str:
        return f"{self._prefix}streams:{user_id}"

    def _async_client(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if self._book_client is None or self._book_loop is not loop:
            self._book_client, self._book_loop = aioredis.Redis.from_url(self._url, **self._timeouts), loop
        return self._book_client

    async def _book_add(self, ticket: Ticket) -> list[Ticket]:
        key, now = self._book_key(ticket.user_id), time.time()
        if not self._circuit.allow():
            return await super()._book_add(ticket)  # Redis is down: caps counted in this process
        try:
            client = self._async_client()
            async with client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, "-inf", now - BOOK_STALE_SECONDS)
                pipe.zadd(key, {f"{ticket.opened:.6f}|{ticket.id}|{ticket.session}": now})
                pipe.expire(key, BOOK_STALE_SECONDS)
                pipe.zrange(key, 0, -1)
                *_done, members = await pipe.execute()
        except Exception as error:  # noqa: BLE001 - without Redis the caps are counted in this process only
            self._failed(error)
            return await super()._book_add(ticket)
        self._answered()
        held = []
        for member in members:
            opened, stream_id, session = member.decode().split("|")
            held.append(Ticket(ticket.user_id, session, stream_id, float(opened)))
        return held

    async def _book_remove(self, user_id: int, stream_ids: list[str]) -> None:
        await super()._book_remove(user_id, stream_ids)
        key, wanted = self._book_key(user_id), set(stream_ids)
        if self._circuit.is_open:
            return  # an entry left behind lapses after BOOK_STALE_SECONDS
        with contextlib.suppress(Exception):  # an entry left behind lapses after BOOK_STALE_SECONDS
            client = self._async_client()
            gone = [m for m in await client.zrange(key, 0, -1) if m.decode().split("|")[1] in wanted]
            if gone:
                await client.zrem(key, *gone)

    async def refresh(self, ticket: Ticket) -> None:
        member = f"{ticket.opened:.6f}|{ticket.id}|{ticket.session}"
        if not self._circuit.allow():
            return  # Redis is down: try again at the next heartbeat
        try:
            key = self._book_key(ticket.user_id)
            kept = await self._async_client().zadd(key, {member: time.time()}, xx=True, ch=True)
        except Exception as error:  # noqa: BLE001 - Redis unreachable: try again at the next heartbeat
            self._failed(error)
            return
        self._answered()
        if not kept:  # closed by a cap while the notice was lost, or lapsed: counted again
            await self.admit(ticket)

    def _started(self) -> None:
        if self._listener is None or self._listener.done():
            self._ready = asyncio.Event()
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def ready(self) -> None:
        """Wait (up to 5 s) for the subscriber to be connected; not while Redis is known to be down,
        where a new stream has the store's catch-up instead."""
        if self._ready is not None and not self._ready.is_set() and self._listening_may_start():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=5)

    def _listening_may_start(self) -> bool:
        return not self._circuit.is_open and self._retries == 0

    async def _listen(self) -> None:
        """Follow the deployment's channels; on a failure, reconnect after 1, 2, 4 ... seconds (at
        most REDIS_RETRY_SECONDS). Logged once per outage, and when it is over."""
        import redis.asyncio as aioredis

        while True:
            try:
                client = aioredis.Redis.from_url(self._url, **self._timeouts)
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(self._prefix + "*")
                    if self._retries:
                        logger.warning("realtime: Redis subscription restored")
                    self._retries = 0
                    if self._ready is not None:
                        self._ready.set()
                    while True:
                        # A bounded read (not listen()): the socket timeout must not end a quiet subscription.
                        item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_POLL_SECONDS)
                        if item is None or item.get("type") != "pmessage":
                            continue
                        raw: dict[str, Any] = json.loads(item["data"])
                        self._deliver(Message(**raw))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001
                if self._ready is not None:
                    self._ready.clear()
                if not self._retries:
                    logger.warning(
                        "realtime: Redis subscription lost (%s); retrying, streams catch up from the store",
                        outages.describe(error),
                    )
                self._retries += 1
                await asyncio.sleep(min(2 ** (self._retries - 1), self._circuit.cooldown))


def _last_seqs(channels: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(channels), CATCHUP_CHUNK):
        rows = Channel.objects.filter(name__in=channels[start : start + CATCHUP_CHUNK])
        found.update(rows.values_list("name", "last_seq"))
    return found


def _load_missed(due: dict[str, tuple[int, int]]) -> list[Message]:
    """The events in (after, upto] of each channel, in order."""
    missed: list[Message] = []
    for channel, (after, upto) in due.items():
        missed.extend(load_since(channel, after, upto + 1, CATCHUP_LIMIT))
    return missed


_bus: Bus | None = None
_lock = threading.Lock()


def get_bus() -> Bus:
    global _bus
    if _bus is None:
        with _lock:
            if _bus is None:
                _bus = RedisBus(settings.REDIS_URL) if settings.REDIS_URL else MemoryBus()
    return _bus
