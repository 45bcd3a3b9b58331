"""POST /files/ and the downloads: JSON answers (never a 500), refusals in the user's language,
access only through classnote.tenancy.access, and headers that keep browsers from running files."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from classnote.accounts.models import User
from classnote.files import uploads
from classnote.files.models import StoredFile
from tests.conftest import Tenant, login_as
from tests.files import samples

SANDBOX = "sandbox; default-src 'none'; frame-ancestors 'none'"


def english(user: User) -> User:
    user.language = "en"
    user.save(update_fields=["language"])
    return user


def post_file(client: Client, name: str, content: bytes, content_type: str = "image/jpeg") -> Any:
    return client.post("/files/", {"file": samples.upload(name, content, content_type)})


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def assert_sandboxed(response: Any) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    assert response["Cache-Control"] == "private, no-store"


@pytest.fixture
def pupil(tenant_a: Tenant) -> Client:
    return login_as(Client(), english(tenant_a.student))


def test_upload_answers_json_and_the_owner_can_download(pupil: Client, tenant_a: Tenant) -> None:
    content = samples.pdf()
    response = post_file(pupil, "日本語のレポート.pdf", content, "text/html")  # the declared type is ignored
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == {"id", "kind", "name", "size", "thumbnail"}
    assert data["kind"] == "pdf" and data["name"] == "日本語のレポート.pdf" and data["size"] == len(content)
    assert data["thumbnail"] is None

    stored = StoredFile.objects.get(pk=data["id"])
    assert stored.owner == tenant_a.student and stored.school == tenant_a.school
    assert stored.storage_key.startswith(f"files/{tenant_a.school.pk}/")
    assert "レポート" not in stored.storage_key and ".pdf" not in stored.storage_key
    assert len(stored.sha256) == 64

    download = pupil.get(f"/files/{stored.pk}/")
    assert download.status_code == 200
    assert body(download) == content
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E" in download["Content-Disposition"]
    assert_sandboxed(download)
    # Only images are ever shown inline.
    assert pupil.get(f"/files/{stored.pk}/?inline=1")["Content-Disposition"].startswith("attachment; ")
    assert pupil.get(f"/files/{stored.pk}/thumbnail/").status_code == 404


def test_images_have_a_thumbnail_and_may_be_shown_inline(pupil: Client) -> None:
    response = post_file(pupil, "photo.jpg", samples.jpeg_with_gps())
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "image"
    assert data["thumbnail"] == f"/files/{data['id']}/thumbnail/"

    inline = pupil.get(f"/files/{data['id']}/?inline=1")
    assert inline.status_code == 200
    assert inline["Content-Disposition"].startswith("inline; ")
    assert inline["Content-Type"] == "image/jpeg"
    assert_sandboxed(inline)
    assert b"Exif" not in body(inline)

    thumbnail = pupil.get(data["thumbnail"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/webp"
    assert_sandboxed(thumbnail)


@pytest.mark.parametrize("label", ["html named photo.jpg", "svg", "elf", "plain zip", "random bytes named pdf"])
def test_refused_content_answers_400_with_what_is_allowed(pupil: Client, label: str) -> None:
    name, content = samples.REFUSED[label]
    response = post_file(pupil, name, content)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("This kind of file cannot be uploaded. Allowed are images")
    assert not StoredFile.objects.filter(name__startswith=name.split(".")[0]).exists()


def test_refusals_are_in_the_users_language(tenant_a: Tenant, tenant_b: Tenant) -> None:
    # Tenant A's default language is Japanese, tenant B's Traditional Chinese.
    japanese = post_file(login_as(Client(), tenant_a.student), "photo.jpg", samples.HTML)
    assert japanese.status_code == 400
    assert japanese.json()["detail"].startswith("この種類のファイルはアップロードできません。")
    chinese = post_file(login_as(Client(), tenant_b.student), "drawing.svg", samples.SVG)
    assert chinese.json()["detail"].startswith("無法上傳這種類型的檔案。")


def test_a_missing_file_and_a_bomb_are_refused_not_a_server_error(pupil: Client) -> None:
    missing = pupil.post("/files/", {"name": "x"})
    assert missing.status_code == 400
    assert missing.json() == {"detail": "Choose a file to upload."}
    bomb = post_file(pupil, "bomb.png", samples.png_header_only(100_000, 100_000))
    assert bomb.status_code == 400
    assert "This image is too large" in bomb.json()["detail"]
    broken = post_file(pupil, "broken.png", samples.image_bytes("PNG")[:70])
    assert broken.status_code == 400
    assert pupil.get("/files/").status_code == 405


def test_uploads_over_the_tenant_limit_are_refused(tenant_a: Tenant, pupil: Client) -> None:
    tenant_a.municipality.max_upload_mb = 1
    tenant_a.municipality.save(update_fields=["max_upload_mb"])
    big = samples.pdf(padding=1024 * 1024 + 10)
    response = post_file(pupil, "big.pdf", big)
    assert response.status_code == 413
    assert response.json() == {"detail": "This file is larger than 1 MB, the largest file your school allows."}
    assert not StoredFile.objects.filter(owner=tenant_a.student, name="big.pdf").exists()
    # Just under the limit is fine.
    assert post_file(pupil, "ok.pdf", samples.pdf(padding=1024 * 1024 - 1000)).status_code == 201
    # Another tenant's limit is its own.
    tenant_a.municipality.max_upload_mb = 2
    tenant_a.municipality.save(update_fields=["max_upload_mb"])
    assert post_file(pupil, "big.pdf", big).status_code == 201


def test_the_size_limit_in_japanese(tenant_a: Tenant) -> None:
    tenant_a.municipality.max_upload_mb = 1
    tenant_a.municipality.save(update_fields=["max_upload_mb"])
    response = post_file(login_as(Client(), tenant_a.student), "big.pdf", samples.pdf(padding=2 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["detail"] == "このファイルは、学校で許可されている上限の 1 MB を超えています。"


def test_others_cannot_fetch_a_file_by_guessing_its_url(tenant_a: Tenant, tenant_b: Tenant) -> None:
    owner = login_as(Client(), tenant_a.student)
    file_id = post_file(owner, "photo.jpg", samples.jpeg_with_gps()).json()["id"]
    urls = [f"/files/{file_id}/", f"/files/{file_id}/?inline=1", f"/files/{file_id}/thumbnail/"]
    for url in urls:
        assert owner.get(url).status_code == 200
    outsiders = [
        tenant_a.classmate,
        tenant_a.other_class_student,
        tenant_a.teacher,  # a pupil's own file is not on any card of the teacher's lessons
        tenant_a.school_admin,
        tenant_a.municipal_admin,
        tenant_b.student,
        tenant_b.teacher,
        tenant_b.school_admin,
    ]
    for user in outsiders:
        client = login_as(Client(), user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 404, f"{user.role} {user.username} got {url}"
            assert b"photo" not in response.content
    anonymous = Client().get(urls[0])
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert login_as(Client(), tenant_a.student).get("/files/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_file_on_a_submitted_card_is_seen_by_the_teacher_of_that_class_only(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    url = f"/files/{tenant_a.file.pk}/"  # the fixture's student file on a submitted card
    assert login_as(Client(), tenant_a.student).get(url).status_code == 200
    assert login_as(Client(), tenant_a.teacher).get(url).status_code == 200
    for user in (tenant_a.other_class_student, tenant_b.teacher, tenant_b.student):
        assert login_as(Client(), user).get(url).status_code == 404
    # And the other way round: A's teacher cannot reach B's file.
    assert login_as(Client(), tenant_a.teacher).get(f"/files/{tenant_b.file.pk}/").status_code == 404


def test_a_file_missing_from_storage_is_not_found_not_a_server_error(pupil: Client) -> None:
    stored = StoredFile.objects.get(pk=post_file(pupil, "a.pdf", samples.pdf()).json()["id"])
    default_storage.delete(stored.storage_key)
    assert pupil.get(f"/files/{stored.pk}/").status_code == 404


def test_a_malformed_multipart_body_is_a_400(pupil: Client) -> None:
    response = pupil.generic(
        "POST",
        "/files/",
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n',
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 400


def test_the_upload_handler_stops_reading_over_the_limit(
    tenant_a: Tenant, pupil: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body is not spooled to disk in full: the handler stops at the limit."""
    tenant_a.municipality.max_upload_mb = 1
    tenant_a.municipality.save(update_fields=["max_upload_mb"])
    seen: list[int] = []
    original = uploads.UploadLimitHandler.receive_data_chunk

    def counting(self: Any, raw_data: bytes, start: int) -> bytes:
        seen.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(uploads.UploadLimitHandler, "receive_data_chunk", counting)
    response = post_file(pupil, "huge.pdf", samples.pdf(padding=8 * 1024 * 1024))
    assert response.status_code == 413
    assert sum(seen) < 2 * 1024 * 1024


