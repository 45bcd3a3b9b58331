"""The scale-out cache: Redis, with the database behind it for when Redis is down (issue 13).

``ResilientRedisCache`` is Django's ``RedisCache`` with three additions:

* **Durable keys.** Keys matching ``OPTIONS["DURABLE_KEYS"]`` (regular expressions; settings.py names
  the login-failure counters of ``ACCOUNT_RATE_LIMITS``) never go to Redis: they live in the database's
  cache table (``core.models.CacheEntry``, Django's ``DatabaseCache``), so a lockout holds across a
  Redis restart that lost its data, and across processes. ``add`` there is atomic (an INSERT on the
  primary key), which is what allauth's rate-limit lock needs.
* **A fallback while Redis is down.** A connection error or timeout of Redis (bounded by the
  ``socket_connect_timeout`` / ``socket_timeout`` options) opens a circuit for ``OPTIONS["RETRY_SECONDS"]``
  (base.circuit): meanwhile every operation goes to the same database table, without trying Redis.
  Sessions (``cached_db``) and the user cache then read the database as on a cache miss; rate-limit
  counters and the write-rate counter keep counting, shared by the processes (``incr`` there is a
  read and a write, so concurrent writes of one person may be undercounted during the outage). The
  outage is logged once per process (its cause, never a key), and its end.
* **No stale copy when Redis comes back.** A key written or deleted in the fallback is noted there
  (``~touched``). The call that finds Redis answering again (one per process after each cooldown)
  first deletes those keys in Redis, then the fallback's rows: a session ended or a user deactivated
  during the outage does not come back from Redis's older copy. Until each process has noticed,
  processes may disagree for up to RETRY_SECONDS; the user cache's own expiry bounds that too.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import pickle  # noqa: S403 - our own values, written by this module (as Django's DatabaseCache does)
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db.models import Q

from classnote.base import outages
from classnote.base.circuit import Circuit
from classnote.core.models import CACHE_TABLE, CacheEntry

logger = logging.getLogger(__name__)
T = TypeVar("T")


TOUCHED_SECONDS = 24 * 3600  # longer than any entry lives in Redis (sessions: at most 12 h)
BATCH = 500
_circuits: dict[str, Circuit] = {}
_circuits_lock = threading.Lock()


class _Down(Exception):
    """Redis is unavailable (circuit open, or this call failed): use the database."""


def circuit_for(location: str, cooldown: float) -> Circuit:
    """One circuit per Redis location and process (Django makes a cache object per thread)."""
    with _circuits_lock:
        found = _circuits.get(location)
        if found is None:
            found = _circuits[location] = Circuit(cooldown)
        return found


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        cooldown = float(options.pop("RETRY_SECONDS", 5))
        durable: Iterable[str] = options.pop("DURABLE_KEYS", ())
        super().__init__(server, {**params, "OPTIONS": options})
        self._durable_keys = re.compile("|".join(f"(?:{pattern})" for pattern in durable)) if durable else None
        self._circuit = circuit_for(str(server), cooldown)

        def table(kind: str) -> DatabaseCache:
            table_params = {
                "KEY_PREFIX": f"{self.key_prefix}~{kind}",
                "VERSION": self.version,
                "TIMEOUT": params.get("TIMEOUT", 300),
                # Never cull live rows (a culled counter would lift a lockout); expired rows are
                # deleted by core.tasks.purge_cache_table.
                "OPTIONS": {"MAX_ENTRIES": 10**12},
            }
            if params.get("KEY_FUNCTION"):
                table_params["KEY_FUNCTION"] = params["KEY_FUNCTION"]
            return DatabaseCache(CACHE_TABLE, table_params)

        self._durable = table("durable")
        self._fallback = table("outage")
        self._touched = table("touched")

    @property
    def redis_down(self) -> bool:
        """Redis failed and is left alone for now, the database serving instead (for /readyz to report
        "degraded" without taking the process out: it still serves)."""
        return self._circuit.is_open

    # --- routing -----------------------------------------------------------------------------------
    def _is_durable(self, key: str) -> bool:
        return self._durable_keys is not None and self._durable_keys.match(str(key)) is not None

    def _redis(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """CALL on Redis; _Down when the circuit is open or Redis does not answer."""
        if not self._circuit.allow():
            raise _Down
        probe, reconciled = self._circuit.is_open, False
        try:
            if probe:  # Redis may hold copies older than the fallback's: bring it up to date first
                self._reconcile()
                reconciled = True
            result = call(*args, **kwargs)
        except Exception as error:
            if outages.classify(error) is not None and type(error).__module__.startswith("redis"):
                if self._circuit.failed():
                    logger.warning(
                        "cache: Redis unavailable (%s); using the database for %g s before trying again",
                        outages.describe(error),
                        self._circuit.cooldown,
                    )
                raise _Down from error
            if probe and not reconciled:  # the database failed: Redis stays out until it is reconciled
                self._circuit.failed()
                raise
            self._answered()  # Redis answered (an error of the call itself, e.g. incr of a missing key)
            raise
        self._answered()
        return result

    def _answered(self) -> None:
        if self._circuit.succeeded():
            logger.warning("cache: Redis answers again; the database fallback is cleared")

    def _touch(self, keys: Iterable[str], version: int | None) -> None:
        """Note keys written or deleted in the fallback: Redis's copies are deleted when it is back."""
        self._touched.set_many(
            {key: self.make_and_validate_key(key, version=version) for key in keys}, TOUCHED_SECONDS, version=version
        )

    def _reconcile(self) -> None:
        """Delete in Redis what changed in the fallback, then the fallback's rows."""
        touched, outage = f"{self._touched.key_prefix}:", f"{self._fallback.key_prefix}:"
        rows = list(
            CacheEntry.objects.filter(Q(cache_key__startswith=touched) | Q(cache_key__startswith=outage)).values_list(
                "cache_key", "value"
            )
        )
        if not rows:
            return
        stale = [
            str(pickle.loads(base64.b64decode(value)))  # noqa: S301 - written by _touch
            for key, value in rows
            if key.startswith(touched)
        ]
        client = self._cache.get_client(write=True)
        for start in range(0, len(stale), BATCH):
            client.delete(*stale[start : start + BATCH])
        keys = [key for key, _value in rows]
        for start in range(0, len(keys), BATCH):
            CacheEntry.objects.filter(cache_key__in=keys[start : start + BATCH]).delete()

    # --- the cache API -----------------------------------------------------------------------------
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        if self._is_durable(key):
            return self._durable.get(key, default, version)
        try:
            return self._redis(super().get, key, default, version)
        except _Down:
            return self._fallback.get(key, default, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        durable = [key for key in keys if self._is_durable(key)]
        rest = [key for key in keys if not self._is_durable(key)]
        found = self._durable.get_many(durable, version) if durable else {}
        if rest:
            try:
                found.update(self._redis(super().get_many, rest, version))
            except _Down:
                found.update(self._fallback.get_many(rest, version))
        return found

    def has_key(self, key: Any, version: int | None = None) -> bool:
        if self._is_durable(key):
            return self._durable.has_key(key, version)
        try:
            return self._redis(super().has_key, key, version)
        except _Down:
            return self._fallback.has_key(key, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        if self._is_durable(key):
            self._durable.set(key, value, timeout, version)
            return
        try:
            self._redis(super().set, key, value, timeout, version)
        except _Down:
            self._fallback.set(key, value, timeout, version)
            self._touch([key], version)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        if self._is_durable(key):
            return self._durable.add(key, value, timeout, version)
        try:
            return self._redis(super().add, key, value, timeout, version)
        except _Down:
            added = self._fallback.add(key, value, timeout, version)
            if added:
                self._touch([key], version)
            return added

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        durable = {key: value for key, value in data.items() if self._is_durable(key)}
        rest = {key: value for key, value in data.items() if not self._is_durable(key)}
        failed = self._durable.set_many(durable, timeout, version) if durable else []
        if rest:
            try:
                failed += self._redis(super().set_many, rest, timeout, version)
            except _Down:
                failed += self._fallback.set_many(rest, timeout, version)
                self._touch(rest, version)
        return failed

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        if self._is_durable(key):
            return self._durable.touch(key, timeout, version)
        try:
            return self._redis(super().touch, key, timeout, version)
        except _Down:
            self._touch([key], version)
            return self._fallback.touch(key, timeout, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        if self._is_durable(key):
            return self._durable.incr(key, delta, version)
        try:
            return self._redis(super().incr, key, delta, version)
        except _Down:
            value = self._fallback.incr(key, delta, version)
            self._touch([key], version)
            return value

    def delete(self, key: Any, version: int | None = None) -> bool:
        if self._is_durable(key):
            return self._durable.delete(key, version)
        try:
            return self._redis(super().delete, key, version)
        except _Down:
            self._touch([key], version)  # a tombstone: Redis's copy goes when Redis is back
            return self._fallback.delete(key, version)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        keys = list(keys)
        durable = [key for key in keys if self._is_durable(key)]
        rest = [key for key in keys if not self._is_durable(key)]
        if durable:
            self._durable.delete_many(durable, version)
        if rest:
            try:
                self._redis(super().delete_many, rest, version)
            except _Down:
                self._touch(rest, version)
                self._fallback.delete_many(rest, version)

    def clear(self) -> None:
        """Everything, the durable counters included (as clearing any cache would)."""
        self._durable.clear()  # the one table: the fallback's rows and notes go with it
        with contextlib.suppress(_Down):
            self._redis(super().clear)
