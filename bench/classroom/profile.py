"""What one request of each bell type costs the server, in-process: CPU, queries, and a profile.

    .venv/bin/python -m bench.classroom.profile                     # table: CPU µs and queries per type
    .venv/bin/python -m bench.classroom.profile --profile lesson_page  # + pyinstrument of that type
    .venv/bin/python -m bench.classroom.profile --floor             # + the bare authenticated view

One class of 40 (bench.classroom.setup_data) in a fresh CLASSNOTE_HOME on the embedded default
(SQLite), then every request type of the *bell* through Django's WSGI handler with the full
middleware stack (django.test.Client with CSRF checks on, no network, one thread). The loaded
server adds thread/GIL hand-offs, the dispatcher and the network to these figures; this isolates
what classnote's own code costs, so an optimisation can be judged by CPU time and query count
rather than by a noisy load run. Types that change state (login, send, autosave, submit) are
run once per student (40 samples), reads --repeat times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def measure(name: str, calls: list[Callable[[], Any]], results: dict[str, dict[str, Any]], profiler: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cpu: list[float] = []
    queries: list[int] = []
    for call in calls:
        with CaptureQueriesContext(connection) as captured:
            if profiler is not None:
                profiler.start()
            began = time.process_time()
            call()
            cpu.append(time.process_time() - began)
            if profiler is not None:
                profiler.stop()
        queries.append(len(captured.captured_queries))
    results[name] = {
        "n": len(cpu),
        "cpu_us_median": round(statistics.median(cpu) * 1e6),
        "cpu_us_mean": round(statistics.fmean(cpu) * 1e6),
        "queries_median": statistics.median(queries),
        "queries_max": max(queries),
    }


def expect(response: Any, *codes: int) -> Any:
    if response.status_code not in codes:
        raise SystemExit(f"unexpected {response.status_code} for {response.request['PATH_INFO']}")
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200, help="samples per read type (default 200)")
    parser.add_argument("--profile", default="", help="request type to profile with pyinstrument")
    parser.add_argument("--cprofile", action="store_true", help="with --profile: cProfile by own time instead")
    parser.add_argument("--floor", action="store_true", help="also a bare authenticated view (bench/serving)")
    parser.add_argument("--json", default="", help="write the result here")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="classnote-profile-"))
    os.environ.update(CLASSNOTE_HOME=str(home), CLASSNOTE_ENV="development", LOG_LEVEL="warning")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    from bench.classroom import setup_data

    setup_data.main(1, 40, home / "setup.json")
    data = json.loads((home / "setup.json").read_text())
    cls = data["classes"][0]

    from django.test import Client

    profiler = None
    if args.profile:
        if args.cprofile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.start = profiler.enable  # type: ignore[method-assign]
            profiler.stop = profiler.disable  # type: ignore[method-assign]
        else:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
    results: dict[str, dict[str, Any]] = {}

    def prof(name: str) -> Any:
        return profiler if name == args.profile else None

    students = [Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1") for _ in cls["students"]]
    page = expect(students[0].get("/login/student/"), 200)
    token = CSRF.search(page.content.decode()).group(1)  # type: ignore[union-attr]
    measure(
        "login_page",
        [lambda: students[0].get("/login/student/") for _ in range(args.repeat)],
        results,
        prof("login_page"),
    )

    def login(client: Any, pupil: dict[str, str], qr: bool) -> Callable[[], Any]:
        page = client.get("/login/card/" if qr else "/login/student/")
        token = CSRF.search(page.content.decode()).group(1)
        if qr:
            return lambda: expect(
                client.post("/login/card/", {"csrfmiddlewaretoken": token, "token": pupil["token"]}), 302
            )
        form = {
            "csrfmiddlewaretoken": token,
            "school_code": data["school_code"],
            "student_number": pupil["number"],
            "password": data["password"],
        }
        return lambda: expect(client.post("/login/student/", form), 302)

    half = len(students) // 2
    measure(
        "login_password",
        [login(c, p, False) for c, p in zip(students[:half], cls["students"][:half], strict=True)],
        results,
        prof("login_password"),
    )
    measure(
        "login_qr",
        [login(c, p, True) for c, p in zip(students[half:], cls["students"][half:], strict=True)],
        results,
        prof("login_qr"),
    )

    lesson_path = f"/lessons/{cls['lesson_id']}/"
    measure(
        "lesson_page",
        [lambda: expect(students[0].get(lesson_path), 200) for _ in range(args.repeat)],
        results,
        prof("lesson_page"),
    )
    measure("home", [lambda: expect(students[0].get("/home/"), 200) for _ in range(args.repeat)], results, prof("home"))

    teacher = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    page = teacher.get("/accounts/login/")
    token = CSRF.search(page.content.decode()).group(1)  # type: ignore[union-attr]
    expect(
        teacher.post(
            "/accounts/login/", {"csrfmiddlewaretoken": token, "login": cls["teacher"], "password": data["password"]}
        ),
        302,
    )
    lesson = teacher.get(lesson_path)
    token = CSRF.search(lesson.content.decode()).group(1)  # type: ignore[union-attr]
    send = {"csrfmiddlewaretoken": token, "cards": str(cls["card_id"]), "to": "class"}
    measure(
        "send_card",
        [lambda: expect(teacher.post(f"{lesson_path}send/", send), 302) for _ in range(5)],
        results,
        prof("send_card"),
    )
    measure(
        "teacher_watch",
        [lambda: expect(teacher.get(lesson_path), 200) for _ in range(20)],
        results,
        prof("teacher_watch"),
    )

    from classnote.cards.models import Card

    def copy_of(client: Any) -> tuple[int, str]:
        user = client.session["_auth_user_id"]
        card = Card.objects.filter(owner_id=user, lesson_id=cls["lesson_id"]).order_by("-pk").first()
        page = client.get(lesson_path)
        return card.pk, CSRF.search(page.content.decode()).group(1)  # type: ignore[union-attr, return-value]

    copies = [copy_of(c) for c in students]

    def autosave(client: Any, card: int, token: str, version: int) -> Callable[[], Any]:
        body = json.dumps({"version": version, "fields": {"text": f"draft {version}"}})
        return lambda: expect(
            client.post(f"/cards/{card}/autosave/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token), 200
        )

    measure(
        "autosave",
        [autosave(c, card, tok, 1) for c, (card, tok) in zip(students, copies, strict=True)],
        results,
        prof("autosave"),
    )
    submit_path = f"/boxes/{cls['box_id']}/submit/"
    measure(
        "submit",
        [
            lambda c=c, card=card, tok=tok: expect(
                c.post(submit_path, {"csrfmiddlewaretoken": tok, "card": str(card)}), 302
            )
            for c, (card, tok) in zip(students, copies, strict=True)
        ],
        results,
        prof("submit"),
    )
    measure(
        "teacher_watch_full_box",
        [lambda: expect(teacher.get(lesson_path), 200) for _ in range(20)],
        results,
        prof("teacher_watch_full_box"),
    )
    measure(
        "lesson_page_after_submit",
        [lambda: expect(students[0].get(lesson_path), 200) for _ in range(args.repeat)],
        results,
        prof("lesson_page_after_submit"),
    )
    measure(
        "home_after_submit",
        [lambda: expect(students[0].get("/home/"), 200) for _ in range(args.repeat)],
        results,
        prof("home_after_submit"),
    )
    measure("healthz", [lambda: students[0].get("/healthz") for _ in range(args.repeat)], results, prof("healthz"))

    print(f"{'type':<24}{'n':>5}{'CPU µs p50':>12}{'mean':>10}{'queries':>9}")
    for name, r in results.items():
        print(f"{name:<24}{r['n']:>5}{r['cpu_us_median']:>12,}{r['cpu_us_mean']:>10,}{r['queries_median']:>9}")
    if profiler is not None and args.cprofile:
        import pstats

        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(
            int(os.environ.get("PROFILE_LINES", "40"))
        )
    elif profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
