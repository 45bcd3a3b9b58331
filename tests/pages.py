"""The forms of a rendered page, submitted as a browser would submit them (tests of the HTML views).

``forms_of(response)`` parses the page with html5lib, which builds the tree browsers build: a
``<form>`` start tag inside an open form is dropped, its fields join the outer form, and its
``</form>`` ends the outer form early, so what follows belongs to no form (html.parser would show
two well-nested forms that no browser sees). A field belongs to its nearest form ancestor, or to
the form its ``form="id"`` names. Each form knows its action and method (resolved against the
page's address) and the entries a click on one of its buttons sends: every named field with its
rendered value, checkboxes and radios only when checked, the selected option of a select (else
its first), the CSRF token, and the clicked button's own name and value.

``Form.submit(client, button, **overrides)`` sends that, with what a user may change on the page
changed: text typed into a field, a box ticked, an option chosen, a file picked. Hidden and
read-only fields cannot be overridden, a checkbox or option that the page does not offer cannot be
chosen, and a required field left empty refuses the submission as the browser would. A
urlencoded form sends a file's name only, as browsers do. ``submit(client, ENTER)`` is Enter pressed
in a text field (implicit submission). Forms and fields inside a ``<template>`` (copied in by
scripts) are left out, and so are the layout's forms (log out, language) unless asked for.

The other helpers read what a page shows: headings, messages, table rows, the text of <main>.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import html5lib
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from classnote.accounts.models import User
from classnote.cards.models import Card
from tests.conftest import Tenant, login_as

# The forms of base.html, on every page: log out and the language menu.
LAYOUT_ACTIONS = frozenset({"/accounts/logout/", "/settings/language/"})
SUBMITTABLE = ("input", "select", "textarea", "button")
NOT_SENT = ("submit", "image", "reset", "button")  # input types that send nothing unless clicked
# Input types that make Enter submit a form without a submit button if the form has only one of them.
BLOCKS_IMPLICIT_SUBMISSION = frozenset(
    ("text", "search", "url", "tel", "email", "password", "date", "month", "week", "time", "datetime-local", "number")
)
ENTER = "Enter"  # Form.submit(client, ENTER): implicit submission (Enter in a text field)


def text_of(element: ET.Element) -> str:
    """An element's text, whitespace collapsed."""
    return " ".join("".join(element.itertext()).split())


def parse(response: Any) -> ET.Element:
    """The page as browsers see it (html5lib), as an ElementTree without namespaces."""
    return html5lib.parse(response.content.decode(), namespaceHTMLElements=False)


def page_url(response: Any) -> str:
    """The address of the page RESPONSE answered (a test client's response)."""
    request = response.request
    query = request.get("QUERY_STRING", "")
    return request["PATH_INFO"] + (f"?{query}" if query else "")


def _in_template(element: ET.Element, parents: dict[ET.Element, ET.Element]) -> bool:
    node: ET.Element | None = element
    while node is not None:
        if node.tag == "template":
            return True
        node = parents.get(node)
    return False


def _owner(element: ET.Element, parents: dict[ET.Element, ET.Element]) -> ET.Element | None:
    node = parents.get(element)
    while node is not None and node.tag != "form":
        node = parents.get(node)
    return node


def _local(url: str) -> str:
    """A path with its query: the test client's URL of an address on this site."""
    parts = urlsplit(url)
    assert parts.netloc in ("", "testserver"), f"a form of this site posts to another host: {url}"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Control:
    """A named field of a form (buttons excluded)."""

    tag: str
    type: str
    name: str
    value: str  # a checkbox's or radio's own value; a text field's rendered value
    options: tuple[str, ...]  # a select's option values
    selected: tuple[str, ...]  # a select's submitted values, a checked box's value
    required: bool
    disabled: bool
    readonly: bool
    maxlength: int | None


@dataclass(frozen=True)
class Button:
    label: str
    name: str
    value: str
    disabled: bool
    formaction: str | None
    formmethod: str | None
    formenctype: str | None


