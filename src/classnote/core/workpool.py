"""Small bounded pools of threads (and processes) for CPU- and memory-heavy picture work, off the
request threads.

A serving process has a few request threads (``WSGI_THREADS``, 4 by default). Work that can take
a large share of a second of CPU, or hundreds of megabytes — rendering a drawing, decoding an
uploaded image — runs here instead, on at most ``workers`` threads per pool, with at most ``queue``
tasks waiting behind them. A pool that is full refuses new work at once (``PoolBusy``, a 503 with
``Retry-After``) rather than letting it pile up: the memory and CPU it can take are bounded by its
size, whatever the number of requests.

* ``submit`` starts work and returns at once (a drawing render: the page shows a placeholder until
  it is stored). Work with the same key is done once: a second request gets the first one's future.
* ``run`` waits for a free place and for the result, each up to a deadline (an upload: its answer
  needs the decoded image).

Work that holds the GIL for long (Pillow's drawing calls) goes on to ``Processes``: in a thread
it would make every request thread wait for the GIL at each of its queries (the "convoy": measured
/home/ p99 of 325 ms instead of ~60 while four drawings rendered on a thread; docs/performance.md).

Tasks run in the caller's language and context variables (messages of refusals are translated
for the user who asked). They must not use the database: a pool thread would keep a connection of
its own. With ``trim_memory``, glibc is asked after each task to hand freed memory back to the
operating system (``malloc_trim``): a decoded photo takes tens of megabytes in blocks that glibc
would otherwise keep for the process.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from django.utils import translation
from django.utils.translation import gettext as _

from classnote.base.errors import ActionError

logger = logging.getLogger(__name__)
T = TypeVar("T")


class PoolBusy(ActionError):
    """Too much picture work at the moment: try again in a few seconds."""

    status = 503
    retry_after = 5

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("The server is busy with other pictures. Please try again in a moment."))


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        return None
    return trim if callable(trim) else None


_trim = _malloc_trim()


# The operating system gives a worker process's CPU to the serving process first: a page waits for
# no render, a render waits for pages (niceness 10 weighs about a tenth of the default).
NICENESS = 10


def _lower_priority() -> None:
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


class Processes:
    """Worker processes for CPU-bound work that holds the GIL (Pillow's drawing calls do): the
    request threads of the serving process then never wait for it, and at a lower priority
    (NICENESS), so pages go first when the cores are busy. Started on first use (spawned:
    a fresh interpreter that imports only what the task needs), replaced after ``recycle`` tasks so
    their memory goes back, and started anew if one dies. Tasks are plain functions of plain
    data. Where processes cannot be started, tasks run in the calling thread."""

    def __init__(self, name: str, workers: Callable[[], int], recycle: int = 500) -> None:
        self.name = name
        self._workers = workers
        self._recycle = recycle
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._unavailable = False

    def _get(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and not self._unavailable:
                try:
                    self._executor = ProcessPoolExecutor(
                        max_workers=max(1, self._workers()),
                        mp_context=multiprocessing.get_context("spawn"),
                        max_tasks_per_child=self._recycle,
                        initializer=_lower_priority,
                    )
                except (OSError, ImportError, ValueError) as error:  # no semaphores, a sandbox...
                    logger.warning("no %s processes (%s): the work runs in threads", self.name, error)
                    self._unavailable = True
            return self._executor

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        for attempt in (1, 2):
            executor = self._get()
            if executor is None:
                return fn(*args)
            try:
                return executor.submit(fn, *args).result()
            except BrokenProcessPool:
                logger.warning("a %s process died: starting new ones", self.name)
                with self._lock:
                    if self._executor is executor:
                        self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


class WorkPool:
    def __init__(self, name: str, workers: Callable[[], int], queue: Callable[[], int], *, trim_memory: bool = False):
        self.name = name
        self._workers = workers
        self._queue = queue
        self._trim_memory = trim_memory
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._places: threading.BoundedSemaphore | None = None
        self._running: dict[Hashable, Future[Any]] = {}

    def _start(self) -> tuple[ThreadPoolExecutor, threading.BoundedSemaphore]:
        with self._lock:
            if self._executor is None or self._places is None:
                workers = max(1, self._workers())
                self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=self.name)
                self._places = threading.BoundedSemaphore(workers + max(0, self._queue()))
            return self._executor, self._places

    def _task(self, fn: Callable[..., T], args: tuple[Any, ...]) -> Callable[[], T]:
        context = contextvars.copy_context()
        language = translation.get_language()

        def in_language() -> T:
            with translation.override(language):
                return fn(*args)

        def task() -> T:
            try:
                # The language inside the copied context: Django keeps it per thread, not in it.
                return context.run(in_language)
            finally:
                if self._trim_memory and _trim is not None:
                    _trim(0)

        return task

    def _submit(
        self,
        executor: ThreadPoolExecutor,
        places: threading.BoundedSemaphore,
        key: Hashable | None,
        task: Callable[[], T],
    ) -> Future[T]:
        with self._lock:  # registered before it can finish, so a finished task never stays listed
            future = executor.submit(task)
            if key is not None:
                self._running[key] = future

        def done(_future: Future[T]) -> None:
            places.release()
            if key is not None:
                with self._lock:
                    if self._running.get(key) is future:
                        del self._running[key]

        future.add_done_callback(done)
        return future

    def submit(self, key: Hashable, fn: Callable[..., T], *args: Any) -> Future[T] | None:
        """Start fn(*args) unless work with KEY is under way already (its future is returned);
        None when the pool is full."""
        executor, places = self._start()
        with self._lock:
            running = self._running.get(key)
        if running is not None:
            return running
        if not places.acquire(blocking=False):
            return None
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                places.release()
                return running
        return self._submit(executor, places, key, self._task(fn, args))

    def pending(self, key: Hashable) -> Future[Any] | None:
        with self._lock:
            return self._running.get(key)

    def run(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        """fn(*args) on the pool; PoolBusy if no place frees up, or no result comes, within TIMEOUT
        seconds. (A task that misses the deadline still finishes; its result is dropped.)"""
        deadline = time.monotonic() + timeout
        executor, places = self._start()
        if not places.acquire(timeout=max(0.0, timeout)):
            logger.warning("picture work refused: the %s pool is full", self.name)
            raise PoolBusy
        future = self._submit(executor, places, None, self._task(fn, args))
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            logger.warning("picture work took longer than %.0f s on the %s pool", timeout, self.name)
            raise PoolBusy from None

    def shutdown(self) -> None:
        """Stop the threads once their work is done; the next task starts the pool anew (tests)."""
        with self._lock:
            executor, self._executor, self._places = self._executor, None, None
            self._running.clear()
        if executor is not None:
            executor.shutdown(wait=True)
