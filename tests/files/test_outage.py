"""What users get while the file storage is down (issue 13, finding 5) or the local disk is full.

A storage outage is no missing file: downloads and thumbnails answer 503 "temporarily unavailable"
with Retry-After, translated, never 404 (a teacher would think the pupil's file is gone); a 404
stays for a file that is really missing or not the user's to see. An upload during the outage gets
503 and records nothing; an upload that meets a full disk gets 507, leaves no partial file and no
row, and the files already stored stay as they were. Pages without files carry on.

The outage is made in the storage the guard wraps (Django's FileSystemStorage): its calls raise
botocore's timeout, as a frozen S3 server makes them do. tests/faults/test_storage.py does the same
against a real SeaweedFS.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from django.core.files.storage import FileSystemStorage as DjangoFileSystemStorage
from django.core.files.storage import default_storage
from django.core.files.storage import filesystem as django_filesystem
from django.test import Client

from classnote.accounts.models import User
from classnote.cards.actions import create_card
from classnote.files.guard import guard
from classnote.files.models import StoredFile
from tests.conftest import Tenant, login_as
from tests.files import samples


def english(user: User) -> User:
    user.language = "en"
    user.save(update_fields=["language"])
    return user


def timeout() -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url="http://127.0.0.1:8333/classnote/files/1/key")


def freeze(monkeypatch: pytest.MonkeyPatch, *methods: str) -> None:
    """The file storage's calls (not the static files') fail as against a frozen S3 server."""
    files = default_storage.location and default_storage._wrapped
    for method in methods or ("_open", "_save", "delete", "exists", "listdir", "size"):
        original = getattr(DjangoFileSystemStorage, method)

        def failing(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if self is files:
                raise timeout()
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(DjangoFileSystemStorage, method, failing)


@pytest.fixture
def storage_down(monkeypatch: pytest.MonkeyPatch) -> None:
    freeze(monkeypatch)


def client_of(user: User) -> Client:
    return login_as(Client(raise_request_exception=False), english(user))


def test_downloads_answer_503_not_404_while_the_storage_is_down(tenant_a: Tenant, storage_down: None) -> None:
    teacher = client_of(tenant_a.teacher)
    for path in (f"/files/{tenant_a.file.pk}/", f"/files/{tenant_a.file.pk}/?inline=1"):
        response = teacher.get(path)
        assert response.status_code == 503, (path, response.status_code)
        assert int(response["Retry-After"]) >= 1
        assert b"Files are temporarily unavailable" in response.content
    assert guard.state() == "open"  # the first timeout opened the circuit; the second was refused at once

    # Still 404 for somebody who may not see the file: an outage reveals nothing either.
    assert client_of(tenant_a.other_class_student).get(f"/files/{tenant_a.file.pk}/").status_code == 404


def test_the_503_is_in_the_users_language(tenant_a: Tenant, storage_down: None) -> None:
    pupil = login_as(Client(raise_request_exception=False), tenant_a.student)  # Japanese
    response = pupil.get(f"/files/{tenant_a.file.pk}/")
    assert response.status_code == 503 and response["Content-Language"] == "ja"


def test_a_thumbnail_answers_503_while_the_storage_is_down(tenant_a: Tenant) -> None:
    pupil = client_of(tenant_a.student)
    stored = StoredFile.objects.get(
        pk=pupil.post("/files/", {"file": samples.upload("p.png", samples.png())}).json()["id"]
    )
    with pytest.MonkeyPatch.context() as patch:
        freeze(patch, "_open")
        response = pupil.get(f"/files/{stored.pk}/thumbnail/")
    assert response.status_code == 503 and response["Retry-After"]


def test_a_really_missing_file_is_still_404(tenant_a: Tenant) -> None:
    default_storage.delete(tenant_a.file.storage_key)
    assert client_of(tenant_a.teacher).get(f"/files/{tenant_a.file.pk}/").status_code == 404
    assert guard.state() == "closed"


def test_an_upload_while_the_storage_is_down_is_503_and_records_nothing(tenant_a: Tenant, storage_down: None) -> None:
    pupil = client_of(tenant_a.student)
    before = StoredFile.objects.count()
    for _attempt in range(2):  # the first waits for the storage, the second is refused at once
        response = pupil.post("/files/", {"file": samples.upload("report.pdf", samples.pdf())})
        assert response.status_code == 503, response.content
        assert response["Retry-After"]
        assert response.json()["unavailable"] == "storage"
        assert "Files are temporarily unavailable" in response.json()["detail"]
    assert StoredFile.objects.count() == before

    # The API's upload, and a card made with a file from the page's form, say the same.
    api = pupil.post("/api/files", {"file": samples.upload("report.pdf", samples.pdf())})
    assert api.status_code == 503 and api["Retry-After"]
    form = pupil.post(
        "/cards/",
        {"kind": "file", "lesson": str(tenant_a.lesson.pk), "upload": samples.upload("report.pdf", samples.pdf())},
    )
    assert form.status_code == 503 and b"Files are temporarily unavailable" in form.content
    assert StoredFile.objects.count() == before


def test_lessons_without_files_carry_on_while_the_storage_is_down(tenant_a: Tenant, storage_down: None) -> None:
    pupil = client_of(tenant_a.student)
    assert pupil.get(f"/lessons/{tenant_a.lesson.pk}/").status_code == 200
    made = pupil.post("/cards/", {"kind": "text", "title": "My answer", "lesson": str(tenant_a.lesson.pk)})
    assert made.status_code == 302
    # A drawing is drawn from its strokes when its stored picture cannot be read (nor stored).
    drawing = create_card(
        tenant_a.student,
        kind="drawing",
        lesson_id=tenant_a.lesson.pk,
        strokes=[{"c": "#ff0000", "w": 20, "e": False, "p": [[100, 600], [500, 600]]}],
    )
    picture = pupil.get(f"/cards/{drawing.pk}/thumbnail/")
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"


def test_a_portfolio_export_answers_503_while_the_storage_is_down(tenant_a: Tenant, storage_down: None) -> None:
    tenant_a.submission.card.file = tenant_a.file
    tenant_a.submission.card.save(update_fields=["file"])
    response = client_of(tenant_a.student).get("/portfolio/export.zip")
    assert response.status_code == 503 and response["Retry-After"]


def failing_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The disk fills up half-way through the next file written: some bytes land, then ENOSPC."""
    written: list[str] = []
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            self.handle.write(data[: max(1, len(data) // 2)])
            self.handle.flush()
            written.append(self.handle.name)
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.handle.close()

    monkeypatch.setattr(django_filesystem.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    return written


def test_an_upload_on_a_full_disk_is_507_without_a_partial_file_or_a_row(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    pupil = client_of(tenant_a.student)
    kept = default_storage.open(tenant_a.file.storage_key).read()
    media = Path(default_storage.location)
    files_before = {path for path in media.rglob("*") if path.is_file()}
    rows_before = StoredFile.objects.count()

    written = failing_writes(monkeypatch)
    response = pupil.post("/files/", {"file": samples.upload("report.pdf", samples.pdf())})
    assert response.status_code == 507, response.content
    assert response.json()["reason"] == "disk_full"
    assert "no room left" in response.json()["detail"]
    assert written, "the write never reached the disk"
    form = pupil.post(
        "/cards/",
        {"kind": "image", "lesson": str(tenant_a.lesson.pk), "upload": samples.upload("p.png", samples.png())},
    )
    assert form.status_code == 507
    monkeypatch.undo()

    assert StoredFile.objects.count() == rows_before
    assert {path for path in media.rglob("*") if path.is_file()} == files_before  # no partial file
    assert default_storage.open(tenant_a.file.storage_key).read() == kept  # existing data intact
    assert guard.state() == "closed"  # a full disk is no storage outage: reads go on
    assert pupil.post("/files/", {"file": samples.upload("report.pdf", samples.pdf())}).status_code == 201


def test_a_card_upload_is_stored_outside_the_cards_transaction(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """A storage call may last up to its deadlines: no transaction (SQLite's write lock, which every
    writer of the process queues for) may be open around it. A card refused after its upload was
    stored takes the upload away again, row and bytes."""
    from django.db import connection

    from classnote.cards.models import Card

    outside = len(connection.atomic_blocks)
    depths: list[int] = []
    original = DjangoFileSystemStorage._save

    def save(self: Any, name: str, content: Any) -> Any:
        depths.append(len(connection.atomic_blocks))
        return original(self, name, content)

    monkeypatch.setattr(DjangoFileSystemStorage, "_save", save)
    card = create_card(
        tenant_a.student, kind="file", lesson_id=tenant_a.lesson.pk, upload=samples.upload("a.pdf", samples.pdf())
    )
    assert card.file is not None and depths == [outside]

    def refused(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the card could not be saved")

    monkeypatch.setattr(Card, "save", refused)
    rows = StoredFile.objects.count()
    media = Path(default_storage.location)
    files_before = {path for path in media.rglob("*") if path.is_file()}
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        create_card(
            tenant_a.student, kind="file", lesson_id=tenant_a.lesson.pk, upload=samples.upload("b.pdf", samples.pdf())
        )
    assert StoredFile.objects.count() == rows
    assert {path for path in media.rglob("*") if path.is_file()} == files_before
