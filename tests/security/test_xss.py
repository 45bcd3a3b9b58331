"""IPA checklist 5 — cross-site scripting (stored and reflected).

Promise: whatever people type — card text and titles, lesson, box, group, class and file names,
display names, teachers' comments, complaint messages (read by the privacy officer), incident
summaries, request details — is shown as text on every page that shows it: the page holds the
escaped text and no script, event handler or javascript: URL comes out of it (the pages have none
of their own: strict CSP, tests/test_security_headers.py). Input echoed back (a login page's
`next`, a form shown again, an error page) is escaped too. Web links must be http(s): a
javascript:, data: or vbscript: link is refused by the web form, the autosave and the API. JSON
is served as application/json with nosniff. SVG and HTML uploads are refused; downloads are
attachments in a script-less sandbox. The code base has no markdown or rich-text rendering, no
`|safe`, no `{% autoescape off %}` in HTML, no `mark_safe` of anything a user wrote and no
innerHTML in its scripts — checked statically, so a change that adds one fails here.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.lessons import actions as lesson_actions
from classnote.rights import workflow
from classnote.tenancy.models import Membership
from tests.conftest import Tenant, fresh_login, login_as, read_body
from tests.files import samples
from tests.security.static import SRC, STATIC_JS, TEMPLATES, python_files, resolved_calls
from tests.security.uploads import browser_name, post_upload
from tests.test_security_headers import InlineCodeFinder

# Each payload breaks out of a different context; "xss" marks what would run.
BREAK_TEXTAREA = '</textarea><script>alert("xss")</script>'
BREAK_ATTRIBUTE = '"><img src=x onerror=alert("xss")>'
BREAK_SINGLE = "'><svg onload=alert('xss')>"
BREAK_TITLE = "</title><script>alert('xss')</script>"
TEMPLATE_SYNTAX = "{{ 7|add:42 }}{% now 'Y' %}"
PAYLOAD = BREAK_TEXTAREA + BREAK_ATTRIBUTE + BREAK_SINGLE + BREAK_TITLE + TEMPLATE_SYNTAX
SHORT = BREAK_TEXTAREA + BREAK_ATTRIBUTE  # fits 80 characters
# What the escaped payload looks like on a page: proof the text is shown at all.
ESCAPED = "&lt;script&gt;alert("


def xss_in(response: Any, where: str, *, shown: bool = True, escaped: str = ESCAPED) -> list[str]:
    """Scripts, handlers and javascript: URLs on the page (it has none of its own), and, with
    shown=True, a check that the page really displays the escaped text."""
    body = read_body(response).decode("utf-8", "replace")
    problems = []
    if response.status_code >= 300:
        problems.append(f"{where}: {response.status_code} instead of the page")
    finder = InlineCodeFinder()
    finder.feed(body)
    finder.close()
    problems += [f"{where}: {found}" for found in finder.found]
    if shown and escaped not in body:
        problems.append(f"{where}: the escaped text is not on the page (is it shown at all?)")
    return problems


def check_pages(
    client: Client, urls: list[str], label: str, *, shown: bool = True, escaped: str = ESCAPED
) -> list[str]:
    problems = []
    for url in urls:
        problems += xss_in(client.get(url), f"{label} GET {url}", shown=shown, escaped=escaped)
    return problems


# --- Stored: what pupils and teachers write ---------------------------------------------------------


@pytest.fixture
def pupils_work(tenant_a: Tenant) -> dict[str, Any]:
    """A pupil's card with the payload in title and text (made and edited through the API),
    submitted; a classmate's submission too, so the teacher can compare them."""
    pupil = login_as(Client(), tenant_a.student)
    made = pupil.post(
        "/api/cards",
        {"kind": "text", "title": PAYLOAD[:120], "text": "first", "lesson_id": tenant_a.lesson.pk},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    card = made.json()
    saved = pupil.post(
        f"/cards/{card['id']}/autosave/",
        json.dumps({"version": card["version"], "fields": {"text": PAYLOAD + "\n" + PAYLOAD}}),
        content_type="application/json",
    )
    assert saved.status_code == 200, saved.content
    mine = lesson_actions.submit(tenant_a.student, tenant_a.box.pk, card["id"])
    theirs_card = Card.objects.filter(owner=tenant_a.classmate, lesson=tenant_a.lesson).first()
    assert theirs_card is not None
    theirs = lesson_actions.submit(tenant_a.classmate, tenant_a.box.pk, theirs_card.pk)
    return {"card": card["id"], "snapshot": mine.card_id, "submission": mine.pk, "other": theirs.pk}


def test_card_text_and_titles_are_shown_as_text_to_the_teacher(tenant_a: Tenant, pupils_work: dict[str, Any]) -> None:
    teacher = login_as(Client(), tenant_a.teacher)
    box, work = tenant_a.box.pk, pupils_work
    problems = check_pages(
        teacher,
        [
            f"/lessons/{tenant_a.lesson.pk}/",
            f"/boxes/{box}/compare/?s={work['submission']}&s={work['other']}",
            f"/boxes/{box}/projector/",
            f"/boxes/{box}/compare/projector/?s={work['submission']}&s={work['other']}",
            f"/cards/{work['snapshot']}/",
            f"/cards/{work['snapshot']}/present/",
        ],
        "teacher",
    )
    assert not problems, "\n".join(problems)


def test_card_text_and_titles_are_shown_as_text_to_the_pupil(tenant_a: Tenant, pupils_work: dict[str, Any]) -> None:
    pupil = login_as(Client(), tenant_a.student)
    problems = check_pages(
        pupil,
        [f"/cards/{pupils_work['card']}/", f"/lessons/{tenant_a.lesson.pk}/", "/portfolio/"],
        "pupil",
        shown=False,
    )
    assert ESCAPED in pupil.get(f"/cards/{pupils_work['card']}/").content.decode()
    assert not problems, "\n".join(problems)


def test_the_portfolio_export_page_escapes_card_text(tenant_a: Tenant, pupils_work: dict[str, Any]) -> None:
    pupil = login_as(Client(), tenant_a.student)
    response = pupil.get("/portfolio/export.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        page = archive.read("index.html").decode()
    finder = InlineCodeFinder()
    finder.feed(page)
    assert not [f for f in finder.found if "xss" in f], finder.found
    assert ESCAPED in page


def test_the_api_returns_card_text_as_json_that_no_browser_renders(
    tenant_a: Tenant, pupils_work: dict[str, Any]
) -> None:
    pupil = login_as(Client(), tenant_a.student)
    response = pupil.get(f"/api/cards/{pupils_work['card']}")
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.json()["text"] == PAYLOAD + "\n" + PAYLOAD  # data, kept as written
    missing = pupil.get("/api/cards/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert missing["Content-Type"].startswith("application/json") and b"<script>" not in missing.content


def test_names_of_lessons_boxes_groups_classes_and_people_are_shown_as_text(tenant_a: Tenant) -> None:
    admin = login_as(Client(), tenant_a.school_admin)
    created = admin.post(
        f"/schools/{tenant_a.school.pk}/",
        {"form": "student", "student-display_name": SHORT, "student-student_number": "x1"},
    )
    assert created.status_code == 201
    from classnote.accounts.models import User

    pupil = User.objects.get(display_name=SHORT)
    Membership.objects.create(school_class=tenant_a.school_class, user=pupil, role="student")
    made = admin.post(
        f"/schools/{tenant_a.school.pk}/", {"form": "class", "class-name": SHORT, "class-school_year": 2026}
    )
    assert made.status_code == 302, made.status_code
    teacher = login_as(Client(), tenant_a.teacher)
    lesson = tenant_a.lesson.pk
    assert teacher.post(f"/classes/{tenant_a.school_class.pk}/lessons/", {"title": PAYLOAD[:120]}).status_code == 302
    assert teacher.post(f"/lessons/{lesson}/boxes/", {"title": PAYLOAD[:120]}).status_code == 302
    assert teacher.post(f"/lessons/{lesson}/groups/", {"name": SHORT, "students": [pupil.pk]}).status_code == 302
    returned = teacher.post(f"/submissions/{tenant_a.submission.pk}/return/", {"comment": PAYLOAD})
    assert returned.status_code == 302
    problems = check_pages(
        teacher,
        [
            f"/classes/{tenant_a.school_class.pk}/",
            f"/lessons/{lesson}/",
            f"/users/{pupil.pk}/",
        ],
        "teacher",
    )
    problems += check_pages(admin, [f"/schools/{tenant_a.school.pk}/", "/home/"], "school admin")
    student = login_as(Client(), tenant_a.student)
    problems += check_pages(student, [f"/lessons/{lesson}/"], "pupil")
    problems += check_pages(student, ["/home/"], "pupil", shown=False)
    cards = fresh_login(Client(), tenant_a.teacher).post(f"/classes/{tenant_a.school_class.pk}/login-cards/")
    problems += xss_in(cards, "teacher POST login cards")
    assert not problems, "\n".join(problems)


def test_file_names_are_shown_as_text(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    # A file name has no "/" (Django keeps only the last path part): the payloads without one.
    upload = post_upload(pupil, "/files/", browser_name(BREAK_ATTRIBUTE + BREAK_SINGLE) + ".pdf", samples.pdf())
    assert upload.status_code == 201, upload.content
    stored = StoredFile.objects.get(pk=upload.json()["id"])
    made = pupil.post(
        "/api/cards",
        {"kind": "file", "file_id": str(stored.pk), "lesson_id": tenant_a.lesson.pk},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    card = made.json()["id"]
    lesson_actions.submit(tenant_a.student, tenant_a.box.pk, card)
    teacher = login_as(Client(), tenant_a.teacher)
    snapshot = Card.objects.filter(owner=tenant_a.student, frozen=True).latest("pk").pk
    escaped = "&lt;img src=x onerror=alert("
    problems = check_pages(pupil, [f"/cards/{card}/"], "pupil", escaped=escaped)
    problems += check_pages(teacher, [f"/cards/{snapshot}/"], "teacher", escaped=escaped)
    problems += check_pages(teacher, [f"/lessons/{tenant_a.lesson.pk}/"], "teacher", shown=False)
    assert not problems, "\n".join(problems)
    download = pupil.get(f"/files/{stored.pk}/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert "<" not in download["Content-Disposition"] and '"><' not in download["Content-Disposition"]


# --- Stored: what the privacy officer and administrators read -------------------------------------------


def test_complaint_messages_and_names_are_shown_as_text_to_the_privacy_officer(db: None, officer: Any) -> None:
    from classnote.complaints.models import Complaint
    from tests.complaints.test_complaints import form_data

    response = Client().post("/complaints/new/", form_data(message=PAYLOAD, name=SHORT[:100]))
    assert response.status_code == 201, response.status_code
    complaint = Complaint.objects.get()
    client = login_as(Client(), officer)
    noted = client.post(f"/complaints/{complaint.pk}/", {"action": "note", "note-text": PAYLOAD})
    assert noted.status_code == 302
    problems = check_pages(client, [f"/complaints/{complaint.pk}/"], "privacy officer")
    problems += check_pages(client, ["/complaints/", "/privacy/officer/"], "privacy officer", shown=False)
    assert not problems, "\n".join(problems)


def test_incident_summaries_are_shown_as_text(tenant_a: Tenant, officer: Any) -> None:
    from classnote.incidents import actions as incident_actions

    incident = incident_actions.create_incident(
        officer,
        municipalities=[tenant_a.municipality],
        kind="leak",
        discovered_at=timezone.now(),
        summary=PAYLOAD,
        cause=PAYLOAD,
        measures=PAYLOAD,
    )
    problems = check_pages(login_as(Client(), officer), [f"/incidents/{incident.pk}/"], "privacy officer")
    problems += check_pages(login_as(Client(), tenant_a.municipal_admin), [f"/incidents/{incident.pk}/"], "board")
    problems += check_pages(login_as(Client(), officer), ["/incidents/"], "privacy officer", shown=False)
    assert not problems, "\n".join(problems)


def test_request_details_are_shown_as_text(tenant_a: Tenant, officer: Any) -> None:
    request = workflow.open_request(
        tenant_a.school_admin, subject_id=tenant_a.student.pk, kind="correction", requester="guardian", details=PAYLOAD
    )
    admin = login_as(Client(), tenant_a.school_admin)
    problems = check_pages(admin, [f"/requests/{request.pk}/"], "school admin")
    problems += check_pages(admin, ["/requests/"], "school admin", shown=False)
    problems += check_pages(login_as(Client(), officer), ["/privacy/officer/", "/requests/"], "officer", shown=False)
    assert not problems, "\n".join(problems)


# --- Links: only http(s) ------------------------------------------------------------------------------------

BAD_LINKS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
]


def test_link_cards_refuse_every_url_but_http_and_https(tenant_a: Tenant) -> None:
    teacher = login_as(Client(), tenant_a.teacher)
    made = teacher.post(
        "/api/cards", {"kind": "link", "link_url": "https://example.org/"}, content_type="application/json"
    )
    assert made.status_code == 201
    card_id, version = made.json()["id"], made.json()["version"]
    for link in BAD_LINKS:
        api = teacher.post("/api/cards", {"kind": "link", "link_url": link}, content_type="application/json")
        assert api.status_code in {400, 422}, (link, api.status_code)
        patch = teacher.patch(
            f"/api/cards/{card_id}", {"version": version, "fields": {"link_url": link}}, content_type="application/json"
        )
        assert patch.status_code in {400, 422}, (link, patch.status_code)
        autosave = teacher.post(
            f"/cards/{card_id}/autosave/",
            json.dumps({"version": version, "fields": {"link_url": link}}),
            content_type="application/json",
        )
        assert autosave.status_code == 400, (link, autosave.status_code)
        form = teacher.post("/cards/", {"kind": "link", "link_url": link, "lesson": tenant_a.lesson.pk})
        assert form.status_code == 302 and "/cards/" not in form["Location"].replace("/cards/new", ""), link
    links = set(Card.objects.filter(kind="link").values_list("link_url", flat=True))
    assert links == {"https://example.org/"}, links
    page = teacher.get(f"/cards/{card_id}/")
    assert not xss_in(page, "card page", shown=False)


# --- Reflected ----------------------------------------------------------------------------------------------


def test_input_echoed_back_is_escaped(tenant_a: Tenant) -> None:
    from urllib.parse import quote

    q = quote(PAYLOAD, safe="")
    anonymous = Client(raise_request_exception=False)
    cases = [
        ("login page next", anonymous.get(f"/accounts/login/?next={q}")),
        ("404 path", anonymous.get(f"/{q}/")),
        ("404 query", anonymous.get(f"/no-such-page/?x={q}")),
        (
            "student login shown again",
            anonymous.post(
                "/login/student/", {"school_code": PAYLOAD[:32], "student_number": SHORT[:32], "password": "x"}
            ),
        ),
        ("staff login shown again", anonymous.post("/accounts/login/", {"login": PAYLOAD, "password": "x"})),
        (
            "complaint status shown again",
            anonymous.post("/complaints/status/", {"reference": PAYLOAD[:20], "access_code": "x"}),
        ),
        ("language switch next", anonymous.post("/settings/language/", {"language": "en", "next": PAYLOAD})),
    ]
    teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    cases += [
        ("API 404", teacher.get(f"/api/classes/{q}")),
        ("compare with odd ids", teacher.get(f"/boxes/{tenant_a.box.pk}/compare/?s={q}")),
        ("new card with a bad link", teacher.post("/cards/", {"kind": "link", "link_url": PAYLOAD, "next": PAYLOAD})),
    ]
    problems = []
    for label, response in cases:
        body = read_body(response).decode("utf-8", "replace")
        finder = InlineCodeFinder()
        finder.feed(body)
        problems += [f"{label}: {found}" for found in finder.found]
        location = response.get("Location", "")
        if "<" in location or '"' in location:
            problems.append(f"{label}: redirect to {location!r}")
        if response.get("Content-Type", "").startswith("application/json") and "<script>" in body:
            problems.append(f"{label}: JSON error echoes the markup")
    assert not problems, "\n".join(problems)


# --- Uploads that a browser would run ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/files/", "/api/files"])
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("drawing.svg", samples.SVG),
        ("drawing.png", samples.SVG),
        ("page.html", samples.HTML),
        ("page.pdf", samples.HTML),
        ("image.svgz", samples.SVG),
    ],
)
def test_svg_and_html_uploads_are_refused(tenant_a: Tenant, path: str, name: str, content: bytes) -> None:
    pupil = login_as(Client(), tenant_a.student)
    response = post_upload(pupil, path, name, content)
    assert response.status_code == 400, response.content
    assert not StoredFile.objects.filter(owner=tenant_a.student).exclude(pk=tenant_a.file.pk).exists()


def test_downloads_are_attachments_in_a_sandbox_even_when_asked_to_be_inline(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    pdf = post_upload(pupil, "/files/", "a.pdf", samples.pdf()).json()["id"]
    png = post_upload(pupil, "/files/", "a.png", samples.png()).json()["id"]
    for file_id, inline_allowed in ((tenant_a.file.pk, False), (pdf, False), (png, True)):
        response = pupil.get(f"/files/{file_id}/?inline=1")
        read_body(response)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "script-src" not in response["Content-Security-Policy"]  # default-src 'none' covers scripts
        disposition = response["Content-Disposition"].split(";")[0]
        assert disposition == ("inline" if inline_allowed else "attachment"), (file_id, disposition)
        if inline_allowed:
            assert response["Content-Type"] in ("image/png", "image/jpeg")


# --- Static: nothing renders user text as HTML -----------------------------------------------------------

# Places that may mark text safe, and why.
ALLOWED_SAFE_MARKUP = {
    "accounts/views.py": "the QR codes of login cards: segno renders our own URL as SVG paths, no user text",
    "core/templatetags/classnote_text.py": "user_content: format_html escapes the value inside a fixed <span>",
}
# Plain-text mail templates (text/plain, never shown in a browser) may turn escaping off.
PLAIN_TEXT_TEMPLATES = re.compile(r"/mail/[^/]+\.txt$")


def test_no_template_turns_escaping_off() -> None:
    problems = []
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES).as_posix()
        for match in re.finditer(r"\|\s*safe(seq)?\b|\{%\s*autoescape\s+off\s*%\}", text):
            if "autoescape" in match.group(0) and PLAIN_TEXT_TEMPLATES.search("/" + name):
                continue
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"templates/{name}:{line}: {match.group(0)}")
    assert not problems, "Escaping turned off (user text would become HTML):\n" + "\n".join(problems)


def test_no_code_marks_text_as_safe_html_or_renders_markdown() -> None:
    problems = []
    markup = ("mark_safe", "SafeString", "SafeText", "format_html", "Markup", "safestring.mark_safe")
    markdown = ("markdown", "mistune", "markdown_it", "commonmark", "bleach", "nh3", "docutils")
    for path, tree in python_files():
        for call, name in resolved_calls(tree):
            if name.rsplit(".", 1)[-1] in markup and path not in ALLOWED_SAFE_MARKUP:
                problems.append(f"src/classnote/{path}:{call.lineno}: {name}()")
        for node in __import__("ast").walk(tree):
            module = getattr(node, "module", None) or ""
            names = [alias.name for alias in getattr(node, "names", [])] if node.__class__.__name__ == "Import" else []
            for imported in [module, *names]:
                if imported and imported.split(".")[0] in markdown:
                    problems.append(f"src/classnote/{path}:{node.lineno}: imports {imported} (rich text rendering)")
    assert not problems, "\n".join(problems)
    for path, reason in ALLOWED_SAFE_MARKUP.items():
        assert (SRC / path).exists() and reason


def test_our_scripts_never_insert_html() -> None:
    """lesson.js and card.js insert server data with textContent; none of these may appear."""
    sinks = re.compile(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|\beval\(|new Function\(")
    problems = []
    for path in sorted(STATIC_JS.glob("*.js")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if sinks.search(line):
                problems.append(f"{path.name}:{number}: {line.strip()[:100]}")
    assert not problems, "\n".join(problems)
    assert list(STATIC_JS.glob("*.js")), "no scripts found: is STATIC_JS right?"
