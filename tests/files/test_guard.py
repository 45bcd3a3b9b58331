"""The storage guard (classnote.files.guard): a bounded number of storage calls at once, and a
circuit that refuses storage calls at once for a while after the storage did not answer."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from classnote.base import outages
from classnote.files import guard as guard_module
from classnote.files.guard import CLOSED, HALF_OPEN, OPEN, StorageGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(concurrency: int = 2, retry: float = 10) -> tuple[StorageGuard, Clock]:
    clock = Clock()
    return StorageGuard(lambda: concurrency, lambda: retry, clock), clock


def timeout() -> None:
    raise ReadTimeoutError(endpoint_url="http://127.0.0.1:1/bucket/key")


def test_a_timeout_opens_the_circuit_and_later_calls_are_refused_without_running() -> None:
    guard, clock = make(retry=10)
    with pytest.raises(outages.Unavailable) as first:
        guard.run(timeout)
    assert first.value.outage == outages.Outage(outages.STORAGE, outages.TIMEOUT)
    assert isinstance(first.value.__cause__, ReadTimeoutError)  # the cause stays for the log
    assert guard.state() == OPEN

    ran: list[int] = []
    clock.now += 4
    with pytest.raises(outages.Unavailable) as refused:
        guard.run(ran.append, 1)
    assert ran == []  # refused without touching the storage
    assert refused.value.outage.status == 503 and refused.value.outage.retry_after == 6
    assert guard.health() == {"status": "failing", "circuit": OPEN, "reason": "timeout", "running": 0, "limit": 2}


def test_after_the_pause_one_probe_goes_through_and_its_answer_decides() -> None:
    guard, clock = make(retry=10)
    with pytest.raises(outages.Unavailable):
        guard.run(timeout)
    clock.now += 10
    assert guard.state() == HALF_OPEN

    # The probe fails: open again for another pause.
    with pytest.raises(outages.Unavailable):
        guard.run(lambda: (_ for _ in ()).throw(ConnectTimeoutError(endpoint_url="x")))
    assert guard.state() == OPEN
    clock.now += 10

    # While a probe runs, the other calls are still refused; its success closes the circuit.
    inside, release = threading.Event(), threading.Event()

    def probe() -> str:
        inside.set()
        release.wait(5)
        return "stored"

    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(guard.run(probe)))
    thread.start()
    assert inside.wait(5)
    with pytest.raises(outages.Unavailable):
        guard.run(lambda: "another")
    release.set()
    thread.join(5)
    assert results == ["stored"] and guard.state() == CLOSED
    assert guard.run(lambda: "again") == "again"


def test_an_answer_of_the_storage_is_no_outage() -> None:
    """A missing file, or any error that is not the storage failing, passes through unchanged and
    leaves (or makes) the circuit closed."""
    guard, clock = make()

    def missing() -> None:
        raise FileNotFoundError("files/1/x")

    with pytest.raises(FileNotFoundError):
        guard.run(missing)
    with pytest.raises(outages.Unavailable):
        guard.run(timeout)
    clock.now += 60
    with pytest.raises(FileNotFoundError):  # the probe: the storage answered "no such file"
        guard.run(missing)
    assert guard.state() == CLOSED


def test_a_full_disk_is_507_and_does_not_open_the_circuit() -> None:
    import errno

    guard, _clock = make()

    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(outages.Unavailable) as refused:
        guard.run(full)
    assert refused.value.outage.status == 507 and refused.value.outage.reason == outages.DISK_FULL
    assert guard.state() == CLOSED


def test_past_the_bulkhead_a_call_is_refused_busy_instead_of_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard_module, "SLOT_WAIT", 0.05)
    guard = StorageGuard(lambda: 2, lambda: 10)
    inside = threading.Semaphore(0)
    release = threading.Event()

    def hanging() -> None:
        inside.release()
        release.wait(10)

    threads = [threading.Thread(target=guard.run, args=(hanging,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert inside.acquire(timeout=5)
    try:
        with pytest.raises(outages.Unavailable) as refused:
            guard.run(lambda: None)
        assert refused.value.outage.reason == outages.BUSY and refused.value.outage.status == 503
        assert guard.health()["running"] == 2
    finally:
        release.set()
        for thread in threads:
            thread.join(5)
    assert guard.run(lambda: "free again") == "free again"
    assert guard.state() == CLOSED  # busy is no failure of the storage


def test_a_call_inside_a_call_takes_no_second_place() -> None:
    """Storage.save asks exists() inside the save: with one place, that must not refuse itself."""
    guard, _clock = make(concurrency=1)
    assert guard.run(lambda: guard.run(lambda: "nested")) == "nested"
    assert guard.health()["running"] == 0
