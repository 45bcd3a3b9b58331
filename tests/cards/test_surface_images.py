"""Pictures on a card's surface (classnote.cards.surface, image items): a picture is one of the card
owner's uploaded images, checked on the server (a missing, foreign or non-image file is refused with
one translated message, never a 500 and never a hint that another's file exists), at most
MAX_IMAGES a card; the renderer draws it under the ink; whoever reads the card sees it (its rendered
picture, and the item's own route scoped by the card), nobody else."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image

from classnote.base.errors import ActionError
from classnote.cards import drawings, render, surface
from classnote.cards.actions import autosave, copy_card, create_card
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.files.services import store_upload
from classnote.lessons.actions import submit
from tests.conftest import Tenant, login_as
from tests.files import samples

RED = (220, 30, 30)
MESSAGE = "A picture on the card cannot be used. Add it again from your device."


def red_png(size: tuple[int, int] = (80, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, RED).save(out, "PNG")
    return out.getvalue()


def picture_of(user: Any, content: bytes | None = None, name: str = "え.png") -> StoredFile:
    return store_upload(user, samples.upload(name, content or red_png(), "image/png"))


def image_item(stored: StoredFile | str, **box: int) -> dict[str, Any]:
    file_id = stored if isinstance(stored, str) else str(stored.pk)
    return {"k": "image", "f": file_id, "x": 100, "y": 100, "w": 400, "h": 300, **box}


def autosave_json(client: Client, card: Card, fields: dict[str, Any]) -> Any:
    client.get(f"/cards/{card.pk}/")
    card.refresh_from_db()
    return client.post(
        f"/cards/{card.pk}/autosave/",
        json.dumps({"version": card.version, "fields": fields}),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value, "Accept": "application/json"},
    )


@pytest.fixture
def pupil(tenant_a: Tenant) -> Client:
    return login_as(Client(enforce_csrf_checks=True), tenant_a.student)


def drawing_card(tenant: Tenant) -> Card:
    return create_card(tenant.student, kind="drawing", lesson_id=tenant.lesson.pk)


# --- shape ---------------------------------------------------------------------------------------------


def test_an_image_item_is_stored_with_its_file_id_and_box() -> None:
    file_id = str(uuid.uuid4())
    assert surface.validate_items([image_item(file_id)]) == [image_item(file_id)]
    assert surface.validate_items([image_item(file_id.upper())])[0]["f"] == file_id  # one spelling stored


@pytest.mark.parametrize(
    "item",
    [
        image_item("not-a-uuid"),
        image_item(str(uuid.uuid4()), x=700),  # past the card's right edge
        image_item(str(uuid.uuid4()), w=20),  # too small
        {**image_item(str(uuid.uuid4())), "f": 12},
        {**image_item(str(uuid.uuid4())), "t": "text"},  # a picture has no text
        {key: value for key, value in image_item(str(uuid.uuid4())).items() if key != "f"},
        {"k": "text", "f": str(uuid.uuid4()), "x": 0, "y": 0, "w": 100, "h": 50, "t": "", "c": "#1d2433"},
    ],
)
def test_an_image_item_not_of_the_stored_shape_is_refused(item: Any) -> None:
    with pytest.raises(ActionError):
        surface.validate_items([item])


def test_at_most_max_images_pictures() -> None:
    pictures = [image_item(str(uuid.uuid4()), w=40, h=30) for _ in range(surface.MAX_IMAGES)]
    assert len(surface.validate_items(pictures)) == surface.MAX_IMAGES
    with pytest.raises(ActionError):
        surface.validate_items([*pictures, image_item(str(uuid.uuid4()), w=40, h=30)])


def test_pictures_add_no_text_to_the_card() -> None:
    text = {"k": "text", "x": 0, "y": 0, "w": 300, "h": 60, "t": "ねこ", "c": "#1d2433"}
    assert surface.items_text([image_item(str(uuid.uuid4())), text]) == "ねこ"


# --- the file behind a picture -----------------------------------------------------------------------


def test_the_pupil_places_their_own_picture(tenant_a: Tenant, pupil: Client) -> None:
    card = drawing_card(tenant_a)
    stored = picture_of(tenant_a.student)
    saved = autosave_json(pupil, card, {"items": [image_item(stored)]})
    assert saved.status_code == 200, saved.content
    card.refresh_from_db()
    assert card.items == [image_item(stored)] and card.text == ""


def test_a_foreign_missing_or_non_image_file_is_refused_with_one_message(
    tenant_a: Tenant, tenant_b: Tenant, pupil: Client
) -> None:
    card = drawing_card(tenant_a)
    classmates = picture_of(tenant_a.classmate)
    other_schools = picture_of(tenant_b.student)
    document = store_upload(tenant_a.student, samples.upload("作文.pdf", samples.pdf()))
    with translation.override("ja"):
        expected = gettext(MESSAGE)
    assert expected != MESSAGE, "not translated"
    for file_id in (str(classmates.pk), str(other_schools.pk), str(uuid.uuid4()), str(document.pk)):
        refused = autosave_json(pupil, card, {"items": [image_item(file_id)]})
        assert refused.status_code == 400, refused.content
        assert refused.json()["detail"] == expected  # the same whether the file exists or not
    assert autosave_json(pupil, card, {"items": [image_item("../../etc")]}).json()["detail"] == expected
    card.refresh_from_db()
    assert card.items == [] and card.version == 1


def test_the_api_refuses_a_foreign_picture_and_takes_an_own_one(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.student)
    own = picture_of(tenant_a.student)
    foreign = picture_of(tenant_a.classmate)
    made = client.post(
        "/api/cards",
        {"kind": "drawing", "lesson_id": tenant_a.lesson.pk, "items": [image_item(foreign)]},
        content_type="application/json",
    )
    assert made.status_code == 400, made.content
    made = client.post(
        "/api/cards",
        {"kind": "drawing", "lesson_id": tenant_a.lesson.pk, "items": [image_item(own)]},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["items"] == [image_item(own)]


def test_a_card_sent_to_a_pupil_keeps_the_senders_pictures_when_the_pupil_edits_it(tenant_a: Tenant) -> None:
    """The pupil may not read the teacher's file, but the picture was on the card already."""
    teachers = picture_of(tenant_a.teacher)
    original = create_card(tenant_a.teacher, kind="drawing", lesson_id=tenant_a.lesson.pk)
    autosave(tenant_a.teacher, original.pk, original.version, {"items": [image_item(teachers)]})
    original.refresh_from_db()
    copy = copy_card(original, owner=tenant_a.student, lesson=tenant_a.lesson)
    moved = autosave(tenant_a.student, copy.pk, copy.version, {"items": [image_item(teachers, x=200)]})
    assert moved.items[0]["x"] == 200


