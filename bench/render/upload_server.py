"""A running server's memory around image uploads (issue 12, finding 8): resident memory of the
`classnote serve` process before, at the peak and 3 s after uploads of large images, sent by
--uploads clients at once (the serve process decodes them on request threads before the fix, on the
image-decode pool after).

    .venv/bin/python -m bench.render.upload_server [--root /work/main] [--size 6000x4000] [--uploads 4]

Uses bench.render.load's server start-up and data (a pupil of municipality A).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
from bench.render.load import HERE, ROOT, clean_env, free_port, login
from PIL import Image


def rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--size", default="6000x4000")
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    width, height = map(int, options.size.split("x"))
    root = options.root.resolve()
    python = root / ".venv" / "bin" / "python"
    home = Path(tempfile.mkdtemp(prefix="classnote-upload-server-"))
    env = clean_env(CLASSNOTE_HOME=str(home))
    (home / "strokes.json").write_text("[]", encoding="utf-8")
    subprocess.run(
        [str(python), str(HERE / "setup_data.py"), str(home / "setup.json"), str(home / "strokes.json"), "0"],
        env=env, cwd=root, check=True, timeout=600,
    )  # fmt: skip
    data = json.loads((home / "setup.json").read_text(encoding="utf-8"))
    # The pupil's school allows large files (the default tenant limit is 20 MB).
    subprocess.run(
        [str(python), "-c", "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'classnote.settings');"
         " django.setup(); from classnote.tenancy.models import Municipality;"
         " Municipality.objects.update(max_upload_mb=200)"],
        env=env, cwd=root, check=True, timeout=120,
    )  # fmt: skip
    image = Image.effect_noise((width // 8, height // 8), 64).convert("RGB").resize((width, height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    png = buffer.getvalue()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(python), "-m", "classnote", "serve", "--port", str(port), "--no-migrate"],
        env=env, cwd=root, stdout=(home / "server.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(400):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code < 500:
                    break
            time.sleep(0.3)
        pupil = login(url, "/login/student/", {**data["pupil"], "password": data["password"]})
        token = pupil.cookies.get("csrftoken") or ""
        print(f"serving {root}; {options.uploads} uploads at once of a {width} × {height} PNG ({len(png) >> 20} MB)")
        print("| round | RSS before MB | peak MB | 3 s after MB | answers |")
        print("|---:|---:|---:|---:|---|")
        for round_ in range(1, options.rounds + 1):
            before = peak = rss_mb(server.pid)
            answers: list[int] = []
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_mb(server.pid))
                    time.sleep(0.01)

            def upload() -> None:
                with httpx.Client(base_url=url, cookies=pupil.cookies, timeout=300) as client:
                    answer = client.post(
                        "/files/", files={"file": ("big.png", png, "image/png")}, headers={"X-CSRFToken": token}
                    )
                    answers.append(answer.status_code)

            sampler = threading.Thread(target=sample)
            sampler.start()
            senders = [threading.Thread(target=upload) for _ in range(options.uploads)]
            for thread in senders:
                thread.start()
            for thread in senders:
                thread.join()
            time.sleep(3)
            done.set()
            sampler.join()
            print(f"| {round_} | {before} | {peak} | {rss_mb(server.pid)} | {sorted(answers)} |")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
