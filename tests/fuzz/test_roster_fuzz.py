"""The roster CSV parser and planner (classnote.tenancy.roster) under arbitrary and hostile input.

* Arbitrary bytes are either read or refused with the parser's own translated RosterError —
  nothing else escapes — and every row read is clean text.
* Well-formed CSV with hostile cells (formulas, quotes, line breaks, bidi overrides, NUL, private
  use characters, another school's class, duplicates) in every encoding the parser accepts: every
  line the plan accepts satisfies the same rules as adding one pupil by hand, names a class of
  this school and year, and no two accepted lines share a student ID; the signed preview gives the
  same plan back on confirmation.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from classnote.accounts.forms import StudentForm
from classnote.accounts.models import student_username
from classnote.base.validators import no_formula
from classnote.roster import reader as roster
from tests.conftest import Tenant
from tests.fuzz import FUZZ, seen

FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp", "Cs"}
JOINERS = {"\u200c", "\u200d"}
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A9)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    '＝HYPERLINK("http://example.invalid")',
    "'quoted'",
    '"',
    '""',
    "a\nb",
    "a\r\nb",
    "photo\u202egpj.exe",
    "zero\u200bwidth",
    "<script>alert(1)</script>",
    "髙橋",
    "①",
    "\ue000外字",
    "Class bbb-1",
    "Class aaa-1",
    "１年１組",
    "A" * 81,
    "",
    " ",
    "\u3000",
]
HEADERS = {
    "student_number": ["Student ID", "学籍番号", "student_number", "ID", "学號"],
    "display_name": ["Name", "氏名", "Display name", "姓名"],
    "class_name": ["Class", "学級", "クラス", "班級"],
    "name_reading": ["Reading", "よみがな", "ﾌﾘｶﾞﾅ"],
}
ENCODINGS = ["utf-8", "utf-8-sig", "cp932"]

hostile = st.sampled_from(HOSTILE)
# Text without control characters other than tab and line breaks: one of those refuses the whole
# file (tested with arbitrary bytes above), and the lines would never be looked at.
text = st.text(st.characters(exclude_categories=["Cc", "Cs"], include_characters="\t\r\n"), max_size=40)
CELLS = {
    # Plausible values most of the time, so that lines get through and their invariants are checked.
    "student_number": st.one_of(
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}", fullmatch=True),
        st.sampled_from(["aaa001", "AAA002", "ａａａ９０１", "bbb001"]),  # A's pupils (and B's)
        hostile,
        text,
    ),
    "display_name": st.one_of(text, hostile),
    "class_name": st.one_of(
        st.sampled_from(["Class aaa-1", "class AAA-2", " Class aaa-1", "Ｃｌａｓｓ aaa-1", "Class bbb-1"]),
        hostile,
        text,
    ),
    "name_reading": st.one_of(text, hostile),
    "other": st.one_of(text, hostile),
}


def check_rows(parsed: roster.Roster) -> None:
    assert 1 <= len(parsed.rows) <= roster.MAX_ROWS
    lines = [row.line for row in parsed.rows]
    assert lines == sorted(set(lines)) and lines[0] >= 2
    for row in parsed.rows:
        for value in (row.student_number, row.display_name, row.class_name, row.name_reading):
            assert isinstance(value, str)
            assert value == value.strip()
            assert value == roster.clean_cell(value)
            for ch in value:
                category = unicodedata.category(ch)
                assert category not in FORBIDDEN_CATEGORIES, repr(value)
                assert category != "Cf" or ch in JOINERS, repr(value)


def read_or_refuse(data: bytes) -> roster.Roster | None:
    try:
        parsed = roster.read(data)
    except roster.RosterError as refusal:
        assert str(refusal), "a refusal without a message"
        seen(f"refusal: {str(refusal)[:30]}")
        return None
    check_rows(parsed)
    return parsed


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_are_read_or_refused_with_a_message(data: bytes) -> None:
    read_or_refuse(data)


@FUZZ
@given(
    st.sampled_from(
        [b"Student ID,Name,Class\n", "学籍番号,氏名,学級\r\n".encode("cp932"), codecs.BOM_UTF8 + b"id\tname\tclass\n"]
    ),
    st.binary(max_size=2048),
)
def test_a_header_followed_by_arbitrary_bytes(header: bytes, data: bytes) -> None:
    read_or_refuse(header + data)


@st.composite
def hostile_csv(draw: st.DrawFn) -> tuple[str, str]:
    """CSV text (a header naming the columns in any order and language, hostile cells) and an encoding."""
    columns = ["student_number", "display_name", "class_name"]
    if draw(st.booleans()):
        columns.append("name_reading")
    columns = draw(st.permutations(columns))
    if draw(st.booleans()):
        columns.insert(draw(st.integers(0, len(columns))), "other")
    header = [draw(st.sampled_from(HEADERS.get(column, ["生年月日"]))) for column in columns]
    row = st.tuples(*[CELLS[column] for column in columns]).map(list)
    rows: list[list[str]] = draw(st.lists(row, min_size=1, max_size=12))
    duplicate: bool = draw(st.booleans())
    if duplicate:
        rows.append(list(rows[0]))  # a duplicate line
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=draw(st.sampled_from([",", "\t"])), lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue(), draw(st.sampled_from(ENCODINGS))


@settings(FUZZ, max_examples=150)
@given(hostile_csv())
def test_every_accepted_line_of_a_hostile_file_follows_the_rules(tenant_a: Tenant, sample: tuple[str, str]) -> None:
    text, encoding = sample
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
        return
    parsed = read_or_refuse(data)
    seen("file refused" if parsed is None else "file read")
    if parsed is None:
        return
    actor, school = tenant_a.school_admin, tenant_a.school
    plan = roster.plan(actor, school, 2026, parsed)
    assert len(plan.lines) == len(parsed.rows)
    accepted_keys: set[str] = set()
    reading = school.municipality.collect_name_reading
    for line in plan.lines:
        seen(f"a line: {line.outcome}")
        row = line.row
        if line.outcome == roster.REFUSE:
            assert line.notes, "a refused line must say why"
            continue
        assert line.outcome in (roster.CREATE, roster.UPDATE, roster.UNCHANGED)
        form = StudentForm(
            data={
                "student_number": row.student_number,
                "display_name": row.display_name,
                "name_reading": row.name_reading,
            },
            collect_name_reading=reading,
        )
        assert form.is_valid(), (row, form.errors)
        no_formula(row.display_name)  # raises if it looked like a formula
        assert not row.name_reading or reading
        assert not any(unicodedata.category(ch) == "Co" for ch in row.display_name + row.name_reading)
        assert line.school_class is not None
        assert line.school_class.school_id == school.pk and line.school_class.school_year == 2026
        key = student_username(school, row.student_number)
        assert key not in accepted_keys, f"student ID {row.student_number} accepted twice"
        accepted_keys.add(key)
        if line.outcome == roster.CREATE:
            assert line.existing is None
        else:
            assert line.existing is not None and line.existing.school_id == school.pk
    # The confirmation makes the same plan again from the signed preview.
    if plan.actionable:
        year, digest, carried = roster.unsign(actor, school, roster.sign(actor, plan))
        again = roster.plan(actor, school, year, carried)
        assert again.digest() == digest == plan.digest()
        assert again.counts == plan.counts


names = (
    st.text(
        alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"], exclude_characters="\u3000"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(FUZZ, max_examples=60)
@given(
    st.lists(
        st.tuples(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True), names), min_size=1, max_size=10
    ),
    st.sampled_from(ENCODINGS),
)
def test_what_is_written_is_read_back(rows: list[tuple[str, str]], encoding: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Student ID", "Name", "Class"])
    writer.writerows([[number, name, "1年1組"] for number, name in rows])
    try:
        data = out.getvalue().encode(encoding)
    except UnicodeEncodeError:
        assume(False)
        return
    parsed = roster.read(data)
    expected = [(number, unicodedata.normalize("NFC", name), "1年1組") for number, name in rows]
    assert [(r.student_number, r.display_name, r.class_name) for r in parsed.rows] == expected
