"""The free-text cleaners and small parsers, for any text.

clean_text (lesson titles, comments, request details), the roster's cell cleaner, the formula
check names go through, the complaint form's name and e-mail checks (its answers are mailed), the
id parser of form fields and the event stream's Last-Event-ID.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from hypothesis import example, given
from hypothesis import strategies as st

from classnote.base.ids import MAX_ID, parse_id
from classnote.base.text import clean_text
from classnote.base.validators import FORMULA_STARTS, no_formula
from classnote.complaints.forms import ComplaintForm
from classnote.realtime.views import _parse_last_id
from classnote.roster.reader import clean_cell
from tests.fuzz import FUZZ

any_text = st.one_of(
    st.text(max_size=200),
    st.text(st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(["\x00", "\r\n", "\u2028", "\u202e", "\ufeff", " \u3000 ", "e\u200b\u0301", "=1+1", "＝1", "-"]),
)


@FUZZ
@given(any_text, st.integers(0, 300))
def test_clean_text_has_no_nul_and_keeps_to_its_limit(value: str, limit: int) -> None:
    cleaned = clean_text(value, limit)
    assert "\x00" not in cleaned
    assert len(cleaned) <= limit
    assert cleaned == cleaned.lstrip()


@FUZZ
@given(any_text)
@example("e\u200b\u0301")  # the removed zero-width space kept e and the accent from composing
def test_a_roster_cell_is_clean_and_cleaning_it_again_changes_nothing(value: str) -> None:
    cleaned = clean_cell(value)
    assert cleaned == cleaned.strip()
    assert cleaned == unicodedata.normalize("NFC", cleaned)
    for ch in cleaned:
        category = unicodedata.category(ch)
        assert category not in {"Cc", "Zl", "Zp", "Cs"}
        assert category != "Cf" or ch in "\u200c\u200d"
    assert clean_cell(cleaned) == cleaned


@FUZZ
@given(any_text)
def test_only_values_that_start_like_a_formula_are_refused(value: str) -> None:
    first = unicodedata.normalize("NFKC", value.lstrip()[:1])
    looks_like_formula = first.startswith(FORMULA_STARTS)
    try:
        no_formula(value)
    except ValidationError as error:
        assert error.code == "formula" and looks_like_formula
    else:
        assert not looks_like_formula


@pytest.mark.django_db
@FUZZ
@given(any_text, st.one_of(any_text, st.emails(), st.builds(lambda a, b: f"{a}\r\nBcc: {b}", st.emails(), st.emails())))
def test_the_complaint_form_never_accepts_a_second_line_or_address(name: str, email: str) -> None:
    form = ComplaintForm(data={"kind": "question", "message": "Hello", "name": name, "email": email})
    if not form.is_valid():
        return
    assert not re.search(r"[\r\n\x00\x85\u2028\u2029]", form.cleaned_data["name"])
    address = form.cleaned_data["email"]
    assert not re.search(r"[\x00-\x1f\x7f,;<>\"'\\()\[\]\s]", address)
    assert address == "" or address.count("@") == 1


@FUZZ
@given(st.one_of(any_text, st.integers(-(2**70), 2**70).map(str), st.from_regex(r"[0-9]{15,25}", fullmatch=True)))
@example("²")  # str.isdigit() is true for it, int() refuses it
@example("9" * 5000)  # beyond int()'s digit limit
def test_an_id_in_a_form_field_is_a_database_id_or_none(value: str) -> None:
    parsed = parse_id(value)
    if parsed is None:
        return
    assert 1 <= parsed <= MAX_ID
    assert value.isascii() and int(value) == parsed


@FUZZ
@given(st.one_of(any_text.filter(lambda v: "\n" not in v and "\r" not in v), st.integers().map(str)))
def test_the_event_streams_last_event_id_is_a_sequence_number_or_none(value: str) -> None:
    request = RequestFactory().get("/events/lesson/1/", {"since": value})
    parsed = _parse_last_id(request)
    assert parsed is None or (isinstance(parsed, int) and 0 <= parsed < 2**62)
