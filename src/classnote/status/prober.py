"""The end-to-end checks of the status page: one round exercises every component once, over real
HTTP against a base URL, as a user would (docs/operations.md, *Probes*).

* sign-in: the probe teacher logs in through the staff login form, the probe pupil through the
  pupils' form (CSRF token from the page, cookies kept), both as a browser does;
* lessons: the teacher opens a lesson and makes a text card in it; the pupil opens the lesson page
  and its event stream (``/events/lesson/<id>/?since=``, Server-Sent Events, as lesson.js does);
  the teacher sends the card to the class; the latency is the time from the send until the
  ``cards.received`` event is read on the pupil's stream (bounded wait);
* files: the teacher uploads a small PNG through the card editor's upload endpoint (``/files/``)
  and fetches it back: the bytes must be a PNG of the size the upload answered;
* API: ``GET /api/me`` with the probe's API token;
* background jobs: not over HTTP: the caller passes ``jobs``, a check that enqueues a task and
  waits for the consumer to run it (classnote.status.tasks), when it shares the job queue;
* backups: no check yet (issue 16): no result, so the component is shown as unknown.

Each component's ``Outcome``: ``answered`` (an HTTP answer came back at all, a 503 included),
``ok`` (every step succeeded, within the component's ``objective_ms``), ``latency_ms``,
``failed_step`` (a short step name) and ``detail`` (a status code or an exception class — never a
body, a name or an address). Every request and wait is bounded by ``timeout``.

This module does HTTP only: it neither reads nor writes the database (classnote.status.recording
stores the outcomes), so it runs the same in ``classnote serve``'s job consumer and in
``classnote probe`` on another machine.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import httpx

from classnote.status.components import API, COMPONENTS, FILES, JOBS, LESSONS, SIGN_IN
from classnote.status.probe_tenant import Credentials

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STREAM_SINCE = re.compile(r'data-stream="(/events/lesson/\d+/)" data-since="(\d+)"')
LESSON_PATH = re.compile(r"/lessons/(\d+)/$")
# A 1×1 PNG: small enough to cost nothing, a real image the upload validates and re-encodes.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DEFAULT_TIMEOUT = 10.0


@dataclass
class Outcome:
    component: str
    answered: bool
    ok: bool
    latency_ms: int | None
    failed_step: str = ""
    detail: str = ""
    started: float = 0.0  # time.time() when the component's probe began


class StepFailed(Exception):
    def __init__(self, step: str, detail: str, *, answered: bool) -> None:
        super().__init__(step)
        self.step, self.detail, self.answered = step, detail, answered


class Session:
    """A cookie jar that reads the CSRF token from the pages it gets, as a browser would; every
    request bounded by TIMEOUT. Records whether any HTTP answer came back (``answered``)."""

    def __init__(self, base_url: str, timeout: float, verify: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.base_url, follow_redirects=False, timeout=httpx.Timeout(timeout), verify=verify
        )
        self.csrf = ""
        self.answered = False

    def close(self) -> None:
        self.client.close()

    def request(self, step: str, method: str, path: str, expect: tuple[int, ...], **kwargs: object) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            raise StepFailed(step, type(error).__name__, answered=self.answered) from error
        self.answered = True
        if response.status_code not in expect:
            raise StepFailed(step, f"HTTP {response.status_code}", answered=True)
        if "text/html" in response.headers.get("content-type", ""):
            match = CSRF_FIELD.search(response.text)
            if match:
                self.csrf = match.group(1)
        return response

    def form(self, step: str, path: str, data: dict[str, str], expect: tuple[int, ...] = (302,)) -> httpx.Response:
        return self.request(
            step,
            "POST",
            path,
            expect,
            data={"csrfmiddlewaretoken": self.csrf, **data},
            headers={"Referer": self.base_url + path},
        )


class Round:
    """One round of probes against BASE_URL with CREDENTIALS."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        jobs: Callable[[float], None] | None = None,
        verify: bool = True,
    ) -> None:
        self.base_url, self.credentials, self.timeout, self.jobs = base_url, credentials, timeout, jobs
        self.verify = verify
        self.teacher = Session(base_url, timeout, verify)
        self.pupil = Session(base_url, timeout, verify)
        self.signed_in = False
        self.sign_in_answered = False  # whether the service answered the sign-in (for what needs it)

    def run(self) -> list[Outcome]:
        try:
            outcomes = [self._measure(SIGN_IN, self._sign_in)]
            self.sign_in_answered = outcomes[0].answered
            outcomes.append(self._measure(LESSONS, self._lessons))
            outcomes.append(self._measure(FILES, self._files))
            outcomes.append(self._measure(API, self._api))
            if self.jobs is not None:
                outcomes.append(self._measure(JOBS, self._jobs))
            self._sign_out()
            return outcomes
        finally:
            self.teacher.close()
            self.pupil.close()

    def _measure(self, component: str, probe: Callable[[], float | None]) -> Outcome:
        """Run PROBE (it returns its own latency in seconds, or None for the time it took)."""
        self.teacher.answered = self.pupil.answered = False
        started, began = time.time(), time.perf_counter()
        try:
            latency = probe()
        except StepFailed as failed:
            took = round((time.perf_counter() - began) * 1000)
            return Outcome(component, failed.answered, False, took, failed.step, failed.detail[:200], started)
        except Exception as error:  # a probe never takes its prober down: recorded as a failure
            took = round((time.perf_counter() - began) * 1000)
            answered = self.teacher.answered or self.pupil.answered
            return Outcome(component, answered, False, took, "unexpected", type(error).__name__, started)
        took = round(((time.perf_counter() - began) if latency is None else latency) * 1000)
        objective = COMPONENTS[component].objective_ms
        slow = bool(objective) and took > objective
        return Outcome(component, True, not slow, took, "objective" if slow else "", "", started)

    # --- the components --------------------------------------------------------------------------

    def _sign_in(self) -> None:
        c = self.credentials
        self.teacher.request("login_page", "GET", "/accounts/login/", (200,))
        signed = {"login": c.teacher_login, "password": c.teacher_password}
        done = self.teacher.form("login", "/accounts/login/", signed)
        if not _lands_home(done):  # a second-factor or other step in between: not signed in
            raise StepFailed("login", "redirect", answered=True)
        self.pupil.request("pupil_login_page", "GET", "/login/student/", (200,))
        done = self.pupil.form(
            "pupil_login",
            "/login/student/",
            {"school_code": c.school_code, "student_number": c.pupil_number, "password": c.pupil_password},
        )
        if not _lands_home(done):
            raise StepFailed("pupil_login", "redirect", answered=True)
        self.signed_in = True

    def _require_sign_in(self) -> None:
        if not self.signed_in:
            raise StepFailed("login", "not signed in", answered=self.sign_in_answered)

    def _lessons(self) -> float:
        self._require_sign_in()
        c, teacher, pupil = self.credentials, self.teacher, self.pupil
        teacher.request("class_page", "GET", f"/classes/{c.class_id}/", (200,))
        opened = teacher.form("open_lesson", f"/classes/{c.class_id}/lessons/", {"title": "Status probe"})
        match = LESSON_PATH.search(opened.headers.get("location", ""))
        if match is None:
            raise StepFailed("open_lesson", "redirect", answered=True)
        lesson_id = int(match.group(1))
        teacher.request("lesson_page", "GET", f"/lessons/{lesson_id}/", (200,))
        made = teacher.request(
            "card",
            "POST",
            "/cards/",
            (201,),
            data={"csrfmiddlewaretoken": teacher.csrf, "kind": "text", "title": "Probe", "lesson": str(lesson_id)},
            headers={"Accept": "application/json", "Referer": f"{teacher.base_url}/lessons/{lesson_id}/"},
        )
        card_id = _json_int(made, "id", "card")
        page = pupil.request("pupil_lesson_page", "GET", f"/lessons/{lesson_id}/", (200,))
        found = STREAM_SINCE.search(page.text)
        if found is None:
            raise StepFailed("pupil_lesson_page", "no stream", answered=True)
        try:
            with _listening(pupil, f"{found.group(1)}?since={found.group(2)}", "cards.received", self.timeout) as heard:
                sent_at = time.perf_counter()
                teacher.form(
                    "send", f"/lessons/{lesson_id}/send/", {"cards": str(card_id), "to": "class"}, expect=(302,)
                )
                if not heard.wait(self.timeout):
                    raise StepFailed("delivery", heard.why or "timeout", answered=True)
                latency = heard.at - sent_at
        finally:
            # The lesson ends with the round (a failure here does not fail the delivery measured).
            with suppress(StepFailed):
                teacher.form("close", f"/lessons/{lesson_id}/settings/", {"close": "1"})
        return latency

    def _files(self) -> None:
        self._require_sign_in()
        teacher = self.teacher
        uploaded = teacher.request(
            "upload",
            "POST",
            "/files/",
            (201,),
            files={"file": ("probe.png", PNG, "image/png")},
            headers={"X-CSRFToken": teacher.csrf, "Referer": teacher.base_url + "/home/"},
        )
        try:
            file_id, size = str(uploaded.json()["id"]), int(uploaded.json()["size"])
        except (ValueError, KeyError, TypeError) as error:
            raise StepFailed("upload", "answer", answered=True) from error
        fetched = teacher.request("download", "GET", f"/files/{file_id}/", (200,))
        if len(fetched.content) != size or not fetched.content.startswith(PNG_MAGIC):
            raise StepFailed("download", "content differs", answered=True)

    def _api(self) -> None:
        session = Session(self.base_url, self.timeout, self.verify)
        try:
            answer = session.request(
                "api_me", "GET", "/api/me", (200,), headers={"Authorization": f"Bearer {self.credentials.api_token}"}
            )
            if "id" not in answer.json():
                raise StepFailed("api_me", "answer", answered=True)
        except ValueError as error:
            raise StepFailed("api_me", "answer", answered=True) from error
        finally:
            session.close()

    def _jobs(self) -> None:
        if self.jobs is None:
            return
        try:
            self.jobs(self.timeout)
        except TimeoutError as error:
            raise StepFailed("job", "timeout", answered=False) from error
        except Exception as error:  # the queue itself failed (its database, Redis)
            raise StepFailed("enqueue", type(error).__name__, answered=False) from error

    def _sign_out(self) -> None:
        """Both sessions end (their rows go), so rounds do not pile up sessions."""
        for session in (self.teacher, self.pupil):
            if session.csrf:
                with suppress(StepFailed):
                    session.form("logout", "/accounts/logout/", {})


