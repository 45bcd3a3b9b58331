"""The egress guard: no outbound connection or name lookup to a host outside the declared list.

The guard is on for this whole test session (tests/conftest.py), as in `classnote serve` and
`classnote worker`: these tests reach for outside hosts and must be refused.
"""

from __future__ import annotations

import _socket
import asyncio
import json
import logging
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.test import override_settings

from classnote.privacy import egress, hosts
from tests.live.server import ROOT, server_env

TEST_NET = "192.0.2.1"  # RFC 5737: documentation only, never routed


@pytest.fixture
def listener() -> Iterator[int]:
    """A port on loopback that accepts connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def declared() -> Iterator[egress.Policy]:
    """The session's policy plus declared hosts, restored afterwards."""
    policy = egress.Policy.of(["192.0.2.10", ".declared.test", *egress.declared_hosts()])
    previous = egress.set_policy(policy)
    try:
        yield policy
    finally:
        egress.set_policy(previous)


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "classnote.security.egress" and record.levelno == logging.WARNING
    ]


def not_refused_connect(address: tuple[str, int]) -> None:
    """Start a connection without waiting for it: only the guard's answer matters here."""
    with socket.socket() as sock:
        sock.setblocking(False)
        sock.connect_ex(address)  # EINPROGRESS, ENETUNREACH, ...: anything but EgressRefused


def test_the_guard_is_on_for_the_test_session() -> None:
    assert egress.active()
    assert socket.getaddrinfo is egress._guarded_getaddrinfo


def test_connecting_to_an_outside_address_is_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(egress.EgressRefused), socket.socket() as sock:
        sock.connect((TEST_NET, 80))
    with pytest.raises(OSError, match="egress guard"):
        socket.create_connection((TEST_NET, 443), timeout=1)
    messages = refusals(caplog)
    assert messages and all(TEST_NET in message for message in messages)


def test_libraries_fail_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    """An OSError subclass: HTTP clients report it as a connection error, not a crash."""
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from the environment
    with pytest.raises(urllib.error.URLError) as failure:
        direct.open(f"http://{TEST_NET}/", timeout=1)
    assert isinstance(failure.value.reason, egress.EgressRefused)
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False, timeout=1) as client:
        client.get("https://example.org/")
    assert any("example.org" in message for message in refusals(caplog))


def test_resolving_an_outside_name_is_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(egress.EgressRefused):
        socket.getaddrinfo("example.org", 443)
    with pytest.raises(egress.EgressRefused):
        socket.gethostbyname("Example.ORG.")
    # Past the wrapper, straight to the C function: the audit hook still refuses.
    with pytest.raises(egress.EgressRefused):
        _socket.getaddrinfo("example.org", 443)
    messages = refusals(caplog)
    assert len(messages) == 3 and all("example.org" in message for message in messages)


def test_udp_to_an_outside_address_is_refused() -> None:
    with pytest.raises(egress.EgressRefused), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", (TEST_NET, 53))


