"""The three scenarios of issue 6, played by one asyncio process: *bell* (K classes arrive, the
teachers send a card, everyone answers), *broadcast* (one card to a whole school gathered in one
class) and *steady* (a lesson in progress). See README.md for what each does and reports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from bench.classroom.client import (
    EventStream,
    LoopLag,
    ProcessSampler,
    Stats,
    csrf_of,
    ms,
    new_client,
    pct,
    since_of,
)

GRACE = 10.0  # after the steady window: how long students wait for events still on their way


@dataclass
class Send:
    """One teacher's send of a card to the class, and when each student's stream had it."""

    started: float  # the send request leaves the client
    expected: int
    acked: float = 0.0
    ok: bool = False
    received: dict[str, float] = field(default_factory=dict)  # student number -> first arrival


@dataclass
class ClassRun:
    info: dict[str, Any]  # from setup_data: lesson_id, box_id, card_id, teacher, students
    ready: int = 0
    finished: int = 0
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    first_sent: asyncio.Event = field(default_factory=asyncio.Event)
    sends: list[Send] = field(default_factory=list)
    submitters: set[int] = field(default_factory=set)  # seen by the teacher's stream
    box_full_after: float | None = None

    @property
    def size(self) -> int:
        return len(self.info["students"])

    def one_ready(self) -> None:
        self.ready += 1
        if self.ready >= self.size:
            self.all_ready.set()


@dataclass
class Run:
    url: str
    stats: Stats
    args: argparse.Namespace
    password: str
    school_code: str
    deadline: float
    rng: random.Random
    window: asyncio.Event = field(default_factory=asyncio.Event)  # steady: the window has begun
    t0: float = 0.0
    t1: float = 0.0


class Pupil:
    """One student: own cookie jar, the lesson page, an event stream, a copy of each card sent."""

    def __init__(self, run: Run, cls: ClassRun, info: dict[str, str], use_qr: bool, arrive_after: float) -> None:
        self.run, self.cls, self.number, self.token = run, cls, info["number"], info["token"]
        self.use_qr, self.arrive_after = use_qr, arrive_after
        self.client: httpx.AsyncClient | None = None
        self.stream: EventStream | None = None
        self.csrf = ""
        self.card_id: int | None = None
        self.version = 1
        self.first_card_at: float | None = None
        self.cards = 0
        self.card_came = asyncio.Event()
        self.acked = 0  # submissions the server acknowledged (302)
        self.receipts = 0  # own submission.added seen on the stream
        self.receipt_came = asyncio.Event()
        self.completed = False
        self._ready_counted = False

    # --- what the stream brings ---

    def on_event(self, kind: str, data: str, t: float) -> None:
        if kind == "cards.received":
            mine = json.loads(data).get("data", {}).get("mine") or []
            if mine:
                self.card_id, self.version = int(mine[0]["id"]), 1
            self.cards += 1
            if self.first_card_at is None:
                self.first_card_at = t
            if self.cls.sends:
                self.cls.sends[-1].received.setdefault(self.number, t)
            self.card_came.set()
        elif kind == "submission.added":
            self.receipts += 1
            self.receipt_came.set()

    async def wait_cards(self, n: int, until: float) -> bool:
        while self.cards < n:
            self.card_came.clear()
            try:
                await asyncio.wait_for(self.card_came.wait(), timeout=max(0.05, until - time.monotonic()))
            except TimeoutError:
                return self.cards >= n
        return True

    async def wait_receipts(self, until: float) -> bool:
        while self.receipts < self.acked:
            self.receipt_came.clear()
            try:
                await asyncio.wait_for(self.receipt_came.wait(), timeout=max(0.05, until - time.monotonic()))
            except TimeoutError:
                return self.receipts >= self.acked
        return True

    # --- requests ---

    def _ready(self) -> None:
        if not self._ready_counted:
            self._ready_counted = True
            self.cls.one_ready()  # a student who never got a stream must not hold the send forever

    async def arrive(self, client: httpx.AsyncClient) -> bool:
        """Log in (QR card or password), open the lesson page and its event stream."""
        run, stats, url = self.run, self.run.stats, self.run.url
        self.client = client
        if self.use_qr:
            kind, path, form = "login_qr", "/login/card/", {"token": self.token}
        else:
            kind, path = "login_password", "/login/student/"
            form = {"school_code": run.school_code, "student_number": self.number, "password": run.password}
        page = await stats.request(client, "login_page", "GET", path, (200,))
        if page is None:
            return False
        done = await stats.request(
            client,
            kind,
            "POST",
            path,
            (302,),
            data={"csrfmiddlewaretoken": csrf_of(page.text), **form},
            headers={"Referer": url + path},
        )
        if done is None:
            return False
        lesson_id = self.cls.info["lesson_id"]
        lesson = await stats.request(client, "lesson_page", "GET", f"/lessons/{lesson_id}/", (200,))
        if lesson is None:
            return False
        self.csrf = csrf_of(lesson.text)
        path = f"/events/lesson/{lesson_id}/" + since_of(lesson.text)
        self.stream = EventStream(client, path, self.on_event, stats, run.deadline)
        await self.stream.connected.wait()
        self._ready()
        return not self.stream.failed

    async def lesson_page(self) -> bool:
        assert self.client is not None
        lesson_id = self.cls.info["lesson_id"]
        page = await self.run.stats.request(self.client, "lesson_page", "GET", f"/lessons/{lesson_id}/", (200,))
        return page is not None

    async def autosave(self, text: str) -> bool:
        assert self.client is not None and self.card_id is not None
        card_id, lesson_id = self.card_id, self.cls.info["lesson_id"]
        saved = await self.run.stats.request(
            self.client,
            "autosave",
            "POST",
            f"/cards/{card_id}/autosave/",
            (200,),
            keep=(409,),  # a retry after a save that did land: the page takes the server's version
            json={"version": self.version, "fields": {"text": text}},
            headers={"X-CSRFToken": self.csrf, "Referer": self.run.url + f"/lessons/{lesson_id}/"},
        )
        if saved is None:
            return False
        with contextlib.suppress(ValueError, KeyError, TypeError):
            if self.card_id == card_id:  # not replaced by a newer card meanwhile
                self.version = int(saved.json()["version"])
        return True

    async def submit(self) -> bool:
        assert self.client is not None and self.card_id is not None
        lesson_id = self.cls.info["lesson_id"]
        done = await self.run.stats.request(
            self.client,
            "submit",
            "POST",
            f"/boxes/{self.cls.info['box_id']}/submit/",
            (302,),
            data={"csrfmiddlewaretoken": self.csrf, "card": str(self.card_id)},
            headers={"Referer": self.run.url + f"/lessons/{lesson_id}/"},
        )
        if done is not None:
            self.acked += 1
        return done is not None

    # --- per scenario ---

    async def play(self, scenario: str) -> None:
        run = self.run
        await asyncio.sleep(self.arrive_after)
        async with new_client(run.url) as client:
            try:
                if not await self.arrive(client):
                    return
                if not await self.wait_cards(1, run.deadline):
                    return
                if scenario == "steady":
                    await self._steady()
                else:
                    # bell: two autosaves and a submit; broadcast: one autosave (the copy is theirs)
                    await self._answer(autosaves=2 if scenario == "bell" else 1, submit=scenario == "bell")
            finally:
                self._ready()
                self.cls.finished += 1
                if self.stream is not None:
                    await self.stream.close()

    async def _answer(self, autosaves: int, submit: bool) -> None:
        """The answers at sorted uniform moments within [1, --answer-seconds] after the card came."""
        run = self.run
        assert self.first_card_at is not None
        moments = sorted(run.rng.uniform(1.0, run.args.answer_seconds) for _ in range(autosaves + int(submit)))
        for n, moment in enumerate(moments):
            await asyncio.sleep(max(0.0, self.first_card_at + moment - time.monotonic()))
            done = await self.autosave(f"My answer, draft {n + 1}") if n < autosaves else await self.submit()
            if not done:
                return
        if submit and not await self.wait_receipts(run.deadline):
            return
        self.completed = True

    async def _steady(self) -> None:
        """~1 request every 5 s (uniform 2.5–7.5 s apart): 70 % autosave, 20 % lesson page, 10 % submit."""
        run = self.run
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.window.wait(), timeout=max(0.05, run.deadline - time.monotonic()))
        if not run.window.is_set():
            return
        n = 0
        while True:
            at = time.monotonic() + run.rng.uniform(2.5, 7.5)
            if at >= run.t1:
                break
            await asyncio.sleep(at - time.monotonic())
            n += 1
            pick = run.rng.random()
            if pick < 0.7:
                done = await self.autosave(f"Working on it, edit {n}")
            elif pick < 0.9:
                done = await self.lesson_page()
            else:
                done = await self.submit()
            if not done:
                return
        # The screen stays open to the end of the window; then the events still on their way (the
        # last card sent, the own receipts) are given GRACE seconds.
        await asyncio.sleep(max(0.0, run.t1 - time.monotonic()))
        until = min(run.deadline, run.t1 + GRACE)
        await self.wait_cards(len(self.cls.sends), until)
        await self.wait_receipts(until)
        self.completed = True


async def send_card(run: Run, cls: ClassRun, client: httpx.AsyncClient, csrf: str) -> Send:
    lesson_id = cls.info["lesson_id"]
    send = Send(started=time.monotonic(), expected=cls.size)
    cls.sends.append(send)
    sent = await run.stats.request(
        client,
        "send_card",
        "POST",
        f"/lessons/{lesson_id}/send/",
        (302,),
        data={"csrfmiddlewaretoken": csrf, "cards": str(cls.info["card_id"]), "to": "class"},
        headers={"Referer": run.url + f"/lessons/{lesson_id}/"},
    )
    send.acked, send.ok = time.monotonic(), sent is not None
    return send


async def teacher(run: Run, cls: ClassRun, scenario: str) -> None:
    """Log in, open the lesson and its stream, send the card when the class is in (or the ramp plus
    30 s is over); bell: watch the box fill; steady: reload every 10 s, a new card every 20 s."""
    stats, url, lesson_id = run.stats, run.url, cls.info["lesson_id"]

    def on_event(kind: str, data: str, t: float) -> None:
        if kind == "submission.added":
            with contextlib.suppress(ValueError, KeyError, TypeError):
                cls.submitters.add(int(json.loads(data)["data"]["submission"]["student_id"]))
            if len(cls.submitters) >= cls.size and cls.box_full_after is None and cls.sends:
                cls.box_full_after = t - cls.sends[0].acked

    # Teachers are in the room before the bell: each arrives at a random moment within the first
    # quarter of the ramp (at most 15 s), not all in the same instant at its start.
    await asyncio.sleep(run.rng.uniform(0, min(15.0, run.args.ramp / 4)))
    async with new_client(url) as client:
        stream = None
        try:
            page = await stats.request(client, "login_page", "GET", "/accounts/login/", (200,))
            if page is None:
                return
            done = await stats.request(
                client,
                "login_staff",
                "POST",
                "/accounts/login/",
                (302,),
                data={
                    "csrfmiddlewaretoken": csrf_of(page.text),
                    "login": cls.info["teacher"],
                    "password": run.password,
                },
                headers={"Referer": url + "/accounts/login/"},
            )
            if done is None:
                return
            lesson = await stats.request(client, "teacher_lesson_page", "GET", f"/lessons/{lesson_id}/", (200,))
            if lesson is None:
                return
            csrf = csrf_of(lesson.text)
            path = f"/events/lesson/{lesson_id}/" + since_of(lesson.text)
            stream = EventStream(client, path, on_event, stats, run.deadline)
            await stream.connected.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cls.all_ready.wait(), timeout=run.args.ramp + 30)
            first = await send_card(run, cls, client, csrf)
            cls.first_sent.set()
            if not first.ok:
                return
            if scenario == "bell":
                # Watch the box fill: the stream counts submissions, the page is reloaded now and then.
                while time.monotonic() < run.deadline and cls.box_full_after is None and cls.finished < cls.size:
                    await asyncio.sleep(run.args.watch_seconds)
                    await stats.request(client, "teacher_watch", "GET", f"/lessons/{lesson_id}/", (200,))
            elif scenario == "steady":
                await steady_teacher(run, cls, client, csrf)
        finally:
            cls.first_sent.set()
            if stream is not None:
                await stream.close()


async def steady_teacher(run: Run, cls: ClassRun, client: httpx.AsyncClient, csrf: str) -> None:
    await run.window.wait()
    lesson_id = cls.info["lesson_id"]
    # Each teacher on their own phase, so K teachers do not act in the same second.
    # (In a window shorter than 20 s, the one send falls within its first three quarters.)
    reload_at = run.rng.uniform(0, run.args.watch_seconds)
    send_at = run.rng.uniform(0, min(20.0, 0.75 * run.args.steady_seconds))
    plan = [(run.t0 + reload_at + i * run.args.watch_seconds, "reload") for i in range(10_000)]
    plan = [p for p in plan if p[0] < run.t1]
    plan += [(t, "send") for t in (run.t0 + send_at + i * 20 for i in range(10_000)) if t < run.t1]
    for at, what in sorted(plan):
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        if what == "reload":
            await run.stats.request(client, "teacher_watch", "GET", f"/lessons/{lesson_id}/", (200,))
        else:
            await send_card(run, cls, client, csrf)


# --- one run -------------------------------------------------------------------------------------


def delivery_of(sends: list[Send]) -> dict[str, Any]:
    """From the moment each send request left the client to each student's stream having it."""
    lat = [t - s.started for s in sends for t in s.received.values()]
    after_ack = [t - s.acked for s in sends if s.acked for t in s.received.values()]
    return {
        "sends": len(sends),
        "p50_ms": ms(pct(lat, 50)),
        "p95_ms": ms(pct(lat, 95)),
        "p99_ms": ms(pct(lat, 99)),
        "max_ms": ms(max(lat) if lat else None),
        "last_after_ack_ms": ms(max(after_ack) if after_ack else None),
        "before_ack": sum(1 for x in after_ack if x <= 0),
        "received": len(lat),
        "expected": sum(s.expected for s in sends),
        "send_request_p50_ms": ms(pct([s.acked - s.started for s in sends if s.ok], 50)),
        "send_request_max_ms": ms(max((s.acked - s.started for s in sends if s.ok), default=None)),
    }