@dataclass
class Form:
    element: ET.Element = field(repr=False)
    page: str
    action: str
    method: str
    enctype: str
    novalidate: bool
    controls: list[Control]
    buttons: list[Button]

    @property
    def fields(self) -> dict[str, list[str]]:
        """What the form sends as rendered (before a button adds its own name and value)."""
        sent: dict[str, list[str]] = {}
        for control in self.controls:
            if control.disabled or control.type == "file":
                continue
            sent.setdefault(control.name, []).extend(control.selected)
        return {name: values for name, values in sent.items() if values}

    @property
    def csrf_token(self) -> str:
        return self.fields["csrfmiddlewaretoken"][0]

    @property
    def labels(self) -> list[str]:
        return [button.label for button in self.buttons]

    def choices(self, name: str) -> list[str]:
        """The values the page offers for NAME: options of a select, values of checkboxes/radios."""
        found: list[str] = []
        for control in self._named(name):
            found.extend(control.options if control.tag == "select" else [control.value])
        return found

    def _named(self, name: str) -> list[Control]:
        return [control for control in self.controls if control.name == name]

    def button(self, which: str | None = None) -> Button:
        if which == ENTER:
            return self._implicit()
        candidates = [b for b in self.buttons if which is None or which in (b.label, b.name)]
        if which is None and len(candidates) > 1:
            raise AssertionError(f"{self.action}: several buttons {self.labels}; say which is clicked")
        if not candidates:
            raise AssertionError(f"{self.action}: no button {which!r} among {self.labels}")
        if len(candidates) > 1:
            raise AssertionError(f"{self.action}: several buttons match {which!r}: {self.labels}")
        if candidates[0].disabled:
            raise AssertionError(f"{self.action}: the button {candidates[0].label!r} is disabled")
        return candidates[0]

    def _implicit(self) -> Button:
        """Enter in a text field: the first submit button, or with none, the form itself if it has
        a single field that blocks implicit submission (HTML's implicit submission)."""
        if self.buttons:
            assert not self.buttons[0].disabled, f"{self.action}: the default button is disabled"
            return self.buttons[0]
        blocking = [c for c in self.controls if c.tag == "input" and c.type in BLOCKS_IMPLICIT_SUBMISSION]
        assert len(blocking) == 1, f"{self.action}: without a button, Enter submits only a form of one text field"
        return Button("", "", "", False, None, None, None)

    def entries(self, button: str | None = None, **overrides: Any) -> tuple[Button, list[tuple[str, Any]]]:
        """The entry list a click on BUTTON sends, with what the user changed (OVERRIDES)."""
        clicked = self.button(button)
        for name, value in overrides.items():
            self._check_override(name, value)
        entries: list[tuple[str, Any]] = []
        done: set[str] = set()
        for control in self.controls:
            if control.disabled:
                continue
            if control.name in overrides:
                if control.name not in done:
                    done.add(control.name)
                    value = overrides[control.name]
                    values = value if isinstance(value, list | tuple) else [] if value is None else [value]
                    entries.extend((control.name, v) for v in values)
                continue
            if control.type != "file":
                entries.extend((control.name, v) for v in control.selected)
        if clicked.name:
            entries.append((clicked.name, clicked.value))
        return clicked, entries

    def _check_override(self, name: str, value: Any) -> None:
        controls = self._named(name)
        assert controls, f"{self.action}: the page has no field {name!r} (fields: {sorted(self.fields)})"
        control = controls[0]
        assert not any(c.disabled or c.readonly for c in controls), f"{name!r} cannot be changed: it is read-only"
        assert control.type != "hidden", f"{name!r} is a hidden field: a user cannot change it"
        values = value if isinstance(value, list | tuple) else [] if value is None else [value]
        if control.type in ("checkbox", "radio") or control.tag == "select":
            offered = self.choices(name)
            for chosen in values:
                assert chosen in offered, f"{name!r}: the page offers {offered}, not {chosen!r}"
            if control.type == "radio" or (control.tag == "select" and control.type != "select-multiple"):
                assert len(values) <= 1, f"{name!r} takes one value"
        elif control.type == "file":
            assert all(hasattr(v, "read") for v in values), f"{name!r} takes uploaded files"
        else:
            assert len(values) <= len(controls), f"{name!r}: {len(controls)} field(s), {len(values)} values"
            for typed in values:
                if control.maxlength is not None:
                    assert len(str(typed)) <= control.maxlength, f"{name!r} takes at most {control.maxlength}"

    def _check_required(self, entries: list[tuple[str, Any]]) -> None:
        sent: dict[str, list[Any]] = {}
        for name, value in entries:
            sent.setdefault(name, []).append(value)
        for control in self.controls:
            if control.required and not control.disabled:
                values = [v for v in sent.get(control.name, []) if v not in ("", None)]
                assert values, f"{self.action}: {control.name!r} is required (the browser would not submit)"

    def submit(
        self,
        client: Client,
        button: str | None = None,
        *,
        follow: bool = False,
        validate: bool = True,
        **overrides: Any,
    ) -> Any:
        """Click BUTTON (by its label or name; None: the form's only button; ENTER: press Enter in
        a text field) after changing OVERRIDES (field name -> value, list of values, uploaded file,
        or None to untick all). Field names that are not identifiers go in as **{"prefix-name": value}.
        VALIDATE: refuse, as the browser would, to send a required field empty (unless novalidate)."""
        clicked, entries = self.entries(button, **overrides)
        if validate and not self.novalidate:
            self._check_required(entries)
        action = _local(urljoin(self.page, clicked.formaction)) if clicked.formaction else self.action
        method = (clicked.formmethod or self.method).lower()
        enctype = (clicked.formenctype or self.enctype).lower()
        if method == "get":
            path = action.split("?", 1)[0]
            query = urlencode([(n, str(v)) for n, v in entries])
            return client.get(f"{path}?{query}" if query else path, follow=follow)
        assert method == "post", f"{self.action}: method {method!r}"
        if enctype == "multipart/form-data":
            data: dict[str, list[Any]] = {}
            for name, value in entries:
                data.setdefault(name, []).append(value)
            return client.post(action, data, follow=follow)
        # application/x-www-form-urlencoded (the default): a picked file travels as its name only.
        pairs = [(n, getattr(v, "name", v) if hasattr(v, "read") else v) for n, v in entries]
        return client.post(
            action,
            urlencode([(n, str(v)) for n, v in pairs]),
            content_type="application/x-www-form-urlencoded",
            follow=follow,
        )


