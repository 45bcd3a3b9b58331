"""Uploads through the API (multipart) and a file's description; the bytes stay on /files/<uuid>/."""

from __future__ import annotations

from django.test import override_settings

from classnote.files.models import StoredFile
from tests.api.conftest import english, session, with_token
from tests.conftest import Tenant
from tests.files import samples


def test_an_upload_is_described_and_downloaded_through_the_web_route(tenant_a: Tenant) -> None:
    client = session(tenant_a.student)
    response = client.post("/api/files", {"file": samples.upload("写真.jpg", samples.jpeg_with_gps())})
    assert response.status_code == 201, response.content
    described = response.json()
    assert described["kind"] == "image" and described["name"] == "写真.jpg"
    assert described["thumbnail"] == f"/files/{described['id']}/thumbnail/"
    stored = StoredFile.objects.get(pk=described["id"])
    assert stored.owner == tenant_a.student

    again = client.get(f"/api/files/{described['id']}")
    assert again.status_code == 200 and again.json() == described
    assert client.get(described["download"]).status_code == 200


def test_refused_uploads_answer_json(tenant_a: Tenant) -> None:
    english(tenant_a.student)
    client = session(tenant_a.student)
    html = client.post("/api/files", {"file": samples.upload("page.html", b"<html><script>x</script>")})
    assert html.status_code == 400 and "cannot be uploaded" in html.json()["detail"]
    empty = client.post("/api/files", {})
    assert empty.status_code == 400 and empty.json()["detail"] == "Choose a file to upload."
    garbled = client.generic("POST", "/api/files", b"--x\r\nbroken", content_type="multipart/form-data; boundary=x")
    assert 400 <= garbled.status_code < 500 and garbled.json()["detail"]
    assert StoredFile.objects.filter(owner=tenant_a.student).count() == 1  # the conftest's file only


def test_an_upload_over_the_schools_limit_is_413(tenant_a: Tenant) -> None:
    tenant_a.municipality.max_upload_mb = 1
    tenant_a.municipality.save(update_fields=["max_upload_mb"])
    client = session(tenant_a.teacher)
    response = client.post("/api/files", {"file": samples.upload("big.pdf", samples.pdf(padding=2 * 1024 * 1024))})
    assert response.status_code == 413
    assert response.json()["detail"]


def test_a_token_uploads_without_csrf(tenant_a: Tenant) -> None:
    client = with_token(tenant_a.teacher)
    response = client.post("/api/files", {"file": samples.upload("notes.pdf", samples.pdf())})
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "pdf"


@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=1)
def test_too_many_files_are_refused_with_json(tenant_a: Tenant) -> None:
    client = with_token(tenant_a.teacher)
    files = [samples.upload(f"n{i}.pdf", samples.pdf()) for i in range(3)]
    response = client.post("/api/files", {"file": files})
    assert response.status_code == 400 and response.json()["detail"]


def test_files_of_others_are_not_found(tenant_a: Tenant, tenant_b: Tenant) -> None:
    # The pupil's file is readable to the class's teacher (through the pupil's card) ...
    assert session(tenant_a.teacher).get(f"/api/files/{tenant_a.file.pk}").status_code == 200
    # ... not to a classmate, nor to another school's teacher; a malformed id is invalid.
    assert session(tenant_a.classmate).get(f"/api/files/{tenant_a.file.pk}").status_code == 404
    outsider = with_token(tenant_b.teacher)
    assert outsider.get(f"/api/files/{tenant_a.file.pk}").status_code == 404
    malformed = outsider.get("/api/files/not-a-uuid")
    assert malformed.status_code == 422 and malformed.json()["detail"]
