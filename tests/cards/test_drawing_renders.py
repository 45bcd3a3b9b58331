"""Drawings are rendered once per card version, off the request threads, and kept in storage
(classnote.cards.drawings; issue 12, finding 1): the renderer's calls are counted, not timed."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client, override_settings
from PIL import Image

from classnote.cards import actions, drawings
from classnote.cards.models import Card
from classnote.lessons import actions as lesson_actions
from classnote.portfolio.export import build_zip
from tests.conftest import Tenant, login_as

RED = (255, 0, 0)
BLUE = (0, 0, 255)
LINE = {"c": "#ff0000", "w": 20, "e": False, "p": [[100, 600], [500, 600]]}


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    """A new pool and no stored renders (test databases give card ids out again; storage keeps files)."""
    drawings.render_pool.shutdown()
    shutil.rmtree(Path(default_storage.path("renders")), ignore_errors=True)
    yield
    drawings.render_pool.shutdown()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The renders asked of the render processes: the name of the thread that asked for each."""
    calls: list[str] = []
    real = drawings._render_pictures

    def counting(*args: Any) -> dict[str, bytes]:
        calls.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(drawings, "_render_pictures", counting)
    return calls


def drawing_of(tenant: Tenant, strokes: list[dict[str, Any]] | None = None) -> Card:
    return actions.create_card(
        tenant.student, kind="drawing", lesson_id=tenant.lesson.pk, strokes=strokes or [LINE], background="venn"
    )


def picture(response: Any) -> Image.Image:
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def stored_files(card: Card) -> list[str]:
    try:
        return sorted(default_storage.listdir(drawings.folder(card.school_id, card.pk))[1])
    except FileNotFoundError:
        return []


@override_settings(RENDER_WAIT_MS=30_000)
def test_a_drawing_is_rendered_once_off_the_request_thread_and_then_served_from_storage(
    tenant_a: Tenant, renders: list[str]
) -> None:
    card = drawing_of(tenant_a)
    pupil = login_as(Client(), tenant_a.student)
    full = pupil.get(f"/cards/{card.pk}/image/")
    assert full.status_code == 200 and picture(full).size == (1000, 750)
    assert picture(full).getpixel((300, 600)) == RED
    assert picture(pupil.get(f"/cards/{card.pk}/thumbnail/")).size == (320, 240)
    assert picture(pupil.get(f"/cards/{card.pk}/thumbnail/?w=640")).size == (640, 480)
    assert len(renders) == 1, "one render makes all three pictures"
    assert renders[0].startswith("drawing-render"), "rendered on the pool, not on a request thread"
    assert drawings.render_processes._executor is not None, "drawn in a render process"
    assert stored_files(card) == [f"{drawings.stamp(card)}.{variant}.png" for variant in ("320", "640", "full")]

    # The stored pictures serve everyone afterwards, a new pool (another process) too.
    drawings.render_pool.shutdown()
    teacher = login_as(Client(), tenant_a.teacher)
    assert teacher.get(f"/cards/{card.pk}/thumbnail/").status_code == 200
    assert pupil.get(f"/cards/{card.pk}/image/").content == full.content
    # A submission is a snapshot, a new card: rendered once for the teacher's page, and the
    # portfolio export takes the stored picture.
    snapshot = lesson_actions.submit(tenant_a.student, tenant_a.box.pk, card.pk).card
    assert teacher.get(f"/cards/{snapshot.pk}/thumbnail/").status_code == 200
    assert len(renders) == 2
    assert b"drawing.png" in build_zip(tenant_a.student)
    assert len(renders) == 2


@override_settings(RENDER_WAIT_MS=30_000)
def test_an_edit_renders_again_and_the_old_pictures_are_deleted(tenant_a: Tenant, renders: list[str]) -> None:
    card = drawing_of(tenant_a)
    pupil = login_as(Client(), tenant_a.student)
    assert picture(pupil.get(f"/cards/{card.pk}/image/")).getpixel((300, 600)) == RED
    before = stored_files(card)
    blue = {**LINE, "c": "#0000ff"}
    card = actions.autosave(tenant_a.student, card.pk, card.version, {"strokes": [blue]})
    assert picture(pupil.get(f"/cards/{card.pk}/image/")).getpixel((300, 600)) == BLUE
    assert len(renders) == 2
    after = stored_files(card)
    assert len(after) == 3 and not set(before) & set(after), "the first version's pictures are gone"
    # A new background is a new version too.
    card = actions.autosave(tenant_a.student, card.pk, card.version, {"background": "kwl"})
    pupil.get(f"/cards/{card.pk}/thumbnail/")
    assert len(renders) == 3


