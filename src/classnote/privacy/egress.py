"""The egress guard: the service connects to no host outside the declared list.

Allowed: this machine (loopback, localhost), the configured backends (DATABASE_URL, REDIS_URL, the S3
endpoint, EMAIL_HOST), the operator's own hosts (OPERATOR_HOSTS) and the declared sub-processors'
hosts (SUBPROCESSORS); see classnote.privacy.hosts. Anything else is refused with `EgressRefused`
(an OSError, so libraries fail as on a network error) and a security warning that names the host.

How: a Python audit hook (`sys.addaudithook`) sees every `socket.connect`, `socket.sendto` and name
lookup (`socket.getaddrinfo`, `socket.gethostbyname`). `socket.getaddrinfo` is wrapped as well, to
learn the addresses an allowed name resolves to, so connecting to them passes. uvloop resolves and
connects in libuv, past the audit events: `event_loop()` is a uvloop (or asyncio) loop whose
outbound entry points check the same policy; `classnote serve` runs on it.

Not covered: C libraries with their own sockets (libpq, psycopg's C connections): the database
host is covered by configuration (settings.py refuses an undeclared one in production), not here.

`classnote serve` and `classnote worker` install the guard before anything else; the test suite
installs it for the whole session (tests/conftest.py). `EGRESS_GUARD=false` switches it off, for
development only (production refuses).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from classnote.privacy import hosts as _hosts

logger = logging.getLogger("classnote.security.egress")

_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.getaddrinfo", "socket.gethostbyname"})
_INET = (socket.AF_INET, socket.AF_INET6)
_RESOLVED_LIMIT = 4096


class EgressRefused(PermissionError):
    """An outbound connection or name lookup to a host outside the declared list."""


@dataclass
class Policy:
    """Which hosts may be reached. Addresses that allowed names resolved to are learned as they come."""

    patterns: tuple[_hosts.HostPattern, ...]
    resolved: set[_hosts.IPAddress] = field(default_factory=set)

    @classmethod
    def of(cls, hosts: Iterable[str | _hosts.HostPattern]) -> Policy:
        return cls(
            tuple(
                host if isinstance(host, _hosts.HostPattern) else _hosts.HostPattern.parse(host, "egress")
                for host in hosts
                if host
            )
        )

    def allows(self, host: str) -> bool:
        if _hosts.is_local(host):
            return True
        address = _hosts.ip_of(host)
        if address is not None and address in self.resolved:
            return True
        return _hosts.matches_any(host, self.patterns)

    def learn(self, results: Iterable[Any]) -> None:
        if len(self.resolved) > _RESOLVED_LIMIT:
            self.resolved.clear()
        for family, _type, _proto, _name, sockaddr in results:
            if family in _INET:
                address = _hosts.ip_of(str(sockaddr[0]))
                if address is not None:
                    self.resolved.add(address)


_policy: Policy | None = None
_hook_added = False
_original_getaddrinfo = socket.getaddrinfo
_reporting = threading.local()


def check(host: str | bytes | None) -> None:
    """Raise EgressRefused (and log it) unless the policy allows the host; no-op without a guard."""
    policy = _policy
    if policy is None:
        return
    name = _hosts.normalise(host)
    if policy.allows(name):
        return
    if not getattr(_reporting, "busy", False):  # a log handler that itself connects is refused silently
        _reporting.busy = True
        try:
            logger.warning(
                "Outbound connection to %s refused: not a declared host (SUBPROCESSORS, OPERATOR_HOSTS)",
                name,
                extra={"event": "egress.refused"},
            )
        finally:
            _reporting.busy = False
    raise EgressRefused(errno.EACCES, f"outbound connection to {name} refused by the egress guard")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS or _policy is None:
        return
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[-1]
        if getattr(sock, "family", None) not in _INET or not isinstance(address, tuple) or not address:
            return  # Unix sockets and other local families
        check(address[0])
    else:  # getaddrinfo / gethostbyname(_ex): the lookup itself tells the resolver the name
        check(args[0])


def _guarded_getaddrinfo(
    host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> list[Any]:
    check(host)
    results = _original_getaddrinfo(host, port, family, type, proto, flags)
    policy = _policy
    name = _hosts.normalise(host)
    if policy is not None and name and _hosts.ip_of(name) is None:
        policy.learn(results)
    return results


def declared_hosts(extra: Iterable[str] = ()) -> list[str | _hosts.HostPattern]:
    """Everything the settings allow: configured backends, operator hosts, sub-processors' hosts."""
    from django.conf import settings

    found: list[str | _hosts.HostPattern] = [
        host for _variable, host in _hosts.backend_hosts(lambda name, default: getattr(settings, name, default))
    ]
    found += settings.CLASSNOTE_OPERATOR_HOSTS
    found += [pattern for sub in settings.CLASSNOTE_SUBPROCESSORS for pattern in sub.hosts]
    found += [_hosts.normalise(host) for host in extra]
    return found


def install(extra_hosts: Iterable[str] = ()) -> bool:
    """Guard this process from now on (idempotent: a second call replaces the policy).
    ``extra_hosts``: e.g. the name `serve` binds to. Returns False when EGRESS_GUARD=false."""
    global _policy, _hook_added
    from django.conf import settings

    if not settings.CLASSNOTE_EGRESS_GUARD:
        logger.warning("The egress guard is off (EGRESS_GUARD=false): outbound connections are not limited")
        return False
    _policy = Policy.of(declared_hosts(extra_hosts))
    if not _hook_added:
        sys.addaudithook(_audit)  # cannot be removed again: it does nothing while _policy is None
        socket.getaddrinfo = _guarded_getaddrinfo
        _hook_added = True
    return True


def active() -> bool:
    return _policy is not None


def current_policy() -> Policy | None:
    return _policy


def set_policy(policy: Policy | None) -> Policy | None:
    """Replace the policy (tests); returns the previous one. The hook must be installed to act."""
    global _policy
    previous, _policy = _policy, policy
    return previous


def event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's loop factory under the guard (`loop="classnote.privacy.egress:event_loop"`)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        return asyncio.new_event_loop()

    class GuardedLoop(uvloop.Loop):
        """uvloop resolves and connects in libuv, where no audit event is raised: check here."""

        async def getaddrinfo(self, host: Any, port: Any, **kwargs: Any) -> Any:
            check(host)
            results = await super().getaddrinfo(host, port, **kwargs)
            name = _hosts.normalise(host)
            if _policy is not None and name and _hosts.ip_of(name) is None:
                _policy.learn(results)
            return results

        async def create_connection(
            self, protocol_factory: Any, host: Any = None, port: Any = None, **kwargs: Any
        ) -> Any:
            if host is not None:
                check(host)
            return await super().create_connection(protocol_factory, host, port, **kwargs)

        async def create_datagram_endpoint(
            self, protocol_factory: Any, local_addr: Any = None, remote_addr: Any = None, **kwargs: Any
        ) -> Any:
            if remote_addr is not None:
                check(remote_addr[0])
            return await super().create_datagram_endpoint(protocol_factory, local_addr, remote_addr, **kwargs)

        async def sock_connect(self, sock: socket.socket, address: Any) -> Any:
            if sock.family in _INET and isinstance(address, tuple):
                check(address[0])
            return await super().sock_connect(sock, address)

    return GuardedLoop()
