"""Sign in the first demo pupil of a running server and open a lesson for them; print the session
cookie header value and the lesson page's path (for wrk). Usage: login.py PORT CLASSNOTE_HOME"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def signed_in(base: str, path: str, fields: dict[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    token = CSRF.search(client.get(path).text).group(1)  # type: ignore[union-attr]
    answer = client.post(path, data={"csrfmiddlewaretoken": token, **fields}, headers={"Referer": base})
    assert answer.status_code == 302, answer.status_code
    return client


def main() -> None:
    port, home = sys.argv[1], Path(sys.argv[2])
    base = f"http://127.0.0.1:{port}"
    rows = [line.split("\t") for line in (home / "demo-logins.txt").read_text(encoding="utf-8").splitlines() if line]
    teacher = next((login, pw) for where, role, login, pw in rows if role == "teacher")
    pupil = next((login, pw) for where, role, login, pw in rows if role == "student")
    staff = signed_in(base, "/accounts/login/", {"login": teacher[0], "password": teacher[1]})
    class_id = re.search(r'href="/classes/(\d+)/"', staff.get("/home/").text).group(1)  # type: ignore[union-attr]
    staff.get(f"/classes/{class_id}/")
    token = CSRF.search(staff.get(f"/classes/{class_id}/").text).group(1)  # type: ignore[union-attr]
    made = staff.post(
        f"/classes/{class_id}/lessons/",
        data={"csrfmiddlewaretoken": token, "title": "Bench"},
        headers={"Referer": base},
    )
    lesson = re.search(r"/lessons/(\d+)/", made.headers["location"]).group(0)  # type: ignore[union-attr]
    code, number = pupil[0].split(" / ")
    client = signed_in(base, "/login/student/", {"school_code": code, "student_number": number, "password": pupil[1]})
    assert client.get(lesson).status_code == 200
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    print(f"{cookie}\t{lesson}")


if __name__ == "__main__":
    main()
