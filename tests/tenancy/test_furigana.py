"""Furigana on the pupils' pages (issue 14): <ruby> readings from the reading catalogue over the
kanji of the interface, for pupils of the grades the school chose, never over what people wrote,
never in attributes, scripts or form fields."""

from __future__ import annotations

from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from classnote.base import ruby
from classnote.cards.models import Card
from classnote.tenancy.furigana import reads_with_furigana
from tests.conftest import Tenant, fresh_login, login_as

WORDS = {"提出": "ていしゅつ", "先生": "せんせい", "送": "おく"}
RUBY_SUBMIT = "<ruby>提出<rp>(</rp><rt>ていしゅつ</rt><rp>)</rp></ruby>"


# --- The post-processor on its own ----------------------------------------------------------------


def test_text_nodes_get_readings() -> None:
    assert ruby.annotate("<p>提出する</p>", WORDS) == f"<p>{RUBY_SUBMIT}する</p>"
    # Longest word first; unknown kanji stay as they are.
    assert ruby.annotate("<b>先生に送る。漢字</b>", WORDS) == (
        "<b><ruby>先生<rp>(</rp><rt>せんせい</rt><rp>)</rp></ruby>に"
        "<ruby>送<rp>(</rp><rt>おく</rt><rp>)</rp></ruby>る。漢字</b>"
    )


def test_a_one_kanji_word_is_read_only_where_it_stands_alone() -> None:
    words = {**WORDS, "加": "くわ"}
    assert ruby.annotate("<p>参加する</p>", words) == "<p>参加する</p>"
    assert "<rt>くわ</rt>" in ruby.annotate("<p>加える</p>", words)


@pytest.mark.parametrize(
    "page",
    [
        '<button aria-label="提出" title="提出" data-confirm="提出?">OK</button>',
        '<input placeholder="提出" value="提出">',
        "<script>const a = '提出';</script>",
        "<style>.x::after { content: '提出'; }</style>",
        "<textarea>提出</textarea>",
        "<title>提出</title>",
        "<select><option>提出</option></select>",
        "<ruby>提出<rt>ていしゅつ</rt></ruby>",
        '<span translate="no">提出</span>',
        "<div data-user-content><p>提出 <b>先生</b></p></div>",
        '<div translate="NO"><br>提出<img alt="提出"></div>',
        "<!-- 提出 --><!doctype html>",
        "<p>&amp;&#x63d0;&lt;</p>",
    ],
)
def test_attributes_code_fields_and_user_content_are_untouched(page: str) -> None:
    assert ruby.annotate(page, WORDS) == page


def test_text_after_a_skipped_element_gets_readings_again() -> None:
    page = '<p><span translate="no">提出</span> 提出</p><textarea>提出</textarea>提出'
    expected = f'<p><span translate="no">提出</span> {RUBY_SUBMIT}</p><textarea>提出</textarea>{RUBY_SUBMIT}'
    assert ruby.annotate(page, WORDS) == expected


def test_the_reading_catalogue_is_compiled_and_read() -> None:
    words = ruby.readings()
    assert words["提出"] == "ていしゅつ" and words["先生"] == "せんせい"


def test_the_command_lists_kanji_words_without_a_reading() -> None:
    out, err = StringIO(), StringIO()
    call_command("furigana", stdout=out, stderr=err)
    listed = {line.split("\t")[0] for line in out.getvalue().splitlines()}
    assert listed and "提出" not in listed and "先生" not in listed
    assert all(ruby.KANJI_RUN.fullmatch(word) for word in listed)
    assert "without a reading" in err.getvalue()


# --- Who gets them --------------------------------------------------------------------------------


@pytest.fixture
def furigana_school(tenant_a: Tenant) -> Tenant:
    """Furigana up to grade 2; the pupil's class is grade 1, the other class grade 5. The pupil's
    name and card text hold words of the reading catalogue."""
    tenant_a.school.furigana_up_to_grade = 2
    tenant_a.school.save()
    tenant_a.school_class.grade = 1
    tenant_a.school_class.save()
    tenant_a.other_class.grade = 5
    tenant_a.other_class.save()
    tenant_a.student.display_name = "提出花子"
    tenant_a.student.save()
    Card.objects.filter(owner=tenant_a.student, lesson=tenant_a.lesson).update(text="先生に提出します")
    return tenant_a


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.values += [value or "" for _name, value in attrs]
        self.scripts += tag == "script"