async def run_scenario(
    scenario: str, url: str, data: dict[str, Any], args: argparse.Namespace, pids: list[int]
) -> dict[str, Any]:
    stats = Stats()
    started = time.monotonic()
    bound = args.max_seconds
    if scenario == "steady":
        bound = max(bound, args.ramp + 60 + args.steady_seconds + GRACE + 30)
    run = Run(
        url=url,
        stats=stats,
        args=args,
        password=data["password"],
        school_code=data["school_code"],
        deadline=started + bound,
        rng=random.Random(args.seed),  # noqa: S311 - arrival and think times, not secrets
    )
    classes = [ClassRun(info) for info in data["classes"]]
    pupils = [
        Pupil(run, cls, info, run.rng.random() < args.qr_share, run.rng.uniform(0, args.ramp))
        for cls in classes
        for info in cls.info["students"]
    ]
    sampler = ProcessSampler(pids)
    cpu0, _ = sampler.read()
    client_cpu0 = sum(os.times()[:2])
    sampler.start()
    client_sampler = ProcessSampler([os.getpid()])
    client_sampler.start()
    lag = LoopLag()
    lag.start()
    killed: dict[str, Any] = {}
    helpers = []
    if args.kill_pid:
        helpers.append(asyncio.create_task(kill_later(args.kill_pid, args.kill_after, started, killed)))
    steady_marks: dict[str, float] = {}
    if scenario == "steady":
        helpers.append(asyncio.create_task(open_window(run, classes, sampler, steady_marks)))
    tasks = [teacher(run, cls, scenario) for cls in classes] + [p.play(scenario) for p in pupils]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=bound + 15)
        timed_out = False
    except TimeoutError:
        timed_out = True
    took = time.monotonic() - started
    for helper in helpers:
        helper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await helper
    await sampler.stop()
    await client_sampler.stop()
    client_lag = await lag.stop()
    cpu1, _ = sampler.read()

    # What the students' streams missed: the card (every send of the class, steady: of the window)
    # and their own submission.added for every acknowledged submit.
    if scenario == "steady" and run.t1:
        t0, t1, seconds = run.t0, run.t1, run.t1 - run.t0
        sends = [s for cls in classes for s in cls.sends if t0 <= s.started < t1]
        cpu_s = steady_marks.get("cpu1", cpu1) - steady_marks.get("cpu0", cpu0)
    else:
        t0, t1, seconds = started, float("inf"), took
        sends = [s for cls in classes for s in cls.sends]
        cpu_s = cpu1 - cpu0
    counted = {id(cls): [s for s in cls.sends if t0 <= s.started < t1] for cls in classes}
    pupil_rows = []
    lost = missed_students = no_stream = 0
    for p in pupils:
        opened = p.stream is not None and p.stream.opened
        card_missing = sum(1 for s in counted[id(p.cls)] if s.ok and p.number not in s.received)
        receipts_missing = max(0, p.acked - p.receipts)
        if not opened:
            no_stream += 1
        elif card_missing or receipts_missing:
            missed_students += 1
            lost += card_missing + receipts_missing
        pupil_rows.append((p.number, p.acked, p.receipts, card_missing, receipts_missing, opened))
    students = len(pupils)
    requests = stats.count(t0, t1)
    result: dict[str, Any] = {
        "scenario": scenario,
        "classes": len(classes),
        "students": students,
        "ramp_s": args.ramp,
        "qr_share": args.qr_share,
        "answer_seconds": args.answer_seconds,
        "watch_seconds": args.watch_seconds,
        "duration_s": round(took, 1),
        "measured_s": round(seconds, 1),
        "timed_out": timed_out,
        "requests": requests,
        "req_per_s": round(requests / seconds, 1) if seconds else None,
        "errors": stats.errors(t0, t1),
        "errors_whole_run": stats.errors(),
        "error_samples": stats.error_samples,
        "completed_students": sum(1 for p in pupils if p.completed),
        "lost_events": lost,
        "students_missed_event": missed_students,
        "students_without_stream": no_stream,
        "reconnects": stats.reconnects,
        "duplicate_events_ignored": stats.duplicates,
        "per_request": stats.table(seconds, t0, t1),
        "delivery": delivery_of(sends),
        "server": {
            "pids": pids,
            "cpu_s": round(cpu_s, 1),
            "cpu_share_of_one_core": round(cpu_s / seconds, 2) if seconds else None,
            "peak_cores_2s": sampler.peak_cores(t0=t0, t1=t1),
            "peak_rss_mib": round(sampler.peak_rss_between(t0, t1) / 2**20, 1),
        },
        "argon2_hash_ms": data.get("argon2_hash_ms"),
        "client_cpu_s": round(sum(os.times()[:2]) - client_cpu0, 1),
        "client_peak_cores_2s": client_sampler.peak_cores(),
        "client_loop_lag": client_lag,
        "acked_submissions": {number: acked for number, acked, *_ in pupil_rows if acked},
        "missed": [
            {"student": number, "cards": c, "receipts": r}
            for number, _a, _r, c, r, opened in pupil_rows
            if opened and (c or r)
        ][:50],
    }
    if scenario == "bell":
        result["delivery"]["per_class"] = {str(cls.info["lesson_id"]): class_row(cls) for cls in classes}
    if scenario == "steady":
        first = [cls.sends[0] for cls in classes if cls.sends and cls.sends[0].started < run.t0]
        result["steady_seconds"] = args.steady_seconds
        result["window_s"] = [round(run.t0 - started, 1), round(run.t1 - started, 1)] if run.t1 else None
        result["first_send_delivery"] = delivery_of(first)
    if killed:
        result["killed"] = killed
    return result


