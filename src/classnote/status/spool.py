"""The prober's local spool: probe results that could not be written to the database (it is down,
or its disk is full), as JSON lines under STATUS_SPOOL_DIR, inserted by the next round that can.

While they wait they are still observations: the status page and its snapshot count them
(``pending``), so an outage of the database shows on the page as it happens, not only once the
database is back.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from classnote.status.models import ProbeResult

FIELDS = ("component", "at", "answered", "ok", "latency_ms", "failed_step", "detail", "prober")


def path() -> Path:
    return Path(settings.STATUS_SPOOL_DIR) / "spool.jsonl"


@contextmanager
def locked(shared: bool = False) -> Iterator[Path]:
    """The spool file's path, with the spool's lock held (exclusive to write, shared to read)."""
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (file.parent / "spool.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield file
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read(file: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        with file.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    row = json.loads(line)
                except ValueError:  # a line torn by a crash mid-write: skipped
                    continue
                if isinstance(row, dict) and row.get("component") and row.get("at"):
                    rows.append(row)
    except FileNotFoundError:
        pass
    return rows


def append(rows: list[dict[str, Any]]) -> None:
    with locked() as file:
        descriptor = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(row, sort_keys=True) + "\n" for row in rows)
            out.flush()
            os.fsync(out.fileno())


def count() -> int:
    """How many results wait in the spool."""
    try:
        with path().open(encoding="utf-8") as lines:
            return sum(1 for line in lines if line.strip())
    except FileNotFoundError:
        return 0


def as_model(row: dict[str, Any]) -> ProbeResult:
    values = {field: row.get(field) for field in FIELDS}
    values["at"] = datetime.fromisoformat(str(row["at"]))
    values["failed_step"] = values["failed_step"] or ""
    values["detail"] = values["detail"] or ""
    values["prober"] = values["prober"] or ""
    return ProbeResult(**values)


def pending() -> list[ProbeResult]:
    """The results waiting in this machine's spool (unsaved rows), oldest first; none when there is no
    spool or it cannot be read."""
    if not path().exists():
        return []
    try:
        with locked(shared=True) as file:
            rows = read(file)
    except OSError:
        return []
    results = []
    for row in rows:
        try:
            results.append(as_model(row))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(results, key=lambda result: result.at)
