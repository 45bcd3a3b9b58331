"""Hostile-use probe of the event streams through the scale-out path (issue 12, "Also"): findings 2-4
across app processes, through nginx (TLS, least_conn over the processes), PostgreSQL and Redis.

    a  cap per session: one pupil session opens 20 streams one after the other; every answer is 200,
       after settling at most REALTIME_STREAMS_PER_SESSION (4) stay open, and every closed one got
       `stream.closed`;
    b  burst: 300 stream opens from one session at once; no 5xx, at most 4 open at the end;
    c  replay under today's rules: a box shares answers with names, a pupil submits, the teacher stops
       sharing; a classmate's replay (?since=0, and Last-Event-ID: 0) has no `shared.updated` and not
       the pupil's name; a second box switched to anonymous sharing replays its answer without name;
    d  log out everywhere: a pupil with streams in two sessions (spread over the processes) posts
       /settings/logout-everywhere/; every stream ends with `access.ended`; prints the time from the
       POST's response to each stream's end (median, max); the old session's new stream is refused;
    e  cap per user: one pupil logs in 11 times, one stream per session; the oldest ends with
       `stream.closed` (REALTIME_STREAMS_PER_USER 10), the other 10 stay open;
    f  HTTP/2, as browsers connect: 20 streams of one session multiplexed on one connection (curl -Z);
       every answer 200 over HTTP/2, at most 4 without `stream.closed` when curl's time limit ends them.

One line per probe ("PASS"/"FAIL"); the exit status is 1 if any expectation failed. Which process holds
a stream is read from the response header X-Classnote-Upstream, which bench/scaleout.sh's nginx adds
to /events/ (shown as "-" without it).

Usage (from the repository root, with the run's certificate trusted):
    SSL_CERT_FILE=tls.crt .venv/bin/python bench/probe/streams.py https://127.0.0.1:PORT demo-logins.txt
        [--only abcdef] [--burst 300]
bench/scaleout.sh --probe runs it for each number of app processes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.live.server import Browser, Stream, first, wait_until  # noqa: E402

PER_SESSION, PER_USER = 4, 10  # the defaults of REALTIME_STREAMS_PER_SESSION / _PER_USER
SCHOOL = "港小学校"  # its first teacher teaches the first class: pupils 0-11
# Pupils of the first class by their place in demo-logins.txt. Pupil 0 is left alone: bench/scaleout.sh
# benchmarks /home/ with a session of theirs after this probe (d logs its pupil out everywhere).
PUPIL_A, PUPIL_B, SUBMITTER, READER, PUPIL_D, PUPIL_E, PUPIL_F = 4, 5, 1, 2, 3, 6, 7


class Probe:
    def __init__(self, base: str, logins: str) -> None:
        self.base = base
        rows = [line.rstrip("\n").split("\t") for line in open(logins, encoding="utf-8") if line.strip()]
        self.teachers = [(r[2], r[3]) for r in rows if r[1] == "teacher" and r[0] == SCHOOL]
        self.pupils = [(r[2], r[3]) for r in rows if r[1] == "student" and r[0] == SCHOOL]
        self.failed: list[str] = []
        self.streams: list[Stream] = []
        self.teacher = self.browser()
        self.teacher.login_staff(*self.teachers[0])
        self.class_id = int(first(r'href="/classes/(\d+)/"', self.teacher.get("/home/").text))
        self.lesson_id = self.open_lesson("Stream probe")

    # --- helpers --------------------------------------------------------------------------------
    def browser(self) -> Browser:
        b = Browser(self.base)
        b.client.headers["Referer"] = self.base + "/"
        return b

    def pupil(self, index: int) -> Browser:
        b = self.browser()
        b.login_student(*self.pupils[index])
        return b

    def open_lesson(self, title: str) -> int:
        self.teacher.get(f"/classes/{self.class_id}/")
        made = self.teacher.post(f"/classes/{self.class_id}/lessons/", {"title": title})
        assert made.status_code == 302, (made.status_code, made.text[:300])
        lesson_id = int(first(r"/lessons/(\d+)/", made.headers["location"]))
        self.teacher.get(f"/lessons/{lesson_id}/")
        return lesson_id

    def stream(self, browser: Browser, path: str | None = None, last_id: str | None = None) -> Stream:
        s = Stream(browser, path or f"/events/lesson/{self.lesson_id}/", last_id=last_id)
        self.streams.append(s)
        return s

    def result(self, name: str, ok: bool, text: str) -> None:
        print(f"[{name}] {'PASS' if ok else 'FAIL'} {text}", flush=True)
        if not ok:
            self.failed.append(name)

    def run(self, name: str, probe: Callable[[], tuple[bool, str]]) -> None:
        started = time.monotonic()
        try:
            ok, text = probe()
        except Exception as error:  # noqa: BLE001 - a probe that breaks is a failed probe, the others still run
            ok, text = False, f"{type(error).__name__}: {str(error)[:600]}"
        self.result(name, ok, f"{text} ({time.monotonic() - started:.1f} s)")

    def close_all(self) -> None:
        """Close the probe's streams, side by side (a close waits up to 5 s for its reader)."""
        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(Stream.close, self.streams))
        self.streams.clear()