def _lands_home(response: httpx.Response) -> bool:
    """Signed in: redirected onwards, not to another step of the login (second factor, password)."""
    location = response.headers.get("location", "")
    return bool(location) and "/accounts/" not in location and "/login" not in location


def _json_int(response: httpx.Response, key: str, step: str) -> int:
    try:
        return int(response.json()[key])
    except (ValueError, KeyError, TypeError) as error:
        raise StepFailed(step, "answer", answered=True) from error


class Heard:
    """What the stream reader saw: ``at`` (perf_counter) when the awaited event arrived, else why not."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        self.done = threading.Event()
        self.at = 0.0
        self.why = ""
        self.response: httpx.Response | None = None

    def wait(self, timeout: float) -> bool:
        self.done.wait(timeout)
        return self.at > 0

    def stop(self) -> None:
        response = self.response
        if response is not None:
            with suppress(Exception):  # the reader's thread is inside it: it ends with an error
                response.close()


@contextmanager
def _listening(session: Session, path: str, kind: str, timeout: float) -> Iterator[Heard]:
    """Read PATH's event stream on SESSION in a thread until an event of KIND arrives (its arrival
    time in ``heard.at``); yields once the stream is open. Bounded: every read gives up after
    TIMEOUT, and on leaving, the stream is closed under the reader."""
    heard = Heard()

    def read() -> None:
        try:
            with session.client.stream(
                "GET", path, headers={"Accept": "text/event-stream"}, timeout=httpx.Timeout(timeout)
            ) as response:
                heard.response = response
                if response.status_code != 200:
                    heard.why = f"HTTP {response.status_code}"
                    return
                heard.connected.set()
                name = ""
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line == "":
                        if name == kind:
                            heard.at = time.perf_counter()
                            return
                        name = ""
                heard.why = "stream ended"
        except Exception as error:  # noqa: BLE001 - whatever ends the stream is the failure recorded
            heard.why = heard.why or type(error).__name__
        finally:
            heard.connected.set()
            heard.done.set()

    thread = threading.Thread(target=read, name="status-probe-stream", daemon=True)
    thread.start()
    if not heard.connected.wait(timeout) or heard.done.is_set():
        heard.stop()
        raise StepFailed("stream", heard.why or "timeout", answered=session.answered or bool(heard.why[:4] == "HTTP"))
    try:
        yield heard
    finally:
        heard.stop()
        thread.join(timeout)


def run_round(
    base_url: str,
    credentials: Credentials,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: Callable[[float], None] | None = None,
    verify: bool = True,
) -> list[Outcome]:
    """Every component once (backups: no result, see the module's docstring)."""
    return Round(base_url, credentials, timeout=timeout, jobs=jobs, verify=verify).run()
