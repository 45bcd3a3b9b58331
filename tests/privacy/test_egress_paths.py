"""The egress guard's less travelled paths (found by `make mutation`, docs/security-checklist.md):
the security log's event name, a log handler that itself reaches out while a refusal is reported,
and the uvloop entry points that tests/privacy/test_egress.py does not call (raw socket connects
and datagram endpoints)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator

import pytest

from classnote.privacy import egress

TEST_NET = "192.0.2.1"  # RFC 5737: documentation only, never routed


class Reaching(logging.Handler):
    """A log handler that ships records to an outside host, as a careless log shipper would."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.refused = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        try:
            socket.create_connection((TEST_NET, 514), timeout=1)
        except egress.EgressRefused:
            self.refused += 1


@pytest.fixture
def reaching() -> Iterator[Reaching]:
    handler = Reaching()
    logger = logging.getLogger("classnote.security.egress")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_a_refusal_is_one_security_event_even_when_the_log_handler_reaches_out(reaching: Reaching) -> None:
    """The warning carries the event name operators filter on (docs/operations.md, egress.refused);
    the handler's own connection is refused silently instead of reporting itself without end."""
    with pytest.raises(egress.EgressRefused), socket.socket() as sock:
        sock.connect(("198.51.100.7", 80))
    assert len(reaching.records) == 1, [r.getMessage() for r in reaching.records]
    (record,) = reaching.records
    assert record.event == "egress.refused"  # type: ignore[attr-defined]
    assert "198.51.100.7" in record.getMessage() and "refused" in record.getMessage()
    assert reaching.refused == 1


def test_the_guarded_loop_refuses_raw_connects_and_datagrams_to_outside_hosts() -> None:
    loop = egress.event_loop()

    async def raw_connect(host: str) -> None:
        with socket.socket() as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, (host, 80))

    async def datagram(host: str) -> None:
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=(host, 53))
        transport.close()

    try:
        with pytest.raises(egress.EgressRefused):
            loop.run_until_complete(raw_connect(TEST_NET))
        with pytest.raises(egress.EgressRefused):
            loop.run_until_complete(datagram(TEST_NET))
        loop.run_until_complete(datagram("127.0.0.1"))  # loopback is allowed
    finally:
        loop.close()


def test_an_allowed_lookup_answers_as_without_the_guard() -> None:
    """The guard only says yes or no: an allowed lookup gets the resolver's own answer, with the
    caller's family, type, protocol and flags (or the resolver's defaults), on both paths."""
    for args in [("localhost", 80), ("127.0.0.1", 443, socket.AF_INET), ("localhost", 53, 0, socket.SOCK_DGRAM)]:
        assert socket.getaddrinfo(*args) == egress._original_getaddrinfo(*args), args
    loop = egress.event_loop()
    try:
        guarded = loop.run_until_complete(loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM))
    finally:
        loop.close()
    plain = asyncio.new_event_loop()
    try:
        expected = plain.run_until_complete(plain.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM))
    finally:
        plain.close()
    assert sorted(guarded) == sorted(expected)
