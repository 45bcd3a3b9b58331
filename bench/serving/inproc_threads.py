"""Diagnostic: call Django's WSGI handler in-process (no HTTP server) from N threads.

Shows the pure Django cost of the views and how it changes with thread count
and CONN_MAX_AGE, without any server or event loop in the way.

  BENCH_CONN_MAX_AGE=600 /tmp/benchvenv/bin/python bench/serving/inproc_threads.py /auth/ 1 4 64
  BENCH_CONN_MAX_AGE=0   /tmp/benchvenv/bin/python bench/serving/inproc_threads.py /auth/ 1 4 64

Needs the DB made by run.sh (or setup_db.py) at $BENCH_DB.
"""

import io
import os
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
os.environ.setdefault("BENCH_DB", "/tmp/classnote-serving-bench/bench.sqlite3")

from django.core.wsgi import get_wsgi_application  # noqa: E402

app = get_wsgi_application()

from django.contrib.sessions.models import Session  # noqa: E402

KEY = Session.objects.order_by("-expire_date").first().session_key


def environ(path):
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    if path == "/auth/":
        env["HTTP_COOKIE"] = f"sessionid={KEY}"
    return env


def start_response(status, headers):
    assert status.startswith("200"), status


def main():
    path = sys.argv[1]
    for nthreads in map(int, sys.argv[2:] or ["1", "4", "64"]):
        stop = time.monotonic() + 3
        counts = [0] * nthreads

        def work(i):
            while time.monotonic() < stop:
                b"".join(app(environ(path), start_response))
                counts[i] += 1

        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r1, elapsed, n = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - t0, sum(counts)
        print(
            f"{path} threads={nthreads:3d} {n / elapsed:7.0f} req/s  "
            f"user {1e6 * (r1.ru_utime - r0.ru_utime) / n:5.0f} us/req  "
            f"sys {1e6 * (r1.ru_stime - r0.ru_stime) / n:5.0f} us/req  "
            f"ctx switches {r1.ru_nvcsw - r0.ru_nvcsw + r1.ru_nivcsw - r0.ru_nivcsw}"
        )


if __name__ == "__main__":
    main()