def test_the_log_names_only_the_host(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(egress.EgressRefused):
        socket.create_connection(("tracker.example.net", 443), timeout=1)
    (message,) = refusals(caplog)
    assert "tracker.example.net" in message and "443" not in message


def test_loopback_is_allowed(listener: int) -> None:
    with socket.create_connection(("127.0.0.1", listener), timeout=2):
        pass
    with socket.create_connection(("localhost", listener), timeout=2):
        pass
    assert socket.getaddrinfo("localhost", listener)
    assert socket.getaddrinfo(None, 0)  # passive lookups (binding) name no host


def test_a_declared_host_is_allowed(declared: egress.Policy, caplog: pytest.LogCaptureFixture) -> None:
    not_refused_connect(("192.0.2.10", 9))
    try:
        socket.getaddrinfo("api.declared.test", 443)
    except egress.EgressRefused:
        pytest.fail("a declared name was refused")
    except socket.gaierror:
        pass  # .test does not resolve: the guard let the lookup through
    assert not refusals(caplog)
    with pytest.raises(egress.EgressRefused):
        not_refused_connect(("192.0.2.11", 9))


def test_addresses_of_a_declared_name_are_learned(declared: egress.Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    def resolver(host: Any, port: Any, *args: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.77", port))]

    monkeypatch.setattr(egress, "_original_getaddrinfo", resolver)
    with pytest.raises(egress.EgressRefused):
        not_refused_connect(("192.0.2.77", 443))
    ((_family, _type, _proto, _name, (address, _port)),) = socket.getaddrinfo("files.declared.test", 443)
    not_refused_connect((address, 443))
    with pytest.raises(egress.EgressRefused):
        not_refused_connect(("192.0.2.78", 443))


def test_the_declared_list_comes_from_the_settings() -> None:
    subprocessors = hosts.parse_subprocessors(
        json.dumps([{"name": "Mail Co", "purpose": "e-mail", "location": "Japan", "hosts": ["smtp.mail.example"]}])
    )
    with override_settings(
        CLASSNOTE_SUBPROCESSORS=subprocessors,
        CLASSNOTE_OPERATOR_HOSTS=hosts.parse_hosts(["10.20.0.0/16", ".ops.example"], "OPERATOR_HOSTS"),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="relay.example.com",
    ):
        policy = egress.Policy.of(egress.declared_hosts(["bind.example"]))
    for host in (
        "smtp.mail.example",
        "10.20.3.4",
        "ops.example",
        "db.ops.example",
        "relay.example.com",
        "bind.example",
    ):
        assert policy.allows(host), host
    for host in ("mail.example", "10.21.0.1", "example.org", "relay.example.com.evil.example", TEST_NET):
        assert not policy.allows(host), host
    for host in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "localhost", "0.0.0.0"):  # noqa: S104 - checked, not bound
        assert policy.allows(host), host


def test_the_guarded_event_loop_checks_what_uvloop_does_in_libuv(listener: int) -> None:
    """uvloop resolves and connects without Python's audit events: `serve` runs on this loop."""

    async def reach(host: str, port: int) -> None:
        _reader, writer = await asyncio.open_connection(host, port)
        writer.close()

    loop = egress.event_loop()
    try:
        loop.run_until_complete(reach("127.0.0.1", listener))
        with pytest.raises(egress.EgressRefused):
            loop.run_until_complete(reach(TEST_NET, 80))
        with pytest.raises(egress.EgressRefused):
            loop.run_until_complete(loop.getaddrinfo("example.org", 443))
    finally:
        loop.close()


def test_the_off_switch_leaves_the_policy_alone(caplog: pytest.LogCaptureFixture) -> None:
    before = egress.current_policy()
    with override_settings(CLASSNOTE_EGRESS_GUARD=False):
        assert egress.install() is False
    assert egress.current_policy() is before
    assert any("egress guard is off" in record.getMessage() for record in caplog.records)


def test_serve_installs_the_guard_before_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from classnote.core.management.commands import serve

    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(egress, "install", lambda extra_hosts=(): calls.append(("install", list(extra_hosts))) or True)
    monkeypatch.setattr(serve, "call_command", lambda *args, **kwargs: calls.append(("command", args[0])))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(("uvicorn", kwargs["loop"])))
    call_command("serve", "--port", "8123", "--host", "0.0.0.0", "--no-jobs", stdout=StringIO())  # noqa: S104 - serve is mocked
    assert calls == [
        ("install", ["0.0.0.0"]),  # noqa: S104 - the recorded argument, nothing binds
        ("command", "migrate"),
        ("uvicorn", "classnote.privacy.egress:event_loop"),
    ]


def test_worker_installs_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    from classnote.core.management.commands import worker

    calls: list[str] = []
    monkeypatch.setattr(egress, "install", lambda extra_hosts=(): calls.append("install") or True)
    monkeypatch.setattr(worker, "call_command", lambda *args, **kwargs: calls.append(args[0]))
    call_command("worker")
    assert calls == ["install", "run_huey"]


def run_egress_check(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`classnote egress check` in its own process: settings, logging and the guard as `serve` has them."""
    return subprocess.run(  # noqa: S603 - fixed argv: this interpreter running classnote, no shell
        [sys.executable, "-m", "classnote", "egress", "check", *args, "--timeout", "0.5"],
        env=server_env(tmp_path / "home", LOG_LEVEL="info", **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_a_real_process_under_the_guard_cannot_reach_an_outside_host(tmp_path: Path, listener: int) -> None:
    for host in (TEST_NET, "example.org"):
        result = run_egress_check(tmp_path, host, "--port", "80")
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"refused: {host} is not a declared host" in result.stderr
        logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
        assert [entry["level"] for entry in logged] == ["warning"]
        assert logged[0]["event"] == "egress.refused" and host in logged[0]["message"]
    allowed = run_egress_check(tmp_path, "127.0.0.1", "--port", str(listener))
    assert allowed.returncode == 0 and "allowed: connected" in allowed.stdout, allowed.stderr
    declared = run_egress_check(tmp_path, TEST_NET, "--port", "80", OPERATOR_HOSTS=TEST_NET)
    assert declared.returncode == 0 and "allowed" in declared.stdout, declared.stderr
