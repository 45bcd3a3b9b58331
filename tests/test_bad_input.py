"""Bad input on every form gives a clear, translated error — never a server error.

Promise: whatever a visitor sends — empty values, 10,000-character strings, letters where
numbers belong, numbers too big for the database, SQL and script fragments, NUL bytes, bodies
that are not UTF-8 or not valid multipart — classnote answers with a 4xx page or a normal
result, never a 500; error messages are in the reader's language; input is never reflected
unescaped (no XSS) and never lost (an invalid form is shown again with what was typed); no
response shows internals (tracebacks, database errors).

Like tests/test_isolation.py it grows by itself: it walks every URL pattern of the project
(``all_routes()``), and for each of our own views (audience not None) acts as every user of
tenant A whose role may call it (anonymous and a teacher for PUBLIC/AUTHENTICATED views), with
path parameters filled with tenant A's *own* objects so the request reaches the form handling.
It reads the forms of the GET response and posts hostile values into their fields, one form at
a time (the ``form`` hidden field and the field prefixes dispatch multi-form pages).
JSON API routes (/api/...) get hostile path parameters and query strings and must answer 4xx
JSON.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import translation

from classnote.accounts.models import User
from classnote.base.roles import Role
from classnote.tenancy.access import AUTHENTICATED, PUBLIC
from tests.conftest import PASSWORD, Tenant, login_as, read_body
from tests.test_isolation import Route, _values, all_routes

# Field values a careless or hostile visitor may send.
HOSTILE: dict[str, str] = {
    "empty": "",
    "blank": "   ",
    "over-long": "x" * 10_000,
    "not-a-number": "abc",
    "huge-number": "99999999999999999999",
    "negative": "-1",
    "sql-or": "' OR 1=1 --",
    "sql-drop": "1; DROP TABLE accounts_user",
    "script": "<script>alert(1)</script>",
    "attribute-break": '"><img src=x onerror=alert(1)>',
    "nul": "a\x00b",
    "unicode": "\u202e\ufeff𝕏\U0001f600",
}
# Reflected unescaped, these would run in the reader's browser.
XSS_MARKERS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
# Internals that must never reach a page.
INTERNALS = ("Traceback", "django.db", "OperationalError", "IntegrityError", "ProgrammingError")
# Posted when a route shows no form of its own (POST-only actions, refused GETs).
GENERIC_FIELDS = ["name", "form", "user", "role", "active", "next", "language", "token", "id"]
# Hidden fields that choose the form on multi-form pages, and the CSRF token: kept as the page had them.
DISPATCH_FIELDS = {"form", "csrfmiddlewaretoken"}
# Path values that match the <int:...> converter but name nothing.
HOSTILE_INT_PATH_VALUES = ["0", "99999999999999999999999"]
# Path values for the API, whose parameters are plain strings validated as integers.
HOSTILE_API_PATH_VALUES = [
    "abc",
    "99999999999999999999999",
    "-1",
    "0",
    "1.5",
    "1e3",
    "%00",
    "%ff%fe",
    quote("' OR 1=1 --", safe=""),
    quote("<script>alert(1)</script>", safe=""),
    "x" * 2000,
]
HOSTILE_QUERY_STRINGS = [
    "limit=abc&offset=-1",
    "limit=99999999999999999999&offset=99999999999999999999",
    "%ff%fe=%fa",
    "q=%00",
    "id=" + quote("' OR 1=1 --", safe=""),
    "q=" + quote("<script>alert(1)</script>", safe=""),
    "q=" + "x" * 10_000,
    "a&a&a=1&a[]=2&=&&",
]
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@pytest.fixture(autouse=True)
def no_write_rate_limit(settings: Any) -> None:
    """These tests send hundreds of writes a minute from one account on purpose: the limit per person
    (core.throttle, tested in tests/test_throttle.py) would answer them 429 instead of checking them."""
    settings.WRITE_RATE_PER_MINUTE = 0


# --- Reading forms and error messages out of a page -------------------------------------------------


@dataclass
class FormField:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    fields: list[FormField] = field(default_factory=list)


class PageParser(HTMLParser):
    """Collects the forms of a page (with their fields) and the text of its error messages."""

    ERROR_CLASSES = {"error", "errors", "errorlist"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.errors: list[str] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None
        self._form: Form | None = None
        self._select: FormField | None = None
        self._stack: list[tuple[str, bool]] = []  # (tag, is an error container)
        self._error_text: list[str] = []

    VOID = {"input", "br", "img", "meta", "link", "hr", "area", "base", "col", "source", "wbr"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "h1":
            self._heading = []
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "select") and self._form is not None and a.get("name"):
            kind = a.get("type", "text").lower() if tag == "input" else tag
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            entry = FormField(a["name"], kind, a.get("value", ""))
            self._form.fields.append(entry)
            if tag == "select":
                self._select = entry
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
        if tag in self.VOID:
            return
        classes = set(a.get("class", "").split())
        is_error = a.get("role") == "alert" or bool(classes & self.ERROR_CLASSES)
        if is_error and not any(err for _tag, err in self._stack):
            self._error_text = []
        self._stack.append((tag, is_error))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1" and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None
        while self._stack:
            open_tag, is_error = self._stack.pop()
            if is_error and not any(err for _tag, err in self._stack):
                text = " ".join("".join(self._error_text).split())
                if text:
                    self.errors.append(text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
        if any(err for _tag, err in self._stack):
            self._error_text.append(data)


def parse(body: str) -> PageParser:
    parser = PageParser()
    parser.feed(body)
    parser.close()
    return parser


def forms_posting_to(body: str, path: str) -> list[Form]:
    """The POST forms of a page that submit to the page itself."""
    return [
        form
        for form in parse(body).forms
        if form.method == "post" and (form.action in ("", ".", path) or urlsplit(form.action).path == path)
    ]


def baseline(entry: FormField) -> str:
    """A plausible value, so the other fields of a form do not fail only for being empty."""
    if entry.kind == "select":
        return next((option for option in entry.options if option), "")
    if entry.kind == "checkbox":
        return entry.value or "on"
    if entry.kind == "number":
        return "2026"
    if entry.kind == "hidden" and entry.value:
        return entry.value
    return "ok-value"


def submissions(form: Form | None) -> Iterator[tuple[str, dict[str, str]]]:
    """(label, POST data): every field hostile at once, then each field alone with the rest plausible."""
    if form is None or not [f for f in form.fields if f.name not in DISPATCH_FIELDS]:
        for label, value in HOSTILE.items():
            yield f"all fields {label}", dict.fromkeys(GENERIC_FIELDS, value)
        return
    fixed = {f.name: f.value for f in form.fields if f.name in DISPATCH_FIELDS}
    free = [f for f in form.fields if f.name not in DISPATCH_FIELDS]
    for label, value in HOSTILE.items():
        yield f"all fields {label}", fixed | {f.name: value for f in free}
    plausible = {f.name: baseline(f) for f in free}
    yield "all fields plausible", fixed | plausible
    for target in free:
        for label, value in HOSTILE.items():
            yield f"{target.name}={label}", fixed | plausible | {target.name: value}
    # The dispatch field itself may be tampered with, too.
    for name in fixed:
        if name != "csrfmiddlewaretoken":
            yield f"{name}=script", fixed | plausible | {name: HOSTILE["script"]}


# --- Bodies that are not what they claim to be ----------------------------------------------------

BOUNDARY = "HostileBoundary7MA4YWxk"
RAW_BODIES: dict[str, tuple[bytes, str]] = {
    "not UTF-8 (urlencoded)": (
        b"\xff\xfe\xfa=\xff&name=\xc3\x28&form=\xa0\xa1",
        "application/x-www-form-urlencoded",
    ),
    "not UTF-8 (multipart)": (
        (
            f"--{BOUNDARY}\r\n".encode()
            + b'Content-Disposition: form-data; name="\xff\xfename"\r\n\r\n\xff\xfe\xfa\r\n'
            + f"--{BOUNDARY}\r\n".encode()
            + b'Content-Disposition: form-data; name="name"\r\n\r\n\xc3\x28\xa0\xa1\r\n'
            + f"--{BOUNDARY}\r\n".encode()
            + b'Content-Disposition: form-data; name="file"; filename="\xff\xfe.txt"\r\n'
            + b"Content-Type: text/plain\r\n\r\n\xff\xfe\x00\r\n"
            + f"--{BOUNDARY}--\r\n".encode()
        ),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    "truncated multipart": (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=".encode() + b'"na',
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
    "multipart without boundary": (b"name=x", "multipart/form-data"),
    "too many fields": (
        "&".join(f"f{i}=1" for i in range(3000)).encode(),
        "application/x-www-form-urlencoded",
    ),
    "too big": (
        b"name=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        "application/x-www-form-urlencoded",
    ),
    "JSON instead of a form": (b'{"name": "<script>alert(1)</script>"', "application/json"),
}


# --- Checks applied to every response ---------------------------------------------------------------


def text_of(response: Any) -> str:
    return read_body(response).decode("utf-8", "replace")


def is_html(response: Any) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def problems_with(response: Any, where: str) -> list[str]:
    problems = []
    status = response.status_code
    if status >= 500:
        exc = getattr(response, "exc_info", None)
        detail = f": {exc[0].__name__}: {exc[1]}" if exc else ""
        problems.append(f"{where} -> {status} server error{detail}")
    body = text_of(response)
    problems += [f"{where} -> {status}: body shows internals ({word!r})" for word in INTERNALS if word in body]
    problems += [f"{where} -> {status}: reflects {marker!r} unescaped" for marker in XSS_MARKERS if marker in body]
    for header, value in response.headers.items():
        if CONTROL_CHARACTERS.search(value):
            problems.append(f"{where} -> {status}: header {header} carries control characters {value[:80]!r}")
    if status == 400 and is_html(response):
        page = parse(body)
        # A form shown again names its errors; a request that never reached a form gets the
        # product's "Bad request" page, whose heading is the message.
        errors = page.errors or page.headings
        if not errors:
            problems.append(f"{where} -> 400 without any error message on the page")
        if response.get("Content-Language", "") == "ja":
            untranslated = [e[:120] for e in errors if not JAPANESE.search(e)]
            if untranslated:
                problems.append(f"{where} -> 400: error not translated to Japanese: {untranslated}")
    return problems


# --- Who calls a route ------------------------------------------------------------------------------


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user("operator-x", PASSWORD, display_name="Operator X", role=Role.OPERATOR)


def actors(route: Route, tenant: Tenant, operator: User) -> list[User | None]:
    """The users who may call a route: None stands for an anonymous visitor."""
    assert route.audience is not None
    if route.audience & {PUBLIC, AUTHENTICATED}:
        return [None, tenant.teacher]
    return [user for user in [*tenant.users(), operator] if user.role in route.audience]


def client_for(actor: User | None) -> Client:
    client = Client(raise_request_exception=False)
    return login_as(client, actor) if actor is not None else client


def who(actor: User | None) -> str:
    return "anonymous" if actor is None else str(actor.role)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Each (route, actor) batch starts from the same data: what it created is undone afterwards.
    Inside a batch data persists, so a repeated submission meets its own earlier one (duplicates)."""
    cache.clear()  # rate limits of earlier batches
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def our_routes() -> list[Route]:
    return [route for route in all_routes() if route.audience is not None]


