"""The web's one handler of refusals (classnote.core.refusals): a view raises ActionError and the
page the form was on shows the message; nothing else of the request is trusted for the way back."""

from __future__ import annotations

import json

from django.test import Client

from tests.conftest import Tenant, login_as
from tests.pages import english_tenant  # noqa: F401 - provides the fixture `t`


def _messages(client: Client, path: str) -> list[str]:
    return [str(message) for message in client.get(path).context["messages"]]


def test_a_refusal_returns_to_the_same_site_page_the_form_was_on(t: Tenant) -> None:
    client = login_as(Client(), t.teacher)
    lesson = f"/lessons/{t.lesson.pk}/"
    answer = client.post(f"{lesson}send/", {"to": "class"}, HTTP_REFERER=f"http://testserver{lesson}?tab=2")
    assert (answer.status_code, answer["Location"]) == (302, f"{lesson}?tab=2")
    assert _messages(client, lesson) == ["Choose cards to send."]


def test_a_referer_of_another_site_is_not_followed(t: Tenant) -> None:
    """The way back is the page the view names (@back_to), never another host."""
    client = login_as(Client(), t.teacher)
    lesson = f"/lessons/{t.lesson.pk}/"
    for referer in ("https://evil.example/lessons/1/", "http://testserver.evil.example/", "//evil.example/"):
        answer = client.post(f"{lesson}send/", {"to": "class"}, HTTP_REFERER=referer)
        assert (answer.status_code, answer["Location"]) == (302, lesson), referer


def test_without_a_referer_or_a_named_page_the_way_back_is_home(t: Tenant) -> None:
    client = login_as(Client(), t.student)
    answer = client.post(f"/boxes/{t.box.pk}/submit/", {"card": "999999"})
    assert answer.status_code == 404  # not one of the pupil's cards: NotFound, the 404 page
    t.box.is_open = False
    t.box.save(update_fields=["is_open"])
    copy = t.submission.card.origin
    answer = client.post(f"/boxes/{t.box.pk}/submit/", {"card": str(copy.pk)})
    assert (answer.status_code, answer["Location"]) == (302, "/home/")
    assert "This submission box is closed." in _messages(client, "/home/")


def test_the_card_editor_gets_its_refusals_as_json(t: Tenant) -> None:
    client = login_as(Client(), t.student)
    copy = t.submission.card.origin
    for body, content_type in (("{not json", "application/json"), ("version=1", "application/x-www-form-urlencoded")):
        answer = client.post(f"/cards/{copy.pk}/autosave/", body, content_type=content_type)
        assert answer.status_code == 400
        assert answer["Content-Type"] == "application/json"
        assert json.loads(answer.content) == {"detail": "The request is not valid."}
    # Someone else's card: 404 before anything of the body is looked at.
    other = login_as(Client(), t.classmate)
    assert other.post(f"/cards/{copy.pk}/autosave/", "{not json", content_type="application/json").status_code == 404
