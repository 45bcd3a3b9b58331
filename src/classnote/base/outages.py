"""When a dependency fails: which one, how, and what the front doors answer (issue 13).

A request that fails because the database, the cache, the file storage or the disk did not answer
(in time) is not a bug of the request: it gets 503 with ``Retry-After`` (507 for a full disk) and a
translated page or JSON that names what is unavailable, never a generic 500. :func:`classify`
recognises such failures anywhere in an exception's chain (``__cause__``/``__context__``, as
Django wraps driver errors), and :func:`describe` gives the log its cause: exception classes,
errno and SQLSTATE, never a message (driver messages can quote the data of a row).

Code that knows a dependency is down before trying (an open circuit, a full bulkhead) raises
:class:`Unavailable` itself.
"""

from __future__ import annotations

import errno as errno_codes
import sqlite3
from dataclasses import dataclass

import psycopg

# Seconds a client is told to wait before trying again, by default.
RETRY_AFTER = 15

DATABASE, CACHE, STORAGE, DISK, SERVER = "database", "cache", "storage", "disk", "server"
# Reasons: the dependency did not answer in time; refused or dropped the connection; has no space.
TIMEOUT, UNREACHABLE, DISK_FULL, BUSY = "timeout", "unreachable", "disk_full", "busy"


@dataclass(frozen=True)
class Outage:
    dependency: str
    reason: str
    status: int = 503
    retry_after: int = RETRY_AFTER


class Unavailable(Exception):
    """Raised where code knows a dependency cannot serve this request now."""

    def __init__(self, dependency: str, reason: str = UNREACHABLE, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(f"{dependency} {reason}")
        self.outage = Outage(dependency, reason, 507 if reason == DISK_FULL else 503, retry_after)


def chain(error: BaseException | None, limit: int = 10) -> list[BaseException]:
    """ERROR and the errors it was raised from or during, outermost first."""
    found: list[BaseException] = []
    while error is not None and len(found) < limit and error not in found:
        found.append(error)
        error = error.__cause__ or error.__context__
    return found


def _module(error: BaseException) -> str:
    return type(error).__module__ or ""


def _sqlstate(error: BaseException) -> str:
    return str(getattr(error, "sqlstate", "") or getattr(getattr(error, "diag", None), "sqlstate", "") or "")


def _one(error: BaseException) -> Outage | None:  # noqa: PLR0911 - one rule per kind of failure
    if isinstance(error, Unavailable):
        return error.outage
    if isinstance(error, OSError) and error.errno in (errno_codes.ENOSPC, errno_codes.EDQUOT):
        return Outage(DISK, DISK_FULL, 507)
    if isinstance(error, OSError) and error.errno in (errno_codes.EMFILE, errno_codes.ENFILE):
        return Outage(SERVER, BUSY, retry_after=30)
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        if "disk is full" in text or "disk full" in text:
            return Outage(DATABASE, DISK_FULL, 507)
        if "locked" in text or "busy" in text:
            return Outage(DATABASE, BUSY)
        if "disk i/o error" in text or "unable to open database file" in text or "readonly" in text:
            return Outage(DATABASE, UNREACHABLE)
        return None
    module = _module(error)
    if isinstance(error, psycopg.Error):  # psycopg's, psycopg_pool's and our own (core.postgres)
        name = type(error).__name__
        if name in ("PoolTimeout", "QueryCanceled", "DeadlineExceeded") or _sqlstate(error) == "57014":
            return Outage(DATABASE, TIMEOUT)
        if _sqlstate(error) in ("53100",):  # disk_full
            return Outage(DATABASE, DISK_FULL, 507)
        if name in ("OperationalError", "InterfaceError", "PoolClosed", "TooManyConnections") or _sqlstate(
            error
        ).startswith(("08", "57P", "53")):
            return Outage(DATABASE, UNREACHABLE)
        return None
    if module.startswith("redis"):
        name = type(error).__name__
        if name == "TimeoutError":
            return Outage(CACHE, TIMEOUT)
        if name in ("ConnectionError", "BusyLoadingError", "ReadOnlyError", "ClusterDownError"):
            return Outage(CACHE, UNREACHABLE)
        return None
    if module.startswith(("botocore", "urllib3", "s3transfer")):
        name = type(error).__name__
        if "Timeout" in name:
            return Outage(STORAGE, TIMEOUT)
        if name in ("EndpointConnectionError", "ConnectionClosedError", "ConnectionError", "ProxyConnectionError"):
            return Outage(STORAGE, UNREACHABLE)
        if name == "ClientError":
            status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if isinstance(status, int) and status >= 500:
                return Outage(STORAGE, UNREACHABLE)
        return None
    return None


def classify(error: BaseException | None) -> Outage | None:
    """The outage behind ERROR, if it is one (looked for along its whole chain)."""
    for link in chain(error):
        outage = _one(link)
        if outage is not None:
            return outage
    return None


def describe(error: BaseException | None) -> str:
    """The cause for a log line: 'OperationalError <- ConnectionTimeout[errno=110]', no messages."""
    parts = []
    for link in chain(error):
        details = []
        number = getattr(link, "errno", None)
        if isinstance(number, int):
            details.append(f"errno={number} {errno_codes.errorcode.get(number, '')}".strip())
        state = _sqlstate(link)
        if state:
            details.append(f"sqlstate={state}")
        if isinstance(link, sqlite3.Error):
            code = getattr(link, "sqlite_errorname", "")
            if code:
                details.append(code)
        name = type(link).__name__
        parts.append(f"{name}[{', '.join(details)}]" if details else name)
    outage = classify(error)
    text = " <- ".join(parts)
    return f"{outage.dependency} {outage.reason}: {text}" if outage else text
