"""A tiny in-process event bus: publish from any thread, consume in asyncio.

This is the shape the embedded default needs: a request handled by a WSGI
thread (or an ASGI sync_to_async thread) publishes, and every SSE stream
coroutine subscribed in this *process* receives it. It is per process: with
2+ workers a publish only reaches the streams of its own worker.
"""

import asyncio
import threading


class Bus:
    def __init__(self, queue_size=100):
        self._subs = set()
        self._lock = threading.Lock()
        self._queue_size = queue_size
        self.dropped = 0

    def subscribe(self):
        sub = (asyncio.get_running_loop(), asyncio.Queue(self._queue_size))
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub):
        with self._lock:
            self._subs.discard(sub)

    def _put(self, queue, message):
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:  # slow consumer: drop, never block the publisher
            self.dropped += 1

    def publish(self, message):
        """Thread-safe; callable from a WSGI worker thread or from a loop."""
        with self._lock:
            subs = list(self._subs)
        for loop, queue in subs:
            try:
                loop.call_soon_threadsafe(self._put, queue, message)
            except RuntimeError:  # loop closed
                self.unsubscribe((loop, queue))
        return len(subs)


bus = Bus()
