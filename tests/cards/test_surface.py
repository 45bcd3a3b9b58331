"""Text boxes and stickies on a card (classnote.cards.surface): what is stored is checked strictly
(kinds, keys, boxes on the card, colours from the editor's lists, text limits), a bad item is a
translated 400 through the editor's autosave and the API, a drawing card's text is its items' text,
and the renderer draws the items (Japanese text with a CJK font, clipped to its box)."""

from __future__ import annotations

import importlib
import io
import json
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image, ImageChops

from classnote.base.errors import ActionError
from classnote.cards import render, surface
from classnote.cards.actions import autosave, create_card
from classnote.cards.models import Card
from classnote.cards.templates_bg import background_image
from tests.conftest import Tenant, login_as

TEXT = {"k": "text", "x": 100, "y": 300, "w": 300, "h": 60, "t": "ねこはさかながすき", "c": "#1d2433"}
STICKY = {"k": "sticky", "x": 600, "y": 100, "w": 240, "h": 170, "t": "ふしぎ", "c": "#fff59d"}


# --- validation --------------------------------------------------------------------------------------


def test_valid_items_are_stored_as_given() -> None:
    assert surface.validate_items([TEXT, STICKY]) == [TEXT, STICKY]
    assert surface.validate_items([]) == []


def test_a_missing_or_empty_colour_is_the_kinds_first_and_colours_are_lower_case() -> None:
    bare = {key: value for key, value in STICKY.items() if key != "c"}
    assert surface.validate_items([bare])[0]["c"] == "#fff59d"
    assert surface.validate_items([{**TEXT, "c": ""}])[0]["c"] == "#1d2433"
    assert surface.validate_items([{**TEXT, "c": "#D32F2F"}])[0]["c"] == "#d32f2f"


@pytest.mark.parametrize(
    "item",
    [
        {**TEXT, "k": "image"},  # kinds are whitelisted
        {**TEXT, "k": None},
        {**TEXT, "z": 1},  # no other keys
        {**TEXT, "x": 701},  # x + w past the card's right edge
        {**TEXT, "y": 691},  # y + h past the bottom
        {**TEXT, "x": -1},
        {**TEXT, "w": 39},  # too small to hold anything
        {**TEXT, "h": 751},
        {**TEXT, "x": 10.5},  # whole numbers only
        {**TEXT, "x": True},
        {**TEXT, "x": "10"},
        {**TEXT, "x": 10**400},
        {**TEXT, "c": "#fff59d"},  # a paper colour is no text colour
        {**STICKY, "c": "#1d2433"},  # and the other way round
        {**TEXT, "c": "red"},
        {**TEXT, "t": 5},
        {**TEXT, "t": "a\x00b"},
        {**TEXT, "t": "\ud800"},  # a lone surrogate: no database stores it
        {**TEXT, "t": "あ" * 2001},
        "text",
        ["text", 1, 2],
    ],
)
def test_an_item_that_is_not_exactly_the_stored_shape_is_refused(item: Any) -> None:
    with pytest.raises(ActionError):
        surface.validate_items([item])


def test_too_many_items_or_too_much_text_are_refused() -> None:
    with pytest.raises(ActionError):
        surface.validate_items("[]")
    with pytest.raises(ActionError):
        surface.validate_items([TEXT] * (surface.MAX_ITEMS + 1))
    full = {**TEXT, "t": "あ" * surface.MAX_ITEM_TEXT}
    assert len(surface.validate_items([full] * 10)) == 10  # 20,000 characters in all
    with pytest.raises(ActionError):
        surface.validate_items([full] * 10 + [{**TEXT, "t": "あ"}])


def test_the_text_of_items_is_in_reading_order() -> None:
    items = surface.validate_items(
        [
            {**TEXT, "y": 400, "t": "したの"},
            {**TEXT, "x": 400, "y": 10, "t": "みぎうえ"},
            {**TEXT, "x": 0, "y": 10, "t": "ひだりうえ"},
        ]
    )
    assert surface.items_text(items) == "ひだりうえ\nみぎうえ\nしたの"
    assert surface.items_text([{**TEXT, "t": "  "}]) == ""


