"""Uploaded images are decoded on a bounded pool (classnote.core.workpool; issue 12, finding 8): at
most IMAGE_WORKERS at once in a process, whatever the number of uploads; when no place frees up in
time the upload gets a 503 with Retry-After, never a pile of decodes."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from classnote.files import images
from tests.conftest import Tenant, login_as
from tests.files import samples


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    images.decode_pool.shutdown()
    yield
    images.decode_pool.shutdown()


def test_images_are_decoded_on_the_pool_in_the_uploaders_language(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = images._process

    def recording(file: Any) -> images.ProcessedImage:
        threads.append(threading.current_thread().name)
        return real(file)

    monkeypatch.setattr(images, "_process", recording)
    client = login_as(Client(), tenant_a.student)
    assert client.post("/files/", {"file": samples.upload("photo.jpg", samples.jpeg_with_gps())}).status_code == 201
    assert len(threads) == 1 and threads[0].startswith("image-decode")
    # A refusal made on the pool speaks the uploader's language.
    with translation.override("ja"), pytest.raises(images.FileRefused, match="この画像は大きすぎます"):
        images.process_image(io.BytesIO(samples.png_header_only(9000, 9000)))


def test_when_the_pool_stays_full_an_upload_gets_503_with_retry_after(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # Every place of the pool taken (IMAGE_WORKERS decoding, QUEUE waiting): the next upload waits
    # WAIT_SECONDS at most, then is refused — the request thread is free again.
    release = threading.Event()

    def stuck() -> str:
        assert release.wait(30)
        return "done"

    places = settings.IMAGE_WORKERS + images.QUEUE
    results: list[object] = []
    holders = [
        threading.Thread(target=lambda: results.append(images.decode_pool.run(stuck, timeout=30)))
        for _ in range(places)
    ]
    for thread in holders:
        thread.start()
    deadline = time.monotonic() + 10
    while images.decode_pool._places is None or images.decode_pool._places._value > 0:  # every place taken
        assert time.monotonic() < deadline
        time.sleep(0.01)
    monkeypatch.setattr(images, "WAIT_SECONDS", 0.2)
    client = login_as(Client(), tenant_a.student)
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    busy = client.post("/files/", {"file": samples.upload("photo.png", samples.png())}, **english)
    assert busy.status_code == 503, busy.content
    assert busy["Retry-After"] == "5"
    assert busy.json()["detail"]
    api = client.post("/api/files", {"file": samples.upload("photo.png", samples.png())}, **english)
    assert api.status_code == 503 and api["Retry-After"] == "5"
    release.set()
    for thread in holders:
        thread.join(30)
    assert results == ["done"] * places, "work already on the pool finishes"
    monkeypatch.setattr(images, "WAIT_SECONDS", 30)
    assert client.post("/files/", {"file": samples.upload("photo.png", samples.png())}).status_code == 201