def _attributes(page: str) -> _Attributes:
    parser = _Attributes()
    parser.feed(page)
    return parser


def test_a_lower_grade_pupil_reads_the_lesson_page_with_furigana(furigana_school: Tenant) -> None:
    tenant = furigana_school
    assert reads_with_furigana(tenant.student)
    response = login_as(Client(), tenant.student).get(f"/lessons/{tenant.lesson.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert RUBY_SUBMIT in page  # the Submit button (提出)
    # What people wrote is shown as written: the card's text, the pupil's own name.
    assert "先生に提出します" in page and "提出花子" in page
    # Attributes are never touched; no script or style is added (the CSP stays as it is).
    attributes = _attributes(page)
    assert not any("<ruby" in value or "<rt" in value for value in attributes.values)
    tenant.school.furigana_up_to_grade = 0
    tenant.school.save()
    plain = login_as(Client(), tenant.student).get(f"/lessons/{tenant.lesson.pk}/")
    assert "<ruby>" not in plain.content.decode()
    assert response["Content-Security-Policy"] == plain["Content-Security-Policy"]
    assert attributes.scripts == _attributes(plain.content.decode()).scripts
    assert page.count("style=") == plain.content.decode().count("style=")


def test_home_and_portfolio_keep_names_and_titles_as_written(furigana_school: Tenant) -> None:
    pupil = login_as(Client(), furigana_school.student)
    home = pupil.get("/home/").content.decode()
    assert "<ruby>" in home and "提出花子" in home
    portfolio = pupil.get("/portfolio/").content.decode()
    assert "<ruby>" in portfolio and "先生に提出します" in portfolio


def test_higher_grades_teachers_and_other_languages_get_no_furigana(furigana_school: Tenant) -> None:
    tenant = furigana_school
    assert not reads_with_furigana(tenant.other_class_student)  # grade 5
    assert not reads_with_furigana(tenant.teacher)
    assert "<ruby>" not in login_as(Client(), tenant.other_class_student).get("/home/").content.decode()
    assert "<ruby>" not in login_as(Client(), tenant.teacher).get(f"/lessons/{tenant.lesson.pk}/").content.decode()
    for language in ("en", "zh-hant"):
        tenant.student.language = language
        tenant.student.save()
        page = login_as(Client(), tenant.student).get(f"/lessons/{tenant.lesson.pk}/").content.decode()
        assert "<ruby>" not in page, language
    # An archived class does not count.
    tenant.student.language = ""
    tenant.student.save()
    tenant.school_class.archived = True
    tenant.school_class.save()
    assert not reads_with_furigana(tenant.student)


def test_the_school_admin_sets_furigana_and_grades(tenant_a: Tenant) -> None:
    admin = fresh_login(Client(), tenant_a.school_admin)
    school_page = f"/schools/{tenant_a.school.pk}/"
    assert admin.post(school_page, {"form": "furigana", "furigana-up_to_grade": "2"}).status_code == 302
    answer = admin.post(
        school_page, {"form": "grade", "grade-school_class": tenant_a.school_class.pk, "grade-grade": "1"}
    )
    assert answer.status_code == 302
    tenant_a.school.refresh_from_db()
    tenant_a.school_class.refresh_from_db()
    assert (tenant_a.school.furigana_up_to_grade, tenant_a.school_class.grade) == (2, 1)
    assert reads_with_furigana(tenant_a.student)
    # Bad values are refused with a translated message, nothing changes.
    for data in (
        {"form": "furigana", "furigana-up_to_grade": "10"},
        {"form": "furigana", "furigana-up_to_grade": "x"},
        {"form": "grade", "grade-school_class": tenant_a.school_class.pk, "grade-grade": "13"},  # grades run 1–12
    ):
        refused = admin.post(school_page, data)
        assert refused.status_code == 400 and ("以下" in refused.content.decode() or "整数" in refused.content.decode())
    tenant_a.school.refresh_from_db()
    assert tenant_a.school.furigana_up_to_grade == 2
    # A teacher cannot change it.
    teacher = fresh_login(Client(), tenant_a.teacher)
    assert teacher.post(school_page, {"form": "furigana", "furigana-up_to_grade": "0"}).status_code in (403, 404)