def test_uploads_refuse_users_without_a_school(tenant_a: Tenant) -> None:
    client = login_as(Client(), english(tenant_a.municipal_admin))
    response = post_file(client, "a.pdf", samples.pdf())
    assert response.status_code == 400
    assert response.json()["detail"] == "Only members of a school can upload files."


def test_the_stored_file_is_the_uploaded_file(pupil: Client) -> None:
    content = samples.ALLOWED["essay.docx"][0]
    data = post_file(pupil, "作文.docx", content).json()
    assert data["kind"] == "office"
    stored = StoredFile.objects.get(pk=data["id"])
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert body(pupil.get(f"/files/{stored.pk}/")) == content


def test_a_browser_upload_passes_the_csrf_check_and_the_size_limit_still_answers_413(
    tenant_a: Tenant,
) -> None:
    """With CSRF enforced, the middleware parses the body before the view: the limit holds there too."""
    client = login_as(Client(enforce_csrf_checks=True), english(tenant_a.student))
    token = "k" * 32
    client.cookies["csrftoken"] = token
    pdf = samples.pdf()
    refused = client.post("/files/", {"file": samples.upload("a.pdf", pdf)})
    assert refused.status_code == 403
    accepted = client.post("/files/", {"file": samples.upload("a.pdf", pdf)}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content

    tenant_a.municipality.max_upload_mb = 1
    tenant_a.municipality.save(update_fields=["max_upload_mb"])
    big = samples.pdf(padding=3 * 1024 * 1024)
    in_header = client.post("/files/", {"file": samples.upload("big.pdf", big)}, HTTP_X_CSRFTOKEN=token)
    assert in_header.status_code == 413
    as_first_field = client.post("/files/", {"csrfmiddlewaretoken": token, "file": samples.upload("big.pdf", big)})
    assert as_first_field.status_code == 413
    assert as_first_field.json()["detail"].startswith("This file is larger than 1 MB")