# --- Tests ------------------------------------------------------------------------------------------


def test_hostile_form_input_never_breaks_a_page(tenant_a: Tenant, operator: User) -> None:
    problems: list[str] = []
    posted = 0
    for route in our_routes():
        if route.template.startswith("api/") or route.streaming:
            continue
        path = route.path(_values(route, tenant_a))
        for actor in actors(route, tenant_a, operator):
            with rolled_back():
                page = client_for(actor).get(path)
                problems += problems_with(page, f"GET {path} as {who(actor)}")
                found = forms_posting_to(text_of(page), path) if page.status_code == 200 else []
                for form in found or [None]:
                    for label, data in submissions(form):
                        response = client_for(actor).post(path, data)
                        posted += 1
                        problems += problems_with(response, f"POST {path} [{label}] as {who(actor)}")
                for label, (body, content_type) in RAW_BODIES.items():
                    response = client_for(actor).generic("POST", path, body, content_type=content_type)
                    problems += problems_with(response, f"POST {path} [{label}] as {who(actor)}")
    assert posted > 500, "the walk posted suspiciously little: are the forms still found?"
    assert not problems, "\n".join(problems)


def test_hostile_path_parameters_of_pages_are_not_found(tenant_a: Tenant, operator: User) -> None:
    problems: list[str] = []
    for route in our_routes():
        if not route.parameters or route.template.startswith("api/"):
            continue
        own = _values(route, tenant_a)
        for name in route.parameters:
            for hostile in HOSTILE_INT_PATH_VALUES:
                path = route.path(own | {name: hostile})
                for actor in actors(route, tenant_a, operator):
                    for method in ("GET", "POST"):
                        response = client_for(actor).generic(method, path)
                        where = f"{method} {path} as {who(actor)}"
                        problems += problems_with(response, where)
                        # Anonymous: the login page, or 401 from a view whose client reads JSON.
                        to_login = actor is None and (
                            (response.status_code == 302 and "/accounts/login/" in response["Location"])
                            or (response.status_code == 401 and response["Content-Type"] == "application/json")
                        )
                        if response.status_code not in {403, 404, 405} and not to_login:
                            problems.append(f"{where} -> {response.status_code}, expected 404")
    assert not problems, "\n".join(problems)


