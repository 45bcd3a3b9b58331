"""Django's SQLite backend, with the writers of one serving process queuing on a lock of their own.

SQLite lets one writer at a time hold the database; the others wait in SQLite's busy handler,
which sleeps in growing steps (1, 2, 5, 10 … 100 ms) and looks again. At the bell, with a
hundred writes a second from four request threads, those sleeps were most of a submission's
latency (a py-spy profile of `bench.classroom` at K = 25: threads parked in BEGIN IMMEDIATE and in
autocommit UPDATEs). `classnote serve` therefore turns on `serialize_writes()`: a write
transaction (BEGIN IMMEDIATE, see settings) or a write statement outside a transaction first
takes a process-wide lock, released when it commits or rolls back, so the next writer starts the
moment the last one is done. Other processes (a management command, the scale-out's job worker
use PostgreSQL) still meet SQLite's busy handler, as before. Off by default: a test's
transaction around a live request in the same process would otherwise wait on itself.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base

from classnote.base import deadlines
from classnote.core.metrics import SQLITE_WRITE_LOCK_WAIT

_write_lock = threading.Lock()
_enabled = False
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def serialize_writes() -> None:
    global _enabled
    _enabled = True


def _take_write_lock() -> None:
    """The process's write lock, waited for no longer than SQLITE_LOCK_TIMEOUT or the request's
    deadline (issue 13): past it, SQLite's own "database is locked", which is a 503. The wait goes
    to the metrics (classnote_sqlite_write_lock_wait_seconds), a refused one included."""
    started = time.perf_counter()
    taken = _write_lock.acquire(timeout=max(deadlines.limit(settings.SQLITE_LOCK_TIMEOUT), 0.001))
    SQLITE_WRITE_LOCK_WAIT.observe(time.perf_counter() - started)
    if not taken:
        raise sqlite3.OperationalError("database is locked (waited for the write lock)")


class CursorWrapper(base.SQLiteCursorWrapper):
    """Write statements in autocommit mode (no transaction around them) take the lock too."""

    wrapper: DatabaseWrapper

    def _autocommit_write(self, query: str) -> bool:
        return (
            _enabled
            and not self.wrapper.holds_write_lock
            and self.wrapper.get_autocommit()
            and query.lstrip()[:7].upper().startswith(_WRITES)
        )

    def execute(self, query: str, params: Any = None) -> Any:
        if self._autocommit_write(query):
            _take_write_lock()
            try:
                return super().execute(query, params)
            finally:
                _write_lock.release()
        return super().execute(query, params)

    def executemany(self, query: str, param_list: Any) -> Any:
        if self._autocommit_write(query):
            _take_write_lock()
            try:
                return super().executemany(query, param_list)
            finally:
                _write_lock.release()
        return super().executemany(query, param_list)


class DatabaseWrapper(base.DatabaseWrapper):
    holds_write_lock = False

    def create_cursor(self, name: Any = None) -> Any:
        cursor = self.connection.cursor(factory=CursorWrapper)
        cursor.wrapper = self
        return cursor

    def _start_transaction_under_autocommit(self) -> None:
        if not _enabled:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        _take_write_lock()
        self.holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        if self.holds_write_lock:
            self.holds_write_lock = False
            _write_lock.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()
