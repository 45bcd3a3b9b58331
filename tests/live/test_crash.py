"""Kill the server (SIGKILL) while students autosave and submit: nothing acknowledged is lost.

An autosave or a submission is acknowledged only after its transaction has committed; SQLite in
WAL mode keeps committed transactions when the process dies. After the kill, the database holds
every acknowledged submission and, for every card, the last acknowledged draft (or a later one
whose answer never reached the student)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from tests.live.server import Browser, first, running, start, wait_until
from tests.live.test_realtime import open_lesson, send_text_card, signed_in

pytestmark = pytest.mark.slow
STUDENTS = 6


def test_sigkill_while_students_submit_loses_nothing_acknowledged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running(home, "--demo") as server:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "Crash lesson")
        send_text_card(teacher, lesson_id, "Write and submit")
        teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "Answers"})
        box_id = int(first(r'data-box="(\d+)"', teacher.get(f"/lessons/{lesson_id}/").text))

        students = []
        for index in range(STUDENTS):
            browser = signed_in(server, "student", index=index)
            page = browser.get(f"/lessons/{lesson_id}/").text
            card_id = int(first(r'data-card-id="(\d+)"', page))
            version = int(first(r'data-version="(\d+)"', browser.get(f"/cards/{card_id}/").text))
            students.append(
                {
                    "browser": browser,
                    "card": card_id,
                    "version": version,
                    "acked_text": None,
                    "sent_text": [],
                    "acked_submissions": 0,
                }
            )

        stop = threading.Event()

        def work(student: dict) -> None:
            browser: Browser = student["browser"]
            for i in range(1, 10_000):
                if stop.is_set():
                    return
                text = f"draft {i} of card {student['card']}"
                student["sent_text"].append(text)
                try:
                    saved = browser.post_json(
                        f"/cards/{student['card']}/autosave/",
                        {"version": student["version"], "fields": {"text": text}},
                    )
                    if saved.status_code != 200:
                        return
                    student["version"] = saved.json()["version"]
                    student["acked_text"] = text
                    if i % 3 == 0:
                        submitted = browser.post(f"/boxes/{box_id}/submit/", {"card": str(student["card"])})
                        if submitted.status_code == 302 and f"/lessons/{lesson_id}/" in submitted.headers["location"]:
                            student["acked_submissions"] += 1
                except httpx.HTTPError:
                    return

        threads = [threading.Thread(target=work, args=(s,)) for s in students]
        for thread in threads:
            thread.start()
        try:
            # The kill must land while every student is saving and has something acknowledged to
            # lose: wait until each has an acknowledged draft and two acknowledged submissions (so
            # one of them is already history); they keep writing until the kill.
            wait_until(
                lambda: all(s["acked_text"] is not None and s["acked_submissions"] >= 2 for s in students),
                60,
                lambda: (
                    "the load did not get going: (acknowledged draft, acknowledged submissions) per student: "
                    + str([(s["acked_text"] is not None, s["acked_submissions"]) for s in students])
                    + f"; workers still running: {sum(t.is_alive() for t in threads)}"
                ),
            )
        finally:
            server.kill()  # SIGKILL, mid-write
            stop.set()
            for thread in threads:
                thread.join(timeout=30)

    assert sum(s["acked_submissions"] for s in students) >= STUDENTS, "the load did not get going"
    database = sqlite3.connect(f"file:{home / 'classnote.sqlite3'}?mode=ro", uri=True)
    for student in students:
        text, version = database.execute(
            "SELECT text, version FROM cards_card WHERE id = ?", (student["card"],)
        ).fetchone()
        sent = student["sent_text"]
        assert text in sent[sent.index(student["acked_text"]) :], "an acknowledged draft was lost"
        assert version >= student["version"]
        owner = database.execute("SELECT owner_id FROM cards_card WHERE id = ?", (student["card"],)).fetchone()[0]
        stored = database.execute("SELECT COUNT(*) FROM lessons_submission WHERE student_id = ?", (owner,)).fetchone()[
            0
        ]
        assert stored >= student["acked_submissions"], "an acknowledged submission was lost"
        current = database.execute(
            "SELECT COUNT(*) FROM lessons_submission WHERE student_id = ? AND is_current", (owner,)
        ).fetchone()[0]
        assert current == 1
    database.close()

    # The service comes back on the same data directory.
    restarted = start(home)
    try:
        teacher = Browser(restarted.url)
        teacher.login_staff(*restarted.login_of("teacher"))
        page = teacher.get(f"/lessons/{lesson_id}/")
        assert page.status_code == 200
        assert page.text.count("data-submission=") >= STUDENTS
    finally:
        restarted.kill()
