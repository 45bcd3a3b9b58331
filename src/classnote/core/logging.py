"""JSON log lines with the request id. Messages must never carry personal data:
log ids and counts, not names, login IDs or card text."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from datetime import UTC, datetime

from classnote.base import outages

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Characters of a log message, and of each text field, kept: a request's Host header, path, user
# agent or referer can be thousands of characters, and Django logs some of them (a bad Host, a
# refused CSRF check, a server error's path). Enough to recognise the value, not to flood the log.
LOG_TEXT_LIMIT = 240
# The fields JsonFormatter writes besides the message.
FIELDS = ("event", "kind", "status", "path", "duration_ms", "user_id", "tenant_id")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def cut(text: str, limit: int = LOG_TEXT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}… [{len(text)} characters]"


class LimitLengthFilter(logging.Filter):
    """Cuts the message (with its arguments filled in) and every text field of a record to
    LOG_TEXT_LIMIT characters, whatever the logger: the handler's filter, so nothing a request
    carries is written whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: leave it to logging's own error report
            return True
        if len(message) > LOG_TEXT_LIMIT:
            record.msg, record.args = cut(message), None
        for key in FIELDS:
            value = getattr(record, key, None)
            if isinstance(value, str) and len(value) > LOG_TEXT_LIMIT:
                setattr(record, key, cut(value))
        return True


class OncePerRequest(logging.Filter):
    """Django's request logger writes one line per failed response; a request whose error page was
    itself followed by an error on the way out (the session saved by a middleware while the database
    is down) would be written twice. The first line of a request is kept; it has the cause."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is None or getattr(record, "_classnote_first", False):
            return True  # (a second copy of this filter: django.setup() configures logging again)
        if getattr(request, "_classnote_logged", False):
            return False
        with contextlib.suppress(AttributeError):  # a request object that takes no attributes: log it
            request._classnote_logged = True
        record._classnote_first = True
        return True


class AsWarning(logging.Filter):
    """For a logger whose records anyone can cause by sending a request (Django's DisallowedHost
    is logged at error level): a warning, so it does not page whoever watches errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key in FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            # The exception type and its cause (classes, errno, SQLSTATE: classnote.base.outages),
            # never messages or tracebacks: they can contain request data.
            entry["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else "unknown"
            entry["cause"] = outages.describe(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False)