def upstreams(streams: list[Stream]) -> str:
    counts = Counter(s.headers.get("x-classnote-upstream", "-") for s in streams if s.status is not None)
    return ", ".join(f"{where} {n}" for where, n in sorted(counts.items())) or "-"


def statuses(streams: list[Stream]) -> str:
    counts = Counter(
        str(s.status) if s.status is not None else f"no answer ({type(s.error).__name__})" for s in streams
    )
    return ", ".join(f"{n}x{status}" for status, n in sorted(counts.items()))


def kinds(stream: Stream) -> list[str]:
    return [e["event"] for e in stream.events]


def settle(streams: list[Stream], most: int, timeout: float) -> list[Stream]:
    """Wait until at most MOST streams are still open (or TIMEOUT), then a little longer, so that
    closings still on their way arrive; the streams open then."""
    deadline = time.monotonic() + timeout
    while sum(not s.ended for s in streams) > most and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)
    return [s for s in streams if not s.ended]


# --- the probes ----------------------------------------------------------------------------------
def probe_cap_per_session(p: Probe, opens: int = 20) -> tuple[bool, str]:
    pupil = p.pupil(PUPIL_A)
    streams = [p.stream(pupil) for _ in range(opens)]
    for s in streams:
        s.start()
        s.connected.wait(20)
    answered = statuses(streams)
    server_errors = [s for s in streams if s.status is None or s.status >= 500]
    still_open = settle(streams, PER_SESSION, 15)
    closed = [s for s in streams if s.ended]
    told = [s for s in closed if kinds(s)[-1:] == ["stream.closed"]]
    newest = all(not s.ended for s in streams[-len(still_open) :]) if still_open else True
    ok = not server_errors and len(still_open) <= PER_SESSION and len(told) == len(closed) and newest
    p.close_all()
    return ok, (
        f"cap per session: {opens} opens answered {answered} (upstreams: {upstreams(streams)}); after settling "
        f"{len(still_open)} open (the newest: {newest}), {len(closed)} closed, {len(told)} of them with stream.closed"
    )


def probe_burst(p: Probe, opens: int) -> tuple[bool, str]:
    pupil = p.pupil(PUPIL_B)
    streams = [p.stream(pupil) for _ in range(opens)]
    started = time.monotonic()
    for s in streams:
        s.start()
    for s in streams:
        s.connected.wait(max(1.0, started + 60 - time.monotonic()))
    answered_in = time.monotonic() - started
    server_errors = [s for s in streams if s.status is None or s.status >= 500]
    still_open = settle(streams, PER_SESSION, 60)
    closed = [s for s in streams if s.ended and s.status == 200]
    told = [s for s in closed if kinds(s)[-1:] == ["stream.closed"]]
    ok = not server_errors and len(still_open) <= PER_SESSION
    detail = ""
    if server_errors:
        sample = next((s for s in server_errors if s.body), server_errors[0])
        detail = f"; e.g. {sample.status} {sample.body[:200]!r} {sample.error!r}"
    p.close_all()
    return ok, (
        f"burst: {opens} concurrent opens answered {statuses(streams)} within {answered_in:.1f} s "
        f"(upstreams: {upstreams(streams)}); after settling {len(still_open)} open, {len(closed)} closed "
        f"({len(told)} with stream.closed){detail}"
    )


def _box_ids(p: Probe, lesson_id: int) -> list[int]:
    page = p.teacher.get(f"/lessons/{lesson_id}/").text
    return sorted({int(n) for n in re.findall(r"/boxes/(\d+)/settings/", page)})