def _control(element: ET.Element) -> Control | None:
    name = element.get("name", "")
    if element.tag == "button" or not name:
        return None
    disabled = element.get("disabled") is not None
    readonly = element.get("readonly") is not None
    required = element.get("required") is not None
    maxlength = int(element.get("maxlength", "")) if element.get("maxlength", "").isdigit() else None
    if element.tag == "select":
        multiple = element.get("multiple") is not None
        options = [o for o in element.iter("option") if o.get("disabled") is None]
        values = [o.get("value", text_of(o)) for o in options]
        chosen = [o.get("value", text_of(o)) for o in options if o.get("selected") is not None]
        if not multiple:
            chosen = chosen[-1:] or values[:1]
        return Control(
            "select",
            "select-multiple" if multiple else "select-one",
            name,
            chosen[0] if chosen else "",
            tuple(values),
            tuple(chosen),
            required,
            disabled,
            False,
            None,
        )
    if element.tag == "textarea":
        text = element.text or ""
        return Control("textarea", "textarea", name, text, (), (text,), required, disabled, readonly, maxlength)
    kind = (element.get("type") or "text").lower()
    if kind in NOT_SENT:
        return None
    if kind in ("checkbox", "radio"):
        value = element.get("value", "on")
        checked = element.get("checked") is not None
        return Control("input", kind, name, value, (), (value,) if checked else (), required, disabled, False, None)
    value = element.get("value", "")
    sent = () if kind == "file" else (value,)
    return Control("input", kind, name, value, (), sent, required, disabled, readonly, maxlength)


def _button(element: ET.Element) -> Button | None:
    kind = (element.get("type") or ("submit" if element.tag == "button" else "text")).lower()
    if element.tag not in ("button", "input") or (element.tag == "button" and kind != "submit"):
        return None
    if element.tag == "input":
        if kind not in ("submit", "image"):
            return None
        label = element.get("value", "") or element.get("alt", "")
    else:
        label = text_of(element) or element.get("aria-label", "")
    return Button(
        label=label,
        name=element.get("name", ""),
        value=element.get("value", ""),
        disabled=element.get("disabled") is not None,
        formaction=element.get("formaction"),
        formmethod=element.get("formmethod"),
        formenctype=element.get("formenctype"),
    )