def class_row(cls: ClassRun) -> dict[str, Any]:
    row = delivery_of(cls.sends[:1])
    return {
        "received": row["received"],
        "expected": row["expected"],
        "p50_ms": row["p50_ms"],
        "p99_ms": row["p99_ms"],
        "last_ms": row["max_ms"],
        "send_request_ms": row["send_request_max_ms"],
        "last_after_ack_ms": row["last_after_ack_ms"],
        "box_full_after_s": round(cls.box_full_after, 2) if cls.box_full_after is not None else None,
    }


async def open_window(run: Run, classes: list[ClassRun], sampler: ProcessSampler, marks: dict[str, float]) -> None:
    """steady: the window begins when every teacher has sent the first card (or the ramp + 60 s)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(cls.first_sent.wait() for cls in classes)), timeout=run.args.ramp + 60)
    await asyncio.sleep(1.0)  # the first card's answers settle
    run.t0 = time.monotonic()
    run.t1 = run.t0 + run.args.steady_seconds
    marks["cpu0"] = sampler.read()[0]
    run.window.set()
    await asyncio.sleep(run.args.steady_seconds)
    marks["cpu1"] = sampler.read()[0]


async def kill_later(pid: int, after: float, started: float, record: dict[str, Any]) -> None:
    """Failover test: SIGKILL one app process `after` seconds into the run."""
    await asyncio.sleep(after)
    record.update(pid=pid, at_s=round(time.monotonic() - started, 2))
    try:
        os.kill(pid, signal.SIGKILL)
        record["result"] = "killed"
    except OSError as error:
        record["result"] = f"not killed: {error}"
    print(f"[bench] SIGKILL to pid {pid} at {record['at_s']} s: {record['result']}", flush=True)
