"""The event bus: delivers published messages to the event streams held by this process.

* In-process (embedded default): publishing hands the message to the event loop that holds
  the streams (publishers run in request threads).
* Redis (scale-out, REDIS_URL set): one PUBLISH per message; every process runs one
  subscriber task and fans the message out to its own connections.

Messages are already stored (realtime.models.Event) before they are published, so the bus
may drop them (a full queue, a Redis hiccup): clients then resume from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from typing import Any

from django.conf import settings

from classnote.realtime.events import Message

logger = logging.getLogger(__name__)
QUEUE_SIZE = 256


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

    # --- stream side (event loop) -----------------------------------------------------------------
    def subscribe(self, channel: str) -> asyncio.Queue[Message | None]:
        self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.setdefault(channel, set()).add(queue)
        self._started()
        return queue

    def unsubscribe(self, channel: str, queue: asyncio.Queue[Message | None]) -> None:
        queues = self._subscribers.get(channel)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[channel]

    def connection_count(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    def _deliver(self, message: Message) -> None:
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


_bus: Bus | None = None
_lock = threading.Lock()


def get_bus() -> Bus:
    global _bus
    if _bus is None:
        with _lock:
            if _bus is None:
                _bus = RedisBus(settings.REDIS_URL) if settings.REDIS_URL else MemoryBus()
    return _bus
