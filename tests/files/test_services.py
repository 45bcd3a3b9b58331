"""store_upload and delete_upload, called directly (as the cards views do)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.utils import translation

from classnote.base.errors import ActionError, NotFound
from classnote.files import services
from classnote.files.models import StoredFile
from classnote.files.services import StorageUnavailable, delete_upload, store_upload
from classnote.files.validation import FileRefused, FileTooLarge
from tests.conftest import Tenant
from tests.files import samples


def test_store_upload_refuses_files_over_the_tenant_limit(tenant_a: Tenant) -> None:
    tenant_a.municipality.max_upload_mb = 1
    tenant_a.municipality.save(update_fields=["max_upload_mb"])
    tenant_a.student.refresh_from_db()
    big = samples.upload("big.pdf", samples.pdf(padding=1024 * 1024))
    with pytest.raises(FileTooLarge) as refused:
        store_upload(tenant_a.student, big)
    assert refused.value.status == 413
    assert str(refused.value) == "This file is larger than 1 MB, the largest file your school allows."
    with translation.override("zh-hant"), pytest.raises(FileTooLarge) as refused_zh:
        store_upload(tenant_a.student, big)
    assert "1 MB" in str(refused_zh.value) and "學校" in str(refused_zh.value)


def test_a_person_keeps_at_most_their_quota_of_files(tenant_a: Tenant, settings: Any) -> None:
    """Issue 12, limits per person: uploads that would take one pupil past their quota are refused
    (413, translated), nothing is stored; deleting a file makes room again; staff have their own quota."""
    settings.FILE_QUOTA_MB_STUDENT = 1
    settings.FILE_QUOTA_MB_STAFF = 3
    half = samples.pdf(padding=600 * 1024)
    before = StoredFile.objects.filter(owner=tenant_a.student).count()
    first = store_upload(tenant_a.student, samples.upload("first.pdf", half))
    with pytest.raises(FileTooLarge) as refused:
        store_upload(tenant_a.student, samples.upload("second.pdf", half))
    assert refused.value.status == 413
    assert "1 MB" in str(refused.value)
    with translation.override("ja"), pytest.raises(FileTooLarge) as refused_ja:
        store_upload(tenant_a.student, samples.upload("second.pdf", half))
    assert "1 MB" in str(refused_ja.value) and "ファイル" in str(refused_ja.value)
    assert StoredFile.objects.filter(owner=tenant_a.student).count() == before + 1
    store_upload(tenant_a.classmate, samples.upload("theirs.pdf", half))  # a quota per person
    store_upload(tenant_a.teacher, samples.upload("a.pdf", half))
    store_upload(tenant_a.teacher, samples.upload("b.pdf", half))  # staff: 3 MB
    delete_upload(tenant_a.student, first.pk)
    store_upload(tenant_a.student, samples.upload("second.pdf", half))


def test_refusals_are_action_errors(tenant_a: Tenant) -> None:
    with pytest.raises(ActionError):
        store_upload(tenant_a.student, samples.upload("a.svg", samples.SVG))
    with pytest.raises(FileRefused):
        store_upload(tenant_a.student, samples.upload("empty.pdf", b""))
    assert not StoredFile.objects.filter(owner=tenant_a.student, name__in=["a.svg", "empty.pdf"]).exists()


def test_a_storage_failure_is_a_refusal_and_leaves_no_row(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(default_storage, "save", broken)
    before = StoredFile.objects.count()
    with pytest.raises(StorageUnavailable) as refused:
        store_upload(tenant_a.student, samples.upload("a.pdf", samples.pdf()))
    assert refused.value.status == 503
    assert StoredFile.objects.count() == before


def test_a_failed_row_leaves_no_bytes_behind(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    saved: list[str] = []
    original = default_storage.save

    def remember(name: str, content: Any, **kwargs: Any) -> str:
        saved.append(original(name, content, **kwargs))
        return saved[-1]

    def failing_create(**kwargs: Any) -> StoredFile:
        raise RuntimeError("database gone")

    monkeypatch.setattr(default_storage, "save", remember)
    monkeypatch.setattr(StoredFile.objects, "create", failing_create)
    with pytest.raises(RuntimeError):
        store_upload(tenant_a.student, samples.upload("p.png", samples.png()))
    assert len(saved) == 2  # the image and its thumbnail
    assert not any(default_storage.exists(key) for key in saved)


def test_only_the_owner_deletes_and_only_files_no_card_uses(
    tenant_a: Tenant, tenant_b: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    stored = store_upload(tenant_a.student, samples.upload("photo.png", samples.png()))
    with pytest.raises(NotFound):  # readable to the teacher (on a pupil's card), not theirs: nobody else's
        delete_upload(tenant_a.teacher, tenant_a.file.pk)
    with pytest.raises(NotFound):
        delete_upload(tenant_b.student, stored.pk)
    with pytest.raises(ActionError, match="used on a card"):
        delete_upload(tenant_a.student, tenant_a.file.pk)

    with django_capture_on_commit_callbacks(execute=True):
        delete_upload(tenant_a.student, stored.pk)
    assert not StoredFile.objects.filter(pk=stored.pk).exists()
    assert not default_storage.exists(stored.storage_key)
    assert not default_storage.exists(stored.thumbnail_key)


def test_keys_are_random_and_never_the_users_name(tenant_a: Tenant) -> None:
    first = store_upload(tenant_a.student, samples.upload("../../../etc/passwd", samples.pdf()))
    second = store_upload(tenant_a.student, samples.upload("../../../etc/passwd", samples.pdf()))
    assert first.storage_key != second.storage_key
    for stored in (first, second):
        assert stored.storage_key.startswith(f"files/{tenant_a.school.pk}/")
        assert "passwd" not in stored.storage_key and ".." not in stored.storage_key
        assert stored.name == "passwd.pdf"
    assert services.CHUNK > 0


def test_the_bytes_go_when_the_owners_account_is_deleted(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    pupil = tenant_a.other_class_student
    stored = store_upload(pupil, samples.upload("photo.png", samples.png()))
    assert default_storage.exists(stored.storage_key)
    with django_capture_on_commit_callbacks(execute=True):
        pupil.delete()  # StoredFile.owner cascades
    assert not StoredFile.objects.filter(pk=stored.pk).exists()
    assert not default_storage.exists(stored.storage_key)
    assert not default_storage.exists(stored.thumbnail_key)
