"""Cards through the API: the same actions as the web pages, for the right people only."""

from __future__ import annotations

from classnote.accounts.models import User
from classnote.base.roles import Role
from classnote.cards.models import Card
from classnote.tenancy.models import Membership
from tests.api.conftest import english, send, session, with_token
from tests.conftest import PASSWORD, Tenant
from tests.files import samples

STROKE = {"c": "#FF0000", "w": 99, "e": False, "p": [[10, 20], [2000, -5]]}


def create(client: object, **fields: object) -> dict[str, object]:
    response = send(client, "POST", "/api/cards", {"kind": "text", **fields})
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def test_a_student_lists_the_cards_of_a_lesson_without_submitted_snapshots(tenant_a: Tenant) -> None:
    client = session(tenant_a.student)
    cards = client.get(f"/api/cards?lesson_id={tenant_a.lesson.pk}")
    assert cards.status_code == 200
    listed = cards.json()
    assert [c["title"] for c in listed] == ["Task card aaa"]
    received = listed[0]
    assert received["mine"] and received["editable"] and not received["frozen"]
    assert received["file"]["id"] == str(tenant_a.file.pk)  # the conftest attached a file to it
    assert received["file"]["download"] == f"/files/{tenant_a.file.pk}/"
    assert client.get("/api/cards").json() == listed
    # A lesson of another class or school: not found, not an empty list.
    assert client.get("/api/cards?lesson_id=999999").status_code == 404


def test_cards_of_each_kind_are_made_and_checked(tenant_a: Tenant) -> None:
    english(tenant_a.student)
    client = session(tenant_a.student)
    text = create(client, title="My idea", text="Because…", lesson_id=tenant_a.lesson.pk)
    assert text["lesson_id"] == tenant_a.lesson.pk and text["version"] == 1
    link = create(client, kind="link", link_url="https://example.org/a")
    assert link["link_url"] == "https://example.org/a"
    drawing = create(client, kind="drawing", strokes=[STROKE], background="venn")
    assert drawing["strokes"] == [{"c": "#ff0000", "w": 60, "e": False, "p": [[10, 20], [1000, 0]]}]
    assert drawing["thumbnail"] == f"/cards/{drawing['id']}/thumbnail/"

    for body in (
        {"kind": "link"},  # no link
        {"kind": "link", "link_url": "javascript:alert(1)"},
        {"kind": "link", "link_url": "http://"},  # refused by the model's URL validation
        {"kind": "image"},  # no file
        {"kind": "text", "file_id": str(tenant_a.file.pk)},
        {"kind": "drawing", "strokes": [{"c": "red", "p": [[1, 2]]}]},
    ):
        refused = send(client, "POST", "/api/cards", body)
        assert refused.status_code in {400, 422}, (body, refused.content)
        assert refused.json()["detail"], body
    # A lesson of another class: not found.
    other = send(client, "POST", "/api/cards", {"kind": "text", "lesson_id": 999999})
    assert other.status_code == 404


def test_image_cards_use_an_uploaded_file_of_ones_own(tenant_a: Tenant) -> None:
    client = session(tenant_a.teacher)
    uploaded = client.post("/api/files", {"file": samples.upload("photo.jpg", samples.jpeg_with_gps())})
    assert uploaded.status_code == 201, uploaded.content
    file_id = uploaded.json()["id"]
    card = create(client, kind="image", file_id=file_id)
    assert card["kind"] == "image" and card["title"] == "photo.jpg" and card["file"]["id"] == file_id
    # A PDF named as an image is a file card.
    pdf = client.post("/api/files", {"file": samples.upload("notes.pdf", samples.pdf())}).json()
    assert create(client, kind="image", file_id=pdf["id"])["kind"] == "file"
    # The pupil's file (readable to the teacher through the pupil's card) is not the teacher's to attach.
    theirs = send(client, "POST", "/api/cards", {"kind": "file", "file_id": str(tenant_a.file.pk)})
    assert theirs.status_code == 400


