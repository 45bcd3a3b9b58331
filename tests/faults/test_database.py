"""PostgreSQL frozen, PostgreSQL restarted, and a full disk on the embedded default (issue 13).

Against real servers: a PostgreSQL cluster of the test's own (tests/faults/servers.py), frozen
with SIGSTOP, so connections hang rather than fail; two `classnote serve` processes on it with the
machine's Redis for their bus; for the full disk, the embedded default on a small tmpfs.

What is asserted is behaviour, not speed: every request gets an answer (the client's own timeout
is far above the configured deadline, so a hang fails the test), the answer is a success or a 503
with Retry-After (never a 500), nothing acknowledged is lost, and the pupils' retries, which carry
an idempotency key as the browser's do, create no duplicate.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_service
from tests.faults import servers
from tests.files.test_s3 import skip_or_fail
from tests.live.server import Browser, Server, first, running, wait_until
from tests.live.test_realtime import open_lesson, send_text_card

pytestmark = pytest.mark.slow

DEADLINE = 6  # REQUEST_TIMEOUT of the servers under test, seconds
ANSWER_BOUND = DEADLINE + 20  # the client gives up only far beyond the deadline: a hang, not slowness
FREEZE_SECONDS = 30
PUPILS_PER_CLASS = 6
CARD_FIELD = re.compile(r'name="card">\s*<option value="(\d+)"')


@dataclass
class Answer:
    status: int
    retry_after: str | None
    path: str
    request_id: str | None = None
    at: float = 0.0


@dataclass
class Pupil:
    browser: Browser
    user_login: str
    lesson_id: int
    box_id: int
    card_id: int = 0
    acked: list[str] = field(default_factory=list)  # idempotency keys of acknowledged submissions
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        self.answers.append(
            Answer(
                response.status_code,
                response.headers.get("Retry-After"),
                response.url.path,
                response.headers.get("X-Request-ID"),
                time.monotonic(),
            )
        )

    def submit_once_acknowledged(self, give_up_at: float) -> None:
        """One submission, retried with the same key (as card.js does) until it is acknowledged."""
        key = uuid.uuid4().hex
        while time.monotonic() < give_up_at:
            try:
                response = self.browser.post(
                    f"/boxes/{self.box_id}/submit/", {"card": str(self.card_id)}, headers={"Idempotency-Key": key}
                )
            except httpx.TimeoutException:
                self.errors.append("no answer within the client's bound")
                return
            self.record(response)
            if response.status_code == 302:
                self.acked.append(key)
                return
            if response.status_code != 503:
                self.errors.append(f"submit answered {response.status_code}")
                return
            time.sleep(1)
        self.errors.append("a submission was never acknowledged")

    def look(self) -> None:
        try:
            response = self.browser.get(f"/lessons/{self.lesson_id}/")
        except httpx.TimeoutException:
            self.errors.append("the lesson page did not answer within the client's bound")
            return
        self.record(response)
        if response.status_code == 200 and not self.card_id:
            self.card_id = int(CARD_FIELD.search(response.text).group(1))  # type: ignore[union-attr]


def pupils_of(server: Server, teacher: Browser, lesson_id: int, box_id: int, first_index: int) -> list[Pupil]:
    pupils = []
    for index in range(first_index, first_index + PUPILS_PER_CLASS):
        browser = Browser(server.url)
        browser.client.timeout = httpx.Timeout(ANSWER_BOUND)
        login = server.login_of("student", index=index)
        browser.login_student(*login)
        pupil = Pupil(browser, login[0], lesson_id, box_id)
        pupil.look()
        assert pupil.card_id, "the pupil has the card the teacher sent"
        pupils.append(pupil)
    return pupils


def a_class_at_the_bell(server: Server, teacher_index: int) -> tuple[Browser, int, int]:
    teacher = Browser(server.url)
    teacher.login_staff(*server.login_of("teacher", index=teacher_index))
    _class_id, lesson_id = open_lesson(teacher, f"Fault lesson {teacher_index}")
    assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "Answers"}).status_code == 302
    box_id = int(first(r'data-box="(\d+)"', teacher.get(f"/lessons/{lesson_id}/").text))
    send_text_card(teacher, lesson_id, "Question")
    return teacher, lesson_id, box_id


@contextlib.contextmanager
def two_processes(tmp_path: Path, database_url: str, **extra: str) -> Iterator[tuple[Server, Server]]:
    name = database_url.rsplit("/", 1)[1]
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "REALTIME_CHANNEL_PREFIX": f"{name}-{uuid.uuid4().hex[:6]}:events:",
        "SECRET_KEY": "faults-" + uuid.uuid4().hex * 2,
        "REQUEST_TIMEOUT": str(DEADLINE),
        "DATABASE_STATEMENT_TIMEOUT": "4",
        "LOG_LEVEL": "info",
        **extra,
    }
    with (
        running(tmp_path / "a", "--demo", "--no-jobs", **env) as server_a,
        running(tmp_path / "b", "--no-migrate", "--no-jobs", **env) as server_b,
    ):
        shutil.copy(server_a.home / "demo-logins.txt", server_b.home / "demo-logins.txt")
        yield server_a, server_b


def test_frozen_postgres_gets_every_request_answered_and_loses_or_doubles_nothing(tmp_path: Path) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    import psycopg

    with servers.postgres() as pg:
        url = pg.create_database("classnote_faults")
        with two_processes(tmp_path, url) as (server_a, server_b):
            pupils: list[Pupil] = []
            for teacher_index, server in ((0, server_a), (1, server_b)):  # two classes, one per process
                teacher, lesson_id, box_id = a_class_at_the_bell(server, teacher_index)
                pupils += pupils_of(server, teacher, lesson_id, box_id, teacher_index * 12)
            for pupil in pupils:  # the bell: everyone submits once before the freeze
                pupil.submit_once_acknowledged(time.monotonic() + 30)

            def pupil_during_the_freeze(pupil: Pupil, until: float) -> None:
                while time.monotonic() < until:
                    pupil.look()
                    pupil.submit_once_acknowledged(until + FREEZE_SECONDS + 60)

            probes: list[tuple[int, dict[str, str]]] = []

            def probe_readiness(until: float) -> None:
                while time.monotonic() < until:
                    response = httpx.get(f"{server_a.url}/readyz", timeout=ANSWER_BOUND)
                    probes.append((response.status_code, response.json()["checks"]))
                    time.sleep(2)

            until = time.monotonic() + FREEZE_SECONDS
            workers = [threading.Thread(target=pupil_during_the_freeze, args=(p, until)) for p in pupils]
            workers.append(threading.Thread(target=probe_readiness, args=(until,)))
            with pg.frozen_for():
                for worker in workers:
                    worker.start()
                time.sleep(FREEZE_SECONDS)
                assert httpx.get(f"{server_b.url}/healthz", timeout=5).status_code == 200  # the process lives
            thawed = time.monotonic()
            for worker in workers:
                worker.join(timeout=FREEZE_SECONDS + 120)
                assert not worker.is_alive(), "a pupil's requests did not end after the thaw"

            answers = [answer for pupil in pupils for answer in pupil.answers]
            recovered = min(a.at for a in answers if a.at > thawed and a.status in (200, 302)) - thawed
            statuses = Counter(answer.status for answer in answers)
            print(f"\nfrozen PostgreSQL: {statuses}; first success {recovered:.1f} s after the thaw")
            assert [error for pupil in pupils for error in pupil.errors] == []
            statuses = Counter(answer.status for answer in answers)
            assert set(statuses) <= {200, 302, 503}, statuses  # never a 500 or a hang
            assert statuses[503] > 0, "the freeze was seen"
            assert all(a.retry_after for a in answers if a.status == 503)
            assert any(status == 503 and checks["database"] == "timeout" for status, checks in probes), probes

            # Every acknowledged submission is stored exactly once: one row per key, no more.
            with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
                stored = dict(
                    db.execute(
                        "SELECT u.student_number, count(*) FROM lessons_submission s"
                        " JOIN accounts_user u ON u.id = s.student_id GROUP BY u.student_number"
                    ).fetchall()
                )
            acked = {pupil.user_login.split(" / ")[1]: len(pupil.acked) for pupil in pupils}
            assert stored == acked

            # The log says why, once per refused request, and nothing was a server error.
            lines = [
                json.loads(line)
                for server in (server_a, server_b)
                for line in server.log.read_text(errors="replace").splitlines()
                if line.startswith("{")
            ]
            refused = [line for line in lines if line["logger"] == "django.request"]
            assert refused, "the refusals are logged"
            assert all(line["message"].startswith("Service Unavailable") for line in refused)
            assert all(line["cause"].startswith("database ") for line in refused), refused[:3]
            assert max(Counter(line["request_id"] for line in refused).values()) == 1


def test_restarted_postgres_is_used_again_without_a_burst_of_errors(tmp_path: Path) -> None:
    """The pool checks a connection before handing it out: the ones a restart killed are replaced."""
    require_service("Redis", "127.0.0.1", 6379)
    with servers.postgres() as pg:
        url = pg.create_database("classnote_restart")
        with two_processes(tmp_path, url, DATABASE_POOL_MIN="4") as (server_a, _server_b):
            teacher, lesson_id, box_id = a_class_at_the_bell(server_a, 0)
            pupils = pupils_of(server_a, teacher, lesson_id, box_id, 0)
            for pupil in pupils:  # every pooled connection has been used
                pupil.look()
            pg.restart()
            for pupil in pupils:
                pupil.look()
                pupil.submit_once_acknowledged(time.monotonic() + 30)
            statuses = Counter(answer.status for pupil in pupils for answer in pupil.answers)
            assert [error for pupil in pupils for error in pupil.errors] == []
            assert set(statuses) <= {200, 302}, (
                statuses,
                [(a.path, a.status) for p in pupils for a in p.answers if a.status >= 400],
            )


# --- The embedded default on a full disk -----------------------------------------------------------


@contextlib.contextmanager
def small_disk(size_mb: int) -> Iterator[Path]:
    """A tmpfs of SIZE_MB: a disk that really fills up (needs root, as in CI)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        skip_or_fail("a full disk is made with a small tmpfs, which needs root")
    mount_point = Path(tempfile.mkdtemp(prefix="classnote-fulldisk-"))
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        mount_point.rmdir()
        skip_or_fail(f"cannot mount a tmpfs here: {result.stderr.decode(errors='replace')}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], timeout=30, check=False)
        with contextlib.suppress(OSError):
            mount_point.rmdir()


def fill(path: Path) -> None:
    """Write zeros to PATH until the disk has no byte left."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(descriptor, b"\0" * size):
                    pass
    finally:
        os.close(descriptor)


def test_full_disk_answers_507_or_503_with_a_message_and_keeps_the_data(tmp_path: Path) -> None:
    with small_disk(96) as home, running(home, "--demo", REQUEST_TIMEOUT=str(DEADLINE)) as server:
        teacher, lesson_id, box_id = a_class_at_the_bell(server, 0)
        (pupil,) = pupils_of(server, teacher, lesson_id, box_id, 0)[:1]
        pupil.submit_once_acknowledged(time.monotonic() + 30)
        assert len(pupil.acked) == 1
        assert httpx.get(f"{server.url}/readyz", timeout=ANSWER_BOUND).json()["checks"]["database"] == "ok"

        fill(home / "filler")
        ready = httpx.get(f"{server.url}/readyz", timeout=ANSWER_BOUND)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "not_writable"
        assert ready.json()["checks"]["disk"] == "not_writable"

        refused = []
        for attempt in range(5):  # until a write really meets the full disk (the WAL has some room)
            response = pupil.browser.post(
                f"/boxes/{box_id}/submit/",
                {"card": str(pupil.card_id)},
                headers={"Idempotency-Key": f"full-disk-{attempt:04d}"},
            )
            assert response.status_code in (302, 503, 507), (response.status_code, response.text[:300])
            if response.status_code != 302:
                refused.append(response)
            else:
                pupil.acked.append(f"full-disk-{attempt:04d}")
        made = teacher.post("/cards/", {"kind": "text", "title": "Full disk", "lesson": str(lesson_id)})
        assert made.status_code in (302, 503, 507)
        if made.status_code != 302:
            refused.append(made)
        assert refused, "the full disk refused a write"
        for response in refused:
            assert response.headers["Retry-After"]
            # In the pupil's language (the demo's tenants are Japanese): "no room to save", or
            # "temporarily unavailable" when the write met the full disk as a locked database.
            assert "保存する空き容量がありません" in response.text or "一時的に利用できません" in response.text

        (home / "filler").unlink()
        wait_until(
            lambda: httpx.get(f"{server.url}/readyz", timeout=ANSWER_BOUND).status_code == 200,
            30,
            "ready again once there is room",
        )
        pupil.submit_once_acknowledged(time.monotonic() + 30)
        page = pupil.browser.get(f"/lessons/{lesson_id}/").text
        assert page.count("#") >= len(pupil.acked)  # every acknowledged submission is listed
        assert len(re.findall(r"<li>#\d+", page)) == len(pupil.acked)
