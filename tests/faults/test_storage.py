"""A frozen file storage does not stop the lesson (issue 13, findings 2 and 5), end to end.

A real `classnote serve` (4 request threads) stores its files in a real SeaweedFS of this test's
own, which the test freezes (SIGSTOP to its process group: the kernel still accepts connections,
nothing answers). Before the storage guard, eight uploads to it held every request thread for
botocore's minutes, and the whole lesson stopped; a download answered 404 as if the file were gone.

While the storage is frozen, with more uploads in flight than the server has request threads:

* a pupil's lesson page, card autosave and submission, and the teacher's sending of a card (with
  its event on the pupil's stream) are answered, with success, well within ANSWERED_WITHIN (far
  above the storage deadlines set here: 1 s to connect, 3 s to read, one attempt);
* every upload is answered 503 "storage" (none hangs, none is a 500), and a download of a stored
  file is 503 with Retry-After, not 404;

and after the thaw, uploads and that download work again. Bounded: about 30-40 s here.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.files import samples
from tests.files.test_s3 import ACCESS_KEY, BUCKET, SECRET_KEY, S3Server, weed_server
from tests.live.server import Browser, Stream, first, running, wait_until
from tests.live.test_realtime import open_lesson, signed_in

pytestmark = pytest.mark.slow

UPLOADERS = 8  # twice the request threads of the server (WSGI_THREADS=4)
ANSWERED_WITHIN = 30  # seconds: "answered at all", far above the deadlines below
RECOVERED_WITHIN = 40  # seconds after the thaw: the circuit's pause, a probe, SeaweedFS catching up


@pytest.fixture
def weed(tmp_path: Path) -> Iterator[S3Server]:
    """A SeaweedFS of this test's own: freezing the session's server would stall other tests."""
    with weed_server(tmp_path / "weed") as server:
        yield server


def upload(browser: Browser, name: str = "report.pdf") -> httpx.Response:
    return browser.post("/files/", files={"file": (name, samples.pdf(), "application/pdf")})


def test_a_frozen_storage_leaves_the_lesson_running_and_says_503(weed: S3Server, tmp_path: Path) -> None:  # noqa: PLR0915
    env = {
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": weed.endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "S3_CONNECT_TIMEOUT": "1",
        "S3_READ_TIMEOUT": "3",
        "S3_MAX_ATTEMPTS": "1",
        "STORAGE_RETRY_SECONDS": "3",
        "WSGI_THREADS": "4",
    }
    with running(tmp_path / "home", "--demo", "--no-jobs", **env) as server:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "Lesson with a frozen storage")
        assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "Answers"}).status_code == 302
        made = teacher.post("/cards/", {"kind": "text", "title": "Question", "lesson": str(lesson_id)})
        card = int(first(r"/cards/(\d+)/", made.headers["location"]))
        teacher.get(f"/lessons/{lesson_id}/")
        assert teacher.post(f"/lessons/{lesson_id}/send/", {"cards": str(card), "to": "class"}).status_code == 302
        page = teacher.get(f"/lessons/{lesson_id}/").text
        box_id = int(first(r'data-box="(\d+)"', page))

        pupil = signed_in(server, "student", 0)
        lesson_page = pupil.get(f"/lessons/{lesson_id}/").text
        since = int(first(r'data-since="(\d+)"', lesson_page))
        own_card = int(first(r'data-card-id="(\d+)"', lesson_page))
        version = int(first(r'data-version="(\d+)"', pupil.get(f"/cards/{own_card}/").text))
        stored = upload(pupil, "before.pdf")
        assert stored.status_code == 201, stored.text[:300]
        file_id = stored.json()["id"]
        assert pupil.client.get(f"/files/{file_id}/").content == samples.pdf()
        stream = Stream(pupil, f"/events/lesson/{lesson_id}/?since={since}").open()
        uploaders = [signed_in(server, "student", index) for index in range(1, UPLOADERS + 1)]
        for browser in (pupil, teacher, *uploaders):
            browser.client.timeout = httpx.Timeout(ANSWERED_WITHIN)

        answers: dict[int, Any] = {}

        def try_upload(index: int) -> None:
            try:
                answers[index] = upload(uploaders[index])
            except httpx.HTTPError as error:  # no answer within ANSWERED_WITHIN
                answers[index] = error

        weed.signal(signal.SIGSTOP)
        try:
            threads = [threading.Thread(target=try_upload, args=(index,)) for index in range(UPLOADERS)]
            for thread in threads:
                thread.start()
            # The uploads reach the server first (they are answered in any order afterwards).
            threading.Event().wait(0.3)

            # The lesson goes on: page, autosave, submission, a card sent and its event on the stream.
            assert pupil.get(f"/lessons/{lesson_id}/").status_code == 200
            saved = pupil.post_json(f"/cards/{own_card}/autosave/", {"version": version, "fields": {"text": "mine"}})
            assert saved.status_code == 200, saved.text[:300]
            submitted = pupil.post(f"/boxes/{box_id}/submit/", {"card": str(own_card)})
            assert submitted.status_code == 302 and f"/lessons/{lesson_id}/" in submitted.headers["location"]
            made = teacher.post("/cards/", {"kind": "text", "title": "Question two", "lesson": str(lesson_id)})
            second = int(first(r"/cards/(\d+)/", made.headers["location"]))
            teacher.get(f"/lessons/{lesson_id}/")
            sent = teacher.post(f"/lessons/{lesson_id}/send/", {"cards": str(second), "to": "class"})
            assert sent.status_code == 302
            stream.wait_for("cards.received", count=1, timeout=ANSWERED_WITHIN)

            # A stored file is "temporarily unavailable", not "not found".
            download = pupil.client.get(f"/files/{file_id}/")
            assert download.status_code == 503, (download.status_code, download.text[:300])
            assert int(download.headers["retry-after"]) >= 1

            for thread in threads:
                thread.join(ANSWERED_WITHIN + 5)
            statuses = {
                index: answer.status_code if isinstance(answer, httpx.Response) else repr(answer)
                for index, answer in sorted(answers.items())
            }
            assert statuses == dict.fromkeys(range(UPLOADERS), 503), statuses
            assert all(answer.json()["unavailable"] == "storage" for answer in answers.values())
        finally:
            weed.signal(signal.SIGCONT)
            thawed = time.monotonic()
            stream.close()

        # After the thaw: the circuit's pause, one probe, and files work again.
        recovered: list[int] = []

        def uploads_again() -> bool:
            answer = upload(pupil, "after.pdf")
            recovered.append(answer.status_code)
            return answer.status_code == 201

        wait_until(uploads_again, RECOVERED_WITHIN, lambda: f"uploads after the thaw answered {recovered}")
        print(f"uploads worked again {time.monotonic() - thawed:.1f} s after the thaw")  # noqa: T201
        assert set(recovered) <= {201, 503}
        assert pupil.client.get(f"/files/{file_id}/").content == samples.pdf()
