"""No <form> inside another <form>, in any template or on any page (issue 14, defect 1).

HTML forbids nested forms, and browsers do not warn: the parser drops the inner <form> tag, and its
</form> ends the outer form early. The teacher's lesson page once wrapped the submission tiles (each
with its own "return with a comment" form) in the compare form, so on a freshly loaded page
"Compare chosen" belonged to no form and the first tile's "Return" sent its comment to the compare
view. A control that belongs to a form it cannot sit in names it with form="...".

Two checks: every template's source, with the templates it includes written in (template tags
ignored), and every page every role can open, as rendered for a tenant with a lesson in progress.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from classnote.lessons import actions as lesson_actions
from tests.conftest import Tenant, login_as, read_body
from tests.lessons.test_lesson_pages import classmate_submits
from tests.test_isolation import _values, all_routes

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "classnote" / "templates"
INCLUDE = re.compile(r"""{%\s*include\s+["']([^"']+)["'][^%]*%}""")
TAG = re.compile(r"{%.*?%}|{#.*?#}|{{.*?}}", re.DOTALL)
URL_NAME = re.compile(r"""{%\s*url\s+["']([^"']+)["']""")
COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.DOTALL)


class FormNesting(HTMLParser):
    """Records each <form> that opens while another is open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.nested: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "form":
            return
        action = dict(attrs).get("action") or ""
        if self.open:
            self.nested.append(f"<form action={action!r}> inside <form action={self.open[-1]!r}>")
        self.open.append(action)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.open:
            self.open.pop()


def nested_forms(html: str) -> list[str]:
    parser = FormNesting()
    parser.feed(html)
    parser.close()
    return parser.nested


def expanded(name: str, seen: tuple[str, ...] = ()) -> str:
    """A template's source with the templates it includes by a literal name written in."""
    source = COMMENT_BLOCK.sub("", (TEMPLATES / name).read_text(encoding="utf-8"))

    def include(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner in seen or not (TEMPLATES / inner).is_file():
            return ""
        return expanded(inner, (*seen, name))

    return INCLUDE.sub(include, source)


def without_tags(source: str) -> str:
    """Template tags dropped; a {% url %} tag leaves its name, so a finding says which form."""
    return TAG.sub(lambda m: u.group(1) if (u := URL_NAME.match(m.group(0))) else "", source)


def template_names() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))


def test_the_checks_find_a_nested_form() -> None:
    page = (
        '<form action="/a/"><div><form action="/b/"></form></div><button>Go</button></form><form action="/c/"></form>'
    )
    assert nested_forms(page) == ["<form action='/b/'> inside <form action='/a/'>"]
    assert nested_forms('<form id="c"></form><input form="c"><form action="/r/"></form>') == []
    # The lesson page as it was before the fix: the compare form wrapped the tiles' return forms.
    before = (
        '{% for box in boxes %}<form method="get" action="{% url \'box_compare\' box.pk %}">'
        '{% for s in box.current %}<article><form method="post" action="/r/">{% csrf_token %}</form></article>'
        "{% endfor %}<button>Compare</button></form>{% endfor %}"
    )
    assert len(nested_forms(without_tags(before))) == 1


@pytest.mark.parametrize("name", template_names())
def test_no_template_nests_a_form(name: str) -> None:
    assert nested_forms(without_tags(expanded(name))) == []


def test_no_page_nests_a_form(tenant_a: Tenant) -> None:
    """Every page of every role, rendered: a lesson with two submissions in its box (tiles with
    return forms), the compare view, the pupils' lesson page with shared answers."""
    t = tenant_a
    classmate_submits(t)
    lesson_actions.share_answers(t.teacher, t.box.pk, True, anonymous=False)
    problems: list[str] = []
    pages = 0
    for actor in t.users():
        client = login_as(Client(raise_request_exception=False), actor)
        for route in all_routes():
            if route.audience is None or route.template.startswith("api/") or route.streaming:
                continue
            url = route.path(_values(route, t))
            response = client.get(url)
            body = read_body(response).decode("utf-8", "replace")
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            problems += [f"GET {url} as {actor.role}: {n}" for n in nested_forms(body)]
    assert pages > 20
    assert not problems, "\n".join(problems)