# --- the action: the editor's autosave and the API ----------------------------------------------------


def autosave_json(client: Client, card: Card, fields: dict[str, Any], version: int | None = None) -> Any:
    client.get(f"/cards/{card.pk}/")
    return client.post(
        f"/cards/{card.pk}/autosave/",
        json.dumps({"version": card.version if version is None else version, "fields": fields}),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value, "Accept": "application/json"},
    )


@pytest.fixture
def pupil(tenant_a: Tenant) -> Client:
    return login_as(Client(enforce_csrf_checks=True), tenant_a.student)


def test_autosave_stores_items_and_the_drawing_cards_text_is_theirs(tenant_a: Tenant, pupil: Client) -> None:
    card = create_card(tenant_a.student, kind="drawing", lesson_id=tenant_a.lesson.pk, background="venn")
    saved = autosave_json(pupil, card, {"items": [STICKY, TEXT]})
    assert saved.status_code == 200, saved.content
    card.refresh_from_db()
    assert card.items == [STICKY, TEXT]
    assert card.text == "ふしぎ\nねこはさかながすき"
    page = pupil.get(f"/cards/{card.pk}/").content.decode()
    script = page.split('id="card-items" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(script) == [STICKY, TEXT]  # what card.js hands to surface.js
    stale = autosave_json(pupil, card, {"items": []}, version=1)
    assert stale.status_code == 409 and stale.json()["fields"]["items"] == [STICKY, TEXT]


def test_a_bad_item_is_a_translated_400_and_nothing_is_saved(tenant_a: Tenant, pupil: Client) -> None:
    card = create_card(tenant_a.student, kind="drawing", lesson_id=tenant_a.lesson.pk)
    refused = autosave_json(pupil, card, {"items": [{**TEXT, "x": 900}]}, version=card.version)
    assert refused.status_code == 400, refused.content
    with translation.override("ja"):
        expected = gettext("A text box or sticky on the card is not valid.")
    assert expected != "A text box or sticky on the card is not valid.", "not translated"
    assert refused.json()["detail"] == expected  # the pupil's school speaks Japanese
    assert autosave_json(pupil, card, {"items": [{**TEXT, "k": "shape"}]}).status_code == 400
    card.refresh_from_db()
    assert card.items == [] and card.version == 1


def test_text_alone_on_a_drawing_card_and_items_on_a_text_card_are_refused(tenant_a: Tenant, pupil: Client) -> None:
    drawing = create_card(tenant_a.student, kind="drawing", lesson_id=tenant_a.lesson.pk)
    assert autosave_json(pupil, drawing, {"text": "under the card"}).status_code == 400
    text = create_card(tenant_a.student, kind="text", lesson_id=tenant_a.lesson.pk)
    assert autosave_json(pupil, text, {"items": [TEXT]}).status_code == 400
    assert autosave_json(pupil, text, {"items": [], "text": "ok"}).status_code == 200


def test_a_new_drawing_card_given_text_gets_it_as_a_text_box(tenant_a: Tenant) -> None:
    card = create_card(tenant_a.student, kind="drawing", lesson_id=tenant_a.lesson.pk, text="はじめの ことば")
    assert [(item["k"], item["t"]) for item in card.items] == [("text", "はじめの ことば")]
    assert card.text == "はじめの ことば"
    edited = autosave(tenant_a.student, card.pk, card.version, {"items": [TEXT]})
    assert edited.text == TEXT["t"]


def test_the_api_takes_and_gives_items_through_the_same_action(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.student)
    made = client.post(
        "/api/cards",
        {"kind": "drawing", "lesson_id": tenant_a.lesson.pk, "background": "venn", "items": [TEXT]},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["items"] == [TEXT] and body["text"] == TEXT["t"]
    patched = client.patch(
        f"/api/cards/{body['id']}",
        {"version": body["version"], "fields": {"items": [TEXT, STICKY]}},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    assert client.get(f"/api/cards/{body['id']}").json()["items"] == [TEXT, STICKY]
    bad = client.patch(
        f"/api/cards/{body['id']}",
        {"version": patched.json()["version"], "fields": {"items": [{**TEXT, "x": 800}]}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["detail"] == "カードの上のテキストボックスかふせんが正しくありません。"
    wrong_kind = client.patch(
        f"/api/cards/{body['id']}",
        {"version": patched.json()["version"], "fields": {"items": [{**TEXT, "k": "circle"}]}},
        content_type="application/json",
    )
    assert wrong_kind.status_code == 422


# --- rendering -------------------------------------------------------------------------------------------


def changed_pixels(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> int:
    difference = ImageChops.difference(a.crop(box), b.crop(box)).convert("L").point(lambda v: 255 if v > 60 else 0)
    return sum(1 for v in difference.getdata() if v)


def test_the_renderer_draws_text_boxes_and_stickies_over_the_background() -> None:
    plain = background_image("venn").convert("RGB")
    drawn = render.render_drawing([], "venn", items=[TEXT, STICKY])
    assert changed_pixels(drawn, plain, (100, 300, 400, 360)) > 300  # the text
    assert drawn.getpixel((720, 250)) == (0xFF, 0xF5, 0x9D)  # the sticky's paper
    assert changed_pixels(drawn, plain, (0, 0, 1000, 290)) == changed_pixels(drawn, plain, (590, 90, 850, 290))


def test_text_is_drawn_in_a_cjk_font_and_cut_at_its_box() -> None:
    one = render.render_drawing([], "", items=[{**TEXT, "t": "ねこ"}])
    other = render.render_drawing([], "", items=[{**TEXT, "t": "いぬ"}])
    assert changed_pixels(one, other, (100, 300, 400, 360)) > 50, "different kana look the same (no CJK glyphs?)"
    long = render.render_drawing([], "", items=[{**TEXT, "t": "あ" * 400, "h": 60}])
    white = Image.new("RGB", (1000, 750), (255, 255, 255))
    assert changed_pixels(long, white, (100, 300, 400, 360)) > 500
    assert changed_pixels(long, white, (0, 362, 1000, 750)) == 0, "text below the box"
    assert changed_pixels(long, white, (402, 0, 1000, 750)) == 0, "text right of the box"


def test_wrapping_keeps_latin_words_whole_and_breaks_japanese_anywhere() -> None:
    face = render.font(28)
    lines = render.wrap("the quick brown fox jumps", face, face.getlength("the quick brown"))
    assert lines == ["the quick brown", "fox jumps"]
    assert render.wrap("あいうえおかきくけこ", face, face.getlength("あいうえお")) == ["あいうえお", "かきくけこ"]


def test_pictures_of_a_stored_card_show_its_items() -> None:
    plain = render.pictures_of_json("[]", "venn")
    with_items = render.pictures_of_json("[]", "venn", json.dumps([TEXT]))
    assert with_items["full"] != plain["full"]
    assert Image.open(io.BytesIO(with_items["320"])).size == (320, 240)
    assert render.pictures_of_json("[]", "venn", '[{"k": "shape"}]')["full"] == plain["full"]  # bad data: left out


def test_the_migration_puts_the_text_typed_under_a_drawing_into_text_boxes(tenant_a: Tenant) -> None:
    migration = importlib.import_module("classnote.cards.migrations.0005_card_items")
    drawing = create_card(tenant_a.student, kind="drawing", lesson_id=tenant_a.lesson.pk)
    text = create_card(tenant_a.student, kind="text", lesson_id=tenant_a.lesson.pk, text="テキストカード")
    Card.objects.filter(pk=drawing.pk).update(text="したに かいた ことば", items=[])
    migration.text_into_boxes(apps, None)
    drawing.refresh_from_db()
    text.refresh_from_db()
    assert surface.validate_items(drawing.items) == drawing.items  # what the migration wrote is valid
    assert [item["t"] for item in drawing.items] == ["したに かいた ことば"] and drawing.version == 2
    assert (text.items, text.version) == ([], 1)  # text cards keep their text