# --- what is drawn and who sees it ------------------------------------------------------------------


def test_the_renderer_draws_the_picture_in_its_box_under_the_ink() -> None:
    file_id = str(uuid.uuid4())
    items = [image_item(file_id)]
    stroke = {"c": "#000000", "w": 20, "e": False, "p": [[100, 250], [500, 250]]}
    image = render.render_drawing([stroke], "", items=items, images={file_id: red_png()})
    assert image.getpixel((300, 150)) == RED  # inside the box
    assert image.getpixel((50, 50)) == (255, 255, 255)  # outside it, the card
    assert image.getpixel((300, 250)) == (0, 0, 0)  # the pen over the picture
    missing = render.render_drawing([], "", items=items, images={})
    assert missing.getpixel((300, 150)) == (255, 255, 255)  # no bytes: left out, no error
    broken = render.render_drawing([], "", items=items, images={file_id: b"not a picture"})
    assert broken.getpixel((300, 150)) == (255, 255, 255)


def test_the_teacher_sees_the_picture_of_a_submitted_card(tenant_a: Tenant) -> None:
    card = drawing_card(tenant_a)
    stored = picture_of(tenant_a.student)
    autosave(tenant_a.student, card.pk, card.version, {"items": [image_item(stored)]})
    snapshot = submit(tenant_a.student, tenant_a.box.pk, card.pk).card
    png = Image.open(io.BytesIO(drawings.picture_now(snapshot))).convert("RGB")
    assert png.getpixel((300, 150)) == RED

    teacher = login_as(Client(), tenant_a.teacher)
    shown = teacher.get(f"/cards/{snapshot.pk}/items/{stored.pk}/")
    assert shown.status_code == 200
    assert Image.open(io.BytesIO(b"".join(shown.streaming_content))).convert("RGB").getpixel((10, 10)) == RED
    # Not the file itself: only through the card that shows it.
    assert teacher.get(f"/files/{stored.pk}/").status_code == 404
    other = picture_of(tenant_a.student)
    assert teacher.get(f"/cards/{snapshot.pk}/items/{other.pk}/").status_code == 404


def test_nobody_who_cannot_read_the_card_sees_its_pictures(tenant_a: Tenant, tenant_b: Tenant) -> None:
    card = drawing_card(tenant_a)
    stored = picture_of(tenant_a.student)
    autosave(tenant_a.student, card.pk, card.version, {"items": [image_item(stored)]})
    assert login_as(Client(), tenant_a.student).get(f"/cards/{card.pk}/items/{stored.pk}/").status_code == 200
    for outsider in (tenant_b.teacher, tenant_a.other_class_student):
        client = login_as(Client(), outsider)
        assert client.get(f"/cards/{card.pk}/items/{stored.pk}/").status_code == 404
