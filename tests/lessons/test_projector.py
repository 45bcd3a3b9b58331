"""The projector (issue 14, tool 10): a box's submissions and a comparison, shown large to the class.
Only the lesson's teachers open it; with names hidden, the page the server sends holds no pupil's
name nor student id (not merely hidden by a style); numbers stand in for them, in the order the
pupils first submitted."""

from __future__ import annotations

import re

import pytest

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.roles import Role
from classnote.lessons import actions
from classnote.lessons.models import Submission
from classnote.tenancy.models import Membership
from tests.conftest import Tenant
from tests.pages import (
    browser,
    copy_of,
    english_tenant,  # noqa: F401 - provides the fixture `t`
    headings,
    lesson_url,
    parse,
    text_of,
)


def projector(t: Tenant) -> str:
    return f"/boxes/{t.box.pk}/projector/"


def compare_projector(t: Tenant) -> str:
    return f"/boxes/{t.box.pk}/compare/projector/"


def classmate_submits(t: Tenant) -> Submission:
    return actions.submit(t.classmate, t.box.pk, copy_of(t, t.classmate).pk)


def tile_labels(page: object) -> list[str]:
    """The grid's tiles, each as its label: the number, then the name when names show."""
    return [
        text_of(span)
        for button in parse(page).iter("button")
        if "projector-tile" in (button.get("class") or "").split()
        for span in button.iter("span")
        if "projector-label" in (span.get("class") or "").split()
    ]


def html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def names_of(t: Tenant) -> list[str]:
    return [t.student.display_name, t.classmate.display_name]


def test_the_box_projector_shows_every_current_submission_numbered_with_names(t: Tenant) -> None:
    classmate_submits(t)
    page = browser(t.teacher).get(projector(t))
    assert page.status_code == 200
    assert headings(page)[0].startswith("Box aaa")
    assert tile_labels(page) == [f"1 {t.student.display_name}", f"2 {t.classmate.display_name}"]
    text = html(page)
    assert text.count('class="projector-slide"') == 2
    assert "Secret task text aaa" in text
    assert 'class="topbar"' not in text  # none of the app's chrome
    assert f'href="{projector(t)}?names=0"' in text  # "Hide names"


def test_with_names_hidden_the_page_holds_no_name_nor_student_id(t: Tenant) -> None:
    classmate_submits(t)
    page = browser(t.teacher).get(projector(t), {"names": "0"})
    assert page.status_code == 200
    assert tile_labels(page) == ["1", "2"]
    text = html(page)
    for name in names_of(t):
        assert name not in text
    for pupil in (t.student, t.classmate):
        assert pupil.student_number not in text
        assert not re.search(rf'data-student-id="{pupil.pk}"', text)
    assert "Secret task text aaa" in text  # the work itself still shows
    assert f'href="{projector(t)}?names=1"' in text  # "Show names"


def test_names_are_hidden_by_default_while_the_box_shares_anonymously(t: Tenant) -> None:
    actions.share_answers(t.teacher, t.box.pk, True, anonymous=True)
    client = browser(t.teacher)
    assert t.student.display_name not in html(client.get(projector(t)))
    assert tile_labels(client.get(projector(t), {"names": "1"})) == [f"1 {t.student.display_name}"]
    actions.share_answers(t.teacher, t.box.pk, True, anonymous=False)
    assert t.student.display_name in html(client.get(projector(t)))


def test_a_resubmission_keeps_its_number_and_a_new_pupil_comes_last(t: Tenant) -> None:
    classmate_submits(t)
    actions.submit(t.student, t.box.pk, copy_of(t, t.student).pk)  # the first pupil submits again
    third = User.objects.create_user(
        "aaa-third", "pw-unused-1234", display_name="Pupil aaa003 aaa", role=Role.STUDENT,
        municipality=t.municipality, school=t.school, student_number="aaa000",
    )  # fmt: skip
    Membership.objects.create(school_class=t.school_class, user=third, role="student")
    delivered = actions.send_cards(t.teacher, t.lesson.pk, [t.card.pk], to="students", student_ids=[third.pk])
    actions.submit(third, t.box.pk, delivered[third.pk][0].pk)
    labels = tile_labels(browser(t.teacher).get(projector(t)))
    assert labels == [
        f"1 {t.student.display_name}",
        f"2 {t.classmate.display_name}",
        "3 Pupil aaa003 aaa",  # first by student number, but last to submit
    ]


