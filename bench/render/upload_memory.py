"""Memory of decoding uploaded images (issue 12, finding 8): the server's resident memory while one
image goes through classnote.files.images.process_image, and after.

    .venv/bin/python bench/render/upload_memory.py                     # this checkout
    /work/main/.venv/bin/python bench/render/upload_memory.py          # another checkout's code

Each image is made in memory (noise, so it compresses like a photo or a screenshot, not like a flat
colour), in a fresh process per image; RSS is sampled every 5 ms from /proc while it is processed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

CASES = [
    ("PNG", "RGB", 8100, 6050),  # 49 megapixels: the probe's PNG
    ("PNG", "RGB", 6000, 4000),  # 24 megapixels
    ("PNG", "RGBA", 6000, 4000),
    ("JPEG", "RGB", 8064, 6048),  # a 48-megapixel phone photo
    ("JPEG", "RGB", 4032, 3024),  # a 12-megapixel phone photo
]


def rss_mb() -> int:
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20  # noqa: SIM115


def one(fmt: str, mode: str, width: int, height: int) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    os.environ.setdefault("CLASSNOTE_HOME", tempfile.mkdtemp(prefix="classnote-bench-upload-"))
    import django

    django.setup()
    from PIL import Image

    from classnote.files import images

    image = Image.effect_noise((width // 8, height // 8), 64).convert(mode).resize((width, height))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"compress_level": 1} if fmt == "PNG" else {"quality": 90}))
    data = buffer.getvalue()
    del image, buffer
    base = peak = rss_mb()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    began = time.process_time()
    try:
        result = images.process_image(io.BytesIO(data))
        outcome = f"stored {result.width} × {result.height}"
    except Exception as error:  # noqa: BLE001 - a refusal is an outcome here
        outcome = f"refused: {str(error)[:60]}"
    cpu = time.process_time() - began
    time.sleep(0.3)
    done.set()
    sampler.join()
    return {
        "image": f"{width} × {height} {fmt} {mode} ({width * height / 1e6:.0f} MP, {len(data) // 2**20} MB)",
        "outcome": outcome,
        "cpu_s": round(cpu, 2),
        "peak_mb": peak - base,
        "after_mb": rss_mb() - base,
    }


def main() -> None:
    if len(sys.argv) > 1:
        fmt, mode, width, height = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(one(fmt, mode, width, height)))
        return
    print("| image | outcome | CPU s | memory while processed, MB over the start | after, MB |")
    print("|---|---|---:|---:|---:|")
    for case in CASES:
        out = subprocess.run(
            [sys.executable, __file__, *map(str, case)], capture_output=True, text=True, check=True, timeout=600
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(f"| {row['image']} | {row['outcome']} | {row['cpu_s']} | {row['peak_mb']} | {row['after_mb']} |")


if __name__ == "__main__":
    main()