def forms_of(response: Any, *, layout: bool = False) -> list[Form]:
    """The forms of the page, in document order; without the layout's (log out, language) unless
    LAYOUT. Forms inside a <template> (copied in by scripts) are left out."""
    root = parse(response)
    parents = {child: parent for parent in root.iter() for child in parent}
    order = {element: index for index, element in enumerate(root.iter())}
    here = page_url(response)
    found = []
    for form in root.iter("form"):
        if _in_template(form, parents):
            continue
        # A control belongs to its nearest form ancestor (a form the parser left inside another keeps
        # its own controls), unless its form="id" names another form.
        inside = [
            e
            for e in form.iter()
            if e.tag in SUBMITTABLE and e.get("form") in (None, form.get("id")) and _owner(e, parents) is form
        ]
        named = [e for e in root.iter() if form.get("id") and e.tag in SUBMITTABLE and e.get("form") == form.get("id")]
        elements = sorted(
            (e for e in dict.fromkeys([*inside, *named]) if not _in_template(e, parents)), key=order.__getitem__
        )
        action = form.get("action") or ""
        found.append(
            Form(
                element=form,
                page=here,
                action=_local(urljoin(here, action)) if action else here,
                method=(form.get("method") or "get").lower(),
                enctype=(form.get("enctype") or "application/x-www-form-urlencoded").lower(),
                novalidate=form.get("novalidate") is not None,
                controls=[c for c in map(_control, elements) if c is not None],
                buttons=[b for b in map(_button, elements) if b is not None],
            )
        )
    if layout:
        return found
    return [form for form in found if form.action not in LAYOUT_ACTIONS]


def form_on(response: Any, action: str, button: str | None = None) -> Form:
    """The one form of the page that goes to ACTION (and has a button labelled BUTTON)."""
    forms = [f for f in forms_of(response) if f.action.split("?", 1)[0] == action]
    if button is not None:
        forms = [f for f in forms if button in f.labels]
    actions = [(f.action, f.labels) for f in forms_of(response)]
    assert len(forms) == 1, f"{len(forms)} forms to {action} {button or ''}; the page has {actions}"
    return forms[0]


def actions_of(response: Any) -> list[str]:
    """The actions of the page's forms (without the layout's), in document order."""
    return [form.action for form in forms_of(response)]


def inputs_named(response: Any, name: str) -> list[str]:
    """The values of the page's inputs named NAME, in a form or not (outside <template>s)."""
    root = parse(response)
    parents = {child: parent for parent in root.iter() for child in parent}
    return [e.get("value", "") for e in root.iter("input") if e.get("name") == name and not _in_template(e, parents)]


def messages_of(response: Any) -> list[str]:
    """The messages (django.contrib.messages) the page shows."""
    root = parse(response)
    return [text_of(li) for ul in root.iter("ul") if "messages" in (ul.get("class") or "").split() for li in ul]


def table_rows(response: Any) -> list[list[str]]:
    """The text of each cell of each row of the page's tables."""
    return [[text_of(cell) for cell in tr if cell.tag in ("td", "th")] for tr in parse(response).iter("tr")]


def headings(response: Any, level: str = "h1") -> list[str]:
    """The texts of the page's headings of LEVEL."""
    return [text_of(h) for h in parse(response).iter(level)]


def page_text(response: Any) -> str:
    """The text of the page's <main>, whitespace collapsed."""
    root = parse(response)
    main = next(root.iter("main"), None)
    return text_of(main if main is not None else root)


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def redirect_target(response: Any) -> str:
    assert response.status_code in (301, 302, 303), f"not a redirect: {response.status_code} {response.content[:300]!r}"
    return str(response["Location"])


def follow(client: Client, response: Any, expected: str | None = None) -> Any:
    """Assert RESPONSE redirects (to EXPECTED, if given) and open the target: it must answer 200."""
    target = redirect_target(response)
    if expected is not None:
        assert target == expected, f"redirected to {target}, not {expected}"
    page = client.get(target)
    assert page.status_code == 200, f"{target}: {page.status_code}"
    return page


# --- What the page tests of lessons, cards and tenancy share ----------------------------------------


@pytest.fixture(name="t")
def english_tenant(tenant_a: Tenant) -> Tenant:
    """Tenant A with its pages in English (the labels and messages the page tests read)."""
    tenant_a.municipality.default_language = "en"
    tenant_a.municipality.save(update_fields=["default_language"])
    return tenant_a


def browser(user: User) -> Client:
    """A browser signed in as USER that sends the CSRF token as a real one must."""
    return login_as(Client(enforce_csrf_checks=True), user)


def lesson_url(t: Tenant) -> str:
    return f"/lessons/{t.lesson.pk}/"


def copy_of(t: Tenant, user: User) -> Card:
    """USER's working copy of the task card sent to the class."""
    return Card.objects.get(owner=user, origin=t.card, frozen=False)