@override_settings(RENDER_WAIT_MS=30_000)
def test_the_pictures_go_with_the_card(tenant_a: Tenant, django_capture_on_commit_callbacks: Any) -> None:
    card = drawing_of(tenant_a)
    other = drawing_of(tenant_a)
    pupil = login_as(Client(), tenant_a.student)
    for each in (card, other):
        assert pupil.get(f"/cards/{each.pk}/thumbnail/").status_code == 200
        assert len(stored_files(each)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_card(tenant_a.student, card.pk)
    assert stored_files(card) == []
    # Also when a card goes another way (a queryset's delete, as with a deleted account's cards).
    with django_capture_on_commit_callbacks(execute=True):
        Card.objects.filter(pk=other.pk).delete()
    assert stored_files(other) == []


def test_while_the_render_is_under_way_the_page_gets_a_placeholder(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = drawing_of(tenant_a)
    release = threading.Event()
    real = drawings._render_pictures

    def slow(*args: Any) -> dict[str, bytes]:
        assert release.wait(30)
        return real(*args)

    monkeypatch.setattr(drawings, "_render_pictures", slow)
    pupil = login_as(Client(), tenant_a.student)
    with override_settings(RENDER_WAIT_MS=50):
        waiting = pupil.get(f"/cards/{card.pk}/thumbnail/")
    assert waiting.status_code == 202 and waiting["Retry-After"] == "2"
    assert waiting["Cache-Control"] == "private, no-store"
    assert picture(waiting).size == drawings.PLACEHOLDER_SIZE
    release.set()
    future = drawings.render_pool.pending(drawings._job(card))
    if future is not None:
        future.result(timeout=30)
    with override_settings(RENDER_WAIT_MS=0):
        ready = pupil.get(f"/cards/{card.pk}/thumbnail/")
    assert ready.status_code == 200 and picture(ready).size == (320, 240)


@override_settings(RENDER_WAIT_MS=30_000)
def test_one_request_thread_at_most_waits_for_renders(tenant_a: Tenant, renders: list[str]) -> None:
    card = drawing_of(tenant_a)
    pupil = login_as(Client(), tenant_a.student)
    assert drawings._waiting.acquire(blocking=False), "another request is waiting for a render"
    try:
        answer = pupil.get(f"/cards/{card.pk}/image/")
    finally:
        drawings._waiting.release()
    assert answer.status_code == 202, "it did not wait: the placeholder at once"


def test_a_full_render_pool_turns_renders_away(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drawings, "QUEUE", 0)
    release = threading.Event()
    monkeypatch.setattr(drawings, "_render_pictures", lambda *args: release.wait(30) and {})
    first, second = drawing_of(tenant_a), drawing_of(tenant_a)
    pupil = login_as(Client(), tenant_a.student)
    with override_settings(RENDER_WAIT_MS=0):
        assert pupil.get(f"/cards/{first.pk}/image/").status_code == 202  # rendering (1 worker, no queue)
        assert pupil.get(f"/cards/{second.pk}/image/").status_code == 202  # turned away
        assert drawings.render_pool.pending(drawings._job(second)) is None
    release.set()


def test_a_text_card_without_strokes_has_no_drawing(tenant_a: Tenant) -> None:
    card = actions.create_card(tenant_a.student, kind="text", lesson_id=tenant_a.lesson.pk, text="words")
    pupil = login_as(Client(), tenant_a.student)
    assert pupil.get(f"/cards/{card.pk}/thumbnail/").status_code == 404
    assert login_as(Client(), tenant_a.other_class_student).get(f"/cards/{card.pk}/image/").status_code == 404