def probe_replay(p: Probe) -> tuple[bool, str]:
    t = p.teacher
    lesson_id = p.open_lesson("Replay probe")
    path = f"/events/lesson/{lesson_id}/"
    submitter, reader = p.pupil(SUBMITTER), p.pupil(READER)
    live_submitter = p.stream(submitter, path).open()
    live_reader = p.stream(reader, path).open()

    # A card for the submitter: the teacher sends one to the class; their copy's id is in data.mine.
    made = t.post("/cards/", {"kind": "text", "title": "Probe answer", "lesson": str(lesson_id)})
    assert made.status_code == 302, (made.status_code, made.text[:300])
    card_id = int(first(r"/cards/(\d+)/", made.headers["location"]))
    t.get(f"/lessons/{lesson_id}/")
    assert t.post(f"/lessons/{lesson_id}/send/", {"cards": str(card_id), "to": "class"}).status_code == 302
    mine = live_submitter.wait_for("cards.received")[-1]["data"]["data"]["mine"]
    copy_id = mine[0]["id"]

    def box(title: str) -> int:
        before = _box_ids(p, lesson_id)
        assert t.post(f"/lessons/{lesson_id}/boxes/", {"title": title}).status_code == 302
        return max(set(_box_ids(p, lesson_id)) - set(before))

    def share(box_id: int, sharing: bool, anonymous: bool = False) -> None:
        data = {"sharing": "1" if sharing else "0", **({"anonymous": "1"} if anonymous else {})}
        assert t.post(f"/boxes/{box_id}/settings/", data).status_code == 302

    def submit(box_id: int) -> None:
        submitter.get(f"/lessons/{lesson_id}/")
        answer = submitter.post(f"/boxes/{box_id}/submit/", {"card": str(copy_id)})
        assert answer.status_code == 302, (answer.status_code, answer.text[:300])

    stopped, anonymised = box("Shared, then stopped"), box("Shared, then anonymous")
    for box_id in (stopped, anonymised):
        share(box_id, True)
        submit(box_id)
    live = live_reader.wait_for("shared.updated", count=2)
    name = live[0]["data"]["data"]["submission"]["student"]
    student_id = live[0]["data"]["data"]["submission"]["student_id"]
    assert name and student_id, live[0]
    share(stopped, False)
    share(anonymised, True, anonymous=True)
    live_reader.wait_for("sharing.changed", count=4)
    last_seq = int(live_reader.events[-1]["id"])

    findings, replays = [], []
    for label, since_path, last_id in (("?since=0", f"{path}?since=0", None), ("Last-Event-ID: 0", path, "0")):
        replay = p.stream(p.pupil(READER), since_path, last_id=last_id).open()
        wait_until(
            lambda r=replay: int(r.last_id or 0) >= last_seq, 10, lambda r=replay: f"replay stopped at {r.last_id}"
        )
        time.sleep(0.5)
        replay.close()
        shared = [e["data"]["data"] for e in replay.events if e["event"] == "shared.updated"]
        body = json.dumps(replay.events, ensure_ascii=False)
        of_stopped = [d for d in shared if d.get("box_id") == stopped]
        named = [d for d in shared if (d.get("submission") or {}).get("student_id") is not None]
        if of_stopped:
            findings.append(f"{label}: {len(of_stopped)} shared.updated of the box no longer shared")
        if named or name in body:
            findings.append(f"{label}: the submitter's name or id replayed")
        replays.append(f"{label} {len(replay.events)} events ({len(shared)} shared.updated, anonymous)")
    p.close_all()
    ok = not findings
    return ok, (
        f"replay after sharing stopped / turned anonymous: {'; '.join(replays)}"
        + (f"; FOUND: {'; '.join(findings)}" if findings else "; no shared answer of the stopped box, no name")
    )


def probe_logout_everywhere(p: Probe, sessions: int = 2, each: int = 3) -> tuple[bool, str]:
    devices = [p.pupil(PUPIL_D) for _ in range(sessions)]
    streams = [p.stream(device).open() for device in devices for _ in range(each)]
    time.sleep(0.5)
    assert not any(s.ended for s in streams), [kinds(s) for s in streams]
    poster = devices[0]
    poster.get("/settings/")
    posted = poster.post("/settings/logout-everywhere/")
    answered = time.monotonic()
    assert posted.status_code == 302, (posted.status_code, posted.text[:300])
    deadline = answered + 10
    while not all(s.ended for s in streams) and time.monotonic() < deadline:
        time.sleep(0.002)
    ended = [s for s in streams if s.ended]
    told = [s for s in ended if kinds(s)[-1:] == ["access.ended"]]
    ms = sorted(((s.ended_at or answered) - answered) * 1000 for s in ended)
    again = Stream(devices[1], f"/events/lesson/{p.lesson_id}/")
    again.start().connected.wait(10)
    again.close()
    refused = again.status is not None and again.status != 200 and again.status < 500
    ok = len(told) == len(streams) and refused
    timing = f"median {statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms" if ms else "none ended"
    p.close_all()
    return ok, (
        f"log out everywhere: {len(streams)} streams in {sessions} sessions (upstreams: {upstreams(streams)}); "
        f"{len(told)} ended with access.ended within 10 s, from the POST's response: {timing} "
        f"(negative: before the response arrived); the old session's new stream answered {again.status}"
    )