def test_the_pages_forms_were_found(tenant_a: Tenant) -> None:
    """Guards the walk above: if the parser stopped finding forms it would post only generic fields."""
    client = login_as(Client(), tenant_a.school_admin)
    path = f"/schools/{tenant_a.school.pk}/"
    forms = forms_posting_to(client.get(path).content.decode(), path)
    dispatch = sorted(f.value for form in forms for f in form.fields if f.name == "form")
    assert dispatch == ["class", "furigana", "grade", "passwords", "staff", "student"]
    names = {f.name for form in forms for f in form.fields}
    assert {"student-display_name", "student-student_number", "staff-login_id", "class-school_year"} <= names
    assert {"class-grade", "passwords-password_style_grades_1_2", "passwords-password_style_older"} <= names


def test_an_invalid_form_comes_back_with_the_input_kept_and_escaped(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.school_admin)
    path = f"/schools/{tenant_a.school.pk}/"
    typed = "<script>alert(1)</script> & 'Ann' \"Bo\""
    response = client.post(
        path, {"form": "student", "student-display_name": typed, "student-student_number": "not valid!"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x27;Ann&#x27; &quot;Bo&quot;"' in body
    assert 'value="not valid!"' in body
    errors = parse(body).errors
    assert errors and all(JAPANESE.search(e) for e in errors), errors  # tenant A reads Japanese
    assert not User.objects.filter(display_name=typed).exists()


def test_a_duplicate_student_id_is_a_form_error_not_a_crash(tenant_a: Tenant) -> None:
    client = login_as(Client(raise_request_exception=False), tenant_a.school_admin)
    path = f"/schools/{tenant_a.school.pk}/"
    data = {
        "form": "student",
        "student-display_name": "Second Pupil",
        "student-student_number": tenant_a.student.student_number,
    }
    response = client.post(path, data)
    assert response.status_code == 400, getattr(response, "exc_info", None)
    assert parse(response.content.decode()).errors
    assert 'value="Second Pupil"' in response.content.decode()
    assert User.objects.filter(display_name="Second Pupil").count() == 0


def test_a_student_login_error_keeps_the_input_but_never_the_password(db: None) -> None:
    response = Client().post(
        "/login/student/",
        {"school_code": "no-such-school", "student_number": "x1", "password": "hunter2-secret"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="no-such-school"' in body
    assert "hunter2-secret" not in body
    assert "The school code, student ID or password is not right." in body


def test_student_login_errors_are_in_the_browsers_language(db: None) -> None:
    english = "The school code, student ID or password is not right."
    response = Client(HTTP_ACCEPT_LANGUAGE="ja").post(
        "/login/student/",
        {"school_code": "no-such-school", "student_number": "x1", "password": "wrong-password"},
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 400
    assert response["Content-Language"] == "ja"
    # Django's own messages are translated whatever the state of our catalogue.
    required = Client().post("/login/student/", {}, HTTP_ACCEPT_LANGUAGE="ja")
    assert "このフィールドは必須です。" in required.content.decode()
    # Our own message needs our Japanese catalogue, which may still be in progress.
    catalogue = Path(settings.LOCALE_PATHS[0]) / "ja" / "LC_MESSAGES" / "django.mo"
    with translation.override("ja"):
        expected = translation.gettext(english)
    if not catalogue.exists() or expected == english:
        missing = f"Japanese catalogue {catalogue} is missing or lacks {english!r} (translation in progress)"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)  # CI ships what it tests: the catalogue must be there
        pytest.xfail(missing)
    body = response.content.decode()
    assert expected in body
    assert english not in body
    assert all(JAPANESE.search(e) for e in parse(body).errors)


# --- The JSON API -----------------------------------------------------------------------------------


def api_routes() -> list[Route]:
    return [route for route in our_routes() if route.template.startswith("api/")]


def json_problems(response: Any, where: str, *, expect_4xx: bool) -> list[str]:
    problems = problems_with(response, where)
    status = response.status_code
    if expect_4xx and not 400 <= status < 500:
        problems.append(f"{where} -> {status}, expected a 4xx refusal")
    if not response.get("Content-Type", "").startswith("application/json"):
        problems.append(f"{where} -> {status}: not JSON but {response.get('Content-Type')!r}")
    else:
        try:
            payload = response.json()
        except ValueError:
            problems.append(f"{where} -> {status}: body is not valid JSON")
        else:
            if 400 <= status < 500 and not (isinstance(payload, dict) and payload.get("detail")):
                problems.append(f"{where} -> {status}: error without a 'detail' message")
    return problems


def test_the_api_refuses_hostile_path_parameters_with_json(tenant_a: Tenant, operator: User) -> None:
    problems: list[str] = []
    routes = [route for route in api_routes() if route.parameters]
    assert routes, "no API route with a path parameter: the walk is broken"
    for route in routes:
        own = _values(route, tenant_a)
        for actor in [None, tenant_a.teacher, tenant_a.student, tenant_a.school_admin]:
            client = client_for(actor)
            for name in route.parameters:
                for hostile in HOSTILE_API_PATH_VALUES:
                    path = route.path(own | {name: hostile})
                    response = client.get(path)
                    problems += json_problems(response, f"GET {path[:120]} as {who(actor)}", expect_4xx=True)
    assert not problems, "\n".join(problems)


def test_the_api_survives_hostile_query_strings(tenant_a: Tenant, operator: User) -> None:
    problems: list[str] = []
    for route in api_routes():
        path = route.path(_values(route, tenant_a))
        for actor in actors(route, tenant_a, operator):
            client = client_for(actor)
            for query in HOSTILE_QUERY_STRINGS:
                response = client.get(f"{path}?{query}")
                # Anonymous callers are refused, but where the operation is public (the status summary).
                refused = actor is None and PUBLIC not in route.audience
                problems += json_problems(response, f"GET {path}?{query[:60]} as {who(actor)}", expect_4xx=refused)
    assert not problems, "\n".join(problems)


def test_the_api_answers_4xx_json_to_anonymous_hostile_requests(db: None) -> None:
    client = Client(raise_request_exception=False)
    for path in ("/api/classes/abc", "/api/classes/%00", "/api/classes/-1", "/api/me?%ff=%fe"):
        response = client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert response["Content-Type"].startswith("application/json"), path