def test_autosave_saves_and_refuses_a_stale_version_with_the_current_copy(tenant_a: Tenant) -> None:
    client = session(tenant_a.student)
    card = create(client, title="Draft")
    path = f"/api/cards/{card['id']}"
    saved = send(client, "PATCH", path, {"version": 1, "fields": {"text": "first", "title": None}})
    assert saved.status_code == 200, saved.content
    assert saved.json()["version"] == 2
    stale = send(client, "PATCH", path, {"version": 1, "fields": {"text": "from another tab"}})
    assert stale.status_code == 409
    body = stale.json()
    assert body["version"] == 2
    assert body["fields"]["text"] == "first" and body["fields"]["title"] == "Draft"
    assert body["detail"]
    assert Card.objects.get(pk=card["id"]).text == "first"
    # Someone else's card, or a submitted snapshot: not found.
    assert send(session(tenant_a.classmate), "PATCH", path, {"version": 2, "fields": {}}).status_code == 404
    snapshot = tenant_a.submission.card_id
    assert send(client, "PATCH", f"/api/cards/{snapshot}", {"version": 1, "fields": {}}).status_code == 404


def test_delete_sequence_library_and_materials(tenant_a: Tenant) -> None:
    teacher = session(tenant_a.teacher)
    lead, first, second = (create(teacher, title=t) for t in ("Lead", "One", "Two"))
    linked = send(teacher, "POST", f"/api/cards/{lead['id']}/sequence", {"card_ids": [second["id"], first["id"]]})
    assert linked.status_code == 200, linked.content
    assert [c["title"] for c in linked.json()["sequence"]] == ["Two", "One"]
    assert teacher.get(f"/api/cards/{first['id']}").json()["sequence_of"] == lead["id"]
    # Only one's own cards can be linked.
    foreign = send(teacher, "POST", f"/api/cards/{lead['id']}/sequence", {"card_ids": [tenant_a.submission.card_id]})
    assert foreign.status_code == 400

    copied = send(teacher, "POST", f"/api/cards/{lead['id']}/library", {"library": "school"})
    assert copied.status_code == 201 and copied.json()["library"] == "school"
    assert len(copied.json()["sequence"]) == 2
    materials = teacher.get("/api/materials").json()
    assert [c["id"] for c in materials["school"]] == [copied.json()["id"]]
    assert materials["personal"] == []

    deleted = send(teacher, "DELETE", f"/api/cards/{second['id']}")
    assert deleted.status_code == 204
    assert teacher.get(f"/api/cards/{second['id']}").status_code == 404
    assert send(teacher, "DELETE", f"/api/cards/{tenant_a.submission.card_id}").status_code == 404


def test_students_have_no_materials_box(tenant_a: Tenant) -> None:
    client = session(tenant_a.student)
    own = create(client, title="x")
    assert client.get("/api/materials").status_code == 403
    refused = send(client, "POST", f"/api/cards/{own['id']}/library", {"library": "personal"})
    assert refused.status_code == 403
    assert refused.json()["detail"]
    school = send(client, "POST", "/api/cards", {"kind": "text", "library": "school"})
    assert school.status_code == 400


def test_cards_of_other_classes_and_schools_are_not_found(tenant_a: Tenant, tenant_b: Tenant) -> None:
    outsider = with_token(tenant_b.teacher)
    for card_id in (tenant_a.card.pk, tenant_a.submission.card_id):
        assert outsider.get(f"/api/cards/{card_id}").status_code == 404
        assert send(outsider, "PATCH", f"/api/cards/{card_id}", {"version": 1, "fields": {}}).status_code == 404
        assert send(outsider, "DELETE", f"/api/cards/{card_id}").status_code == 404
    # A teacher of the same school who does not teach the class.
    colleague = User.objects.create_user(
        "aaa-colleague",
        PASSWORD,
        display_name="Colleague",
        role=Role.TEACHER,
        municipality=tenant_a.municipality,
        school=tenant_a.school,
    )
    Membership.objects.create(school_class=tenant_a.other_class, user=colleague, role="teacher")
    client = with_token(colleague)
    assert client.get(f"/api/cards/{tenant_a.submission.card_id}").status_code == 404
    assert client.get(f"/api/cards/{tenant_a.card.pk}").status_code == 404
    # The class's teacher reads the pupil's submitted card but cannot edit it.
    teacher = session(tenant_a.teacher)
    assert teacher.get(f"/api/cards/{tenant_a.submission.card_id}").json()["editable"] is False