def probe_cap_per_user(p: Probe, sessions: int = PER_USER + 1) -> tuple[bool, str]:
    streams = []
    for _ in range(sessions):
        streams.append(p.stream(p.pupil(PUPIL_E)).open())
        time.sleep(0.05)
    still_open = settle(streams, PER_USER, 10)
    oldest_closed = streams[0].ended and kinds(streams[0])[-1:] == ["stream.closed"]
    others_open = all(not s.ended for s in streams[1:])
    ok = oldest_closed and others_open and len(still_open) <= PER_USER
    p.close_all()
    return ok, (
        f"cap per user: {sessions} sessions, one stream each (upstreams: {upstreams(streams)}); "
        f"{len(still_open)} open after settling; the oldest ended with stream.closed: {oldest_closed}; "
        f"the other {sessions - 1} still open: {others_open}"
    )


def probe_http2(p: Probe, opens: int = 20, seconds: int = 12) -> tuple[bool, str]:
    pupil = p.pupil(PUPIL_F)
    cookie = "; ".join(f"{name}={value}" for name, value in pupil.client.cookies.items())
    url = f"{p.base}/events/lesson/{p.lesson_id}/"
    trust = ["--cacert", os.environ["SSL_CERT_FILE"]] if os.environ.get("SSL_CERT_FILE") else ["-k"]
    with tempfile.TemporaryDirectory() as work:
        command = ["curl", "-s", "--http2", "-Z", "--parallel-max", str(opens), "--max-time", str(seconds), *trust]
        command += ["-H", f"Cookie: {cookie}", "-H", "Accept: text/event-stream"]
        command += ["-w", "%{http_code} %{http_version} %{num_connects}\n"]
        for n in range(opens):
            command += [url, "-o", f"{work}/{n}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
        bodies = [
            Path(work, str(n)).read_text(errors="replace") if Path(work, str(n)).exists() else "" for n in range(opens)
        ]
    answers = [line.split() for line in done.stdout.splitlines() if line.strip()]
    codes = Counter(f"{code} HTTP/{version}" for code, version, _ in answers)
    connects = sum(int(n) for _, _, n in answers)
    closed = sum("event: stream.closed" in body for body in bodies)
    open_to_the_end = sum("retry:" in body and "event: stream.closed" not in body for body in bodies)
    ok = (
        codes == Counter({"200 HTTP/2": opens}) and open_to_the_end <= PER_SESSION and closed + open_to_the_end == opens
    )
    return ok, (
        f"HTTP/2: {opens} streams of one session on {connects} connection(s) answered "
        f"{', '.join(f'{n}x{what}' for what, n in sorted(codes.items()))}; {closed} got stream.closed, "
        f"{open_to_the_end} stayed open until curl's {seconds} s limit"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="https://127.0.0.1:PORT (the proxy)")
    parser.add_argument("logins", help="demo-logins.txt of the demo data")
    parser.add_argument("--only", default="abcdef", help="which probes (letters), default abcdef")
    parser.add_argument("--burst", type=int, default=300, help="stream opens at once in probe b")
    args = parser.parse_args()
    p = Probe(args.base.rstrip("/"), args.logins)
    probes: dict[str, Callable[[], tuple[bool, str]]] = {
        "a": lambda: probe_cap_per_session(p),
        "b": lambda: probe_burst(p, args.burst),
        "c": lambda: probe_replay(p),
        "d": lambda: probe_logout_everywhere(p),
        "e": lambda: probe_cap_per_user(p),
        "f": lambda: probe_http2(p),
    }
    for name in args.only:
        p.run(name, probes[name])
        p.close_all()
    print(f"stream probe: {'FAILED ' + ''.join(p.failed) if p.failed else 'all passed'}", flush=True)
    return 1 if p.failed else 0


if __name__ == "__main__":
    sys.exit(main())
