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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import Any

from django.conf import settings

from classnote.realtime.messages import Message
from classnote.realtime.models import Channel
from classnote.realtime.store import in_thread, load_since

logger = logging.getLogger(__name__)
QUEUE_SIZE = 256
CATCHUP_CHUNK = 500  # channel names per query of the catch-up
CATCHUP_LIMIT = 200  # events per channel and interval (below QUEUE_SIZE); the rest follow next interval


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

    # --- stream side (event loop) -----------------------------------------------------------------
    def subscribe(self, channel: str) -> asyncio.Queue[Message | None]:
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.setdefault(channel, set()).add(queue)
        self._started()
        if self._catchup is None or self._catchup.done() or self._catchup.get_loop() is not self._loop:
            self._catchup = self._loop.create_task(self._catch_up(), name="realtime catch-up")
        return queue

    def replayed(self, channel: str, seq: int) -> None:
        """A new stream on `channel` has sent everything up to `seq` from the store."""
        if channel in self._subscribers:
            self._marks[channel] = min(self._marks.get(channel, seq), seq)

    def unsubscribe(self, channel: str, queue: asyncio.Queue[Message | None]) -> None:
        queues = self._subscribers.get(channel)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[channel]
                self._marks.pop(channel, None)

    def _deliver(self, message: Message) -> None:
        if message.channel in self._marks and message.seq > self._marks[message.channel]:
            self._marks[message.channel] = message.seq
        for queue in list(self._subscribers.get(message.channel, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
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
        self._client = redis.Redis.from_url(url)
        self._prefix = redis_prefix()  # settled at start-up, not looked up per message
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    def publish(self, message: Message) -> None:
        try:
            self._client.publish(self._prefix + message.channel, json.dumps(message.as_dict()))
        except Exception:  # noqa: BLE001 - the event is stored; clients catch up on reconnect
            logger.warning("realtime: publish to Redis failed", exc_info=True)

    def _started(self) -> None:
        if self._listener is None or self._listener.done():
            self._ready = asyncio.Event()
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def ready(self) -> None:
        if self._ready is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=5)

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        while True:
            try:
                client = aioredis.Redis.from_url(self._url)
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(self._prefix + "*")
                    if self._ready is not None:
                        self._ready.set()
                    async for item in pubsub.listen():
                        if item.get("type") != "pmessage":
                            continue
                        raw: dict[str, Any] = json.loads(item["data"])
                        self._deliver(Message(**raw))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                logger.warning("realtime: Redis subscription lost; retrying", exc_info=True)
                await asyncio.sleep(1)


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
