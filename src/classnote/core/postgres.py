"""PostgreSQL connections whose every wait has an end (issue 13).

PostgreSQL enforces ``statement_timeout`` and ``idle_in_transaction_session_timeout`` itself, but
a server that does not answer at all (frozen, a dead host, a lost network) enforces nothing: the
client waits on its socket for ever, with the request thread and the pooled connection. psycopg
runs every exchange with the server through ``Connection.wait``; here that wait ends after
DATABASE_WAIT_SECONDS, or sooner when the request's deadline (classnote.base.deadlines) comes
first. The connection is then broken (half an exchange is unusable), the pool discards it, and the
request gets :class:`DeadlineExceeded`, which the front doors answer with 503 + Retry-After.

The pool hands out a connection only after a round trip (``check``), so a connection left dead by
a server restart is replaced instead of failing a request.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from django.conf import settings
from psycopg import errors

from classnote.base import deadlines

logger = logging.getLogger(__name__)


class DeadlineExceeded(psycopg.OperationalError):
    """The database did not answer within the deadline."""


class DeadlineConnection(psycopg.Connection[Any]):
    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        allowed = deadlines.limit(settings.DATABASE_WAIT_SECONDS)
        if timeout is None or allowed < timeout:
            timeout = allowed
        try:
            return super().wait(gen, interval=interval, timeout=max(timeout, 0.001))
        except errors._WaitTimeout:  # noqa: SLF001 - psycopg's own signal for a wait past its timeout
            # Half an exchange: nothing more can be read or sent on this connection.
            self.pgconn.finish()
            raise DeadlineExceeded("the database did not answer in time") from None