@pytest.mark.parametrize("path", [projector, compare_projector])
def test_only_the_lessons_teachers_open_the_projector(t: Tenant, tenant_b: Tenant, path: object) -> None:
    theirs = classmate_submits(t)
    url = path(t)  # type: ignore[operator]
    query = {"s": [str(t.submission.pk), str(theirs.pk)]}
    assert browser(t.teacher).get(url, query).status_code == 200
    # A pupil of the class: refused by role.
    assert browser(t.student).get(url, query).status_code == 403
    # Another teacher of the same school who does not teach the class, and one of another municipality.
    colleague = User.objects.create_user(
        "aaa-colleague", "pw-unused-1234", display_name="Staff colleague", role=Role.TEACHER,
        municipality=t.municipality, school=t.school,
    )  # fmt: skip
    Membership.objects.create(school_class=t.other_class, user=colleague, role="teacher")
    for outsider in (colleague, tenant_b.teacher):
        refused = browser(outsider).get(url, query)
        assert refused.status_code == 404
        assert t.student.display_name not in html(refused)
    # Administrators manage rosters, they do not read pupils' work.
    assert browser(t.school_admin).get(url, query).status_code == 404
    assert browser(t.municipal_admin).get(url, query).status_code == 403


def test_the_compare_projector_shows_the_chosen_two_numbered_as_on_the_box_projector(t: Tenant) -> None:
    theirs = classmate_submits(t)
    client = browser(t.teacher)
    page = client.get(compare_projector(t), {"s": [str(theirs.pk), str(t.submission.pk)], "names": "0"})
    assert page.status_code == 200
    text = html(page)
    assert text.count('class="projector-slide"') == 2
    assert text.count("Secret task text aaa") == 2
    for name in names_of(t):
        assert name not in text
    assert [h.split()[0] for h in headings(page, "h2")] == ["1", "2"]
    reads = AuditEntry.objects.filter(action="submission.viewed", actor=t.teacher)
    assert sorted(reads.values_list("subject", flat=True)) == sorted([t.student.pk, t.classmate.pk])
    shown = client.get(compare_projector(t), {"s": [str(theirs.pk), str(t.submission.pk)], "names": "1"})
    assert headings(shown, "h2") == [f"1 {t.student.display_name}", f"2 {t.classmate.display_name}"]


def test_the_compare_projector_wants_two_to_four(t: Tenant) -> None:
    response = browser(t.teacher).get(compare_projector(t), {"s": [str(t.submission.pk)]})
    assert response.status_code == 302 and response["Location"] == lesson_url(t)


def test_the_lesson_and_the_comparison_link_to_the_projector(t: Tenant) -> None:
    theirs = classmate_submits(t)
    client = browser(t.teacher)
    assert f'href="{projector(t)}"' in html(client.get(lesson_url(t)))
    compared = html(client.get(f"/boxes/{t.box.pk}/compare/", {"s": [str(t.submission.pk), str(theirs.pk)]}))
    assert f'href="{compare_projector(t)}?s={t.submission.pk}&amp;s={theirs.pk}"' in compared


def test_the_projector_speaks_japanese(tenant_a: Tenant) -> None:
    """In the school's language (Japanese for tenant A): the tools, the count and "one at a time"."""
    text = html(browser(tenant_a.teacher).get(f"/boxes/{tenant_a.box.pk}/projector/"))
    for words in ("名前をかくす", "全画面で表示", "閉じる", "1件の提出", "前へ", "次へ", "一覧にもどる"):
        assert words in text, words
    assert "Hide names" not in text and "Full screen" not in text
