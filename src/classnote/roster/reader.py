"""Roster import: a CSV file of pupils read safely and turned into a plan, line by line.

The file has a header row naming its columns — student ID, name, class and, optionally, the
reading of the name — in English, Japanese or Chinese (``Student ID,Name,Class,Reading`` or
``学籍番号,氏名,学級,よみがな``); other columns (a birth date, an address...) are ignored and never
stored. It may be UTF-8 (with or without the byte order mark Excel writes) or Shift_JIS / CP932
as Japanese school systems export it; comma- or tab-separated.

* ``read(data)`` decodes and parses the bytes. A file that cannot be read at all (too large, not
  text, an Excel workbook, no header, too many rows) raises ``RosterError`` with a translated
  message; nothing else escapes (``tests/fuzz/test_roster_fuzz.py`` feeds it arbitrary bytes).
* ``plan(actor, school, school_year, roster)`` checks every line against the school (read only):
  the same form validation as adding one pupil (``accounts.forms.StudentForm``: ID format, name
  length, no formula-like values), duplicates in the file, the class (of this school and school
  year only), and whether the pupil exists already. Each line is to be created, updated,
  unchanged or refused with its reasons.
* ``classnote.roster.actions.import_roster`` applies a plan in one transaction.

Between the preview and the confirmation the accepted lines travel signed (``sign`` /
``unsign``: bound to the acting user and the school, valid for an hour); on confirmation the plan
is made again from them and must be the one the user saw.

Encodings are decided without a library: a UTF-8 byte order mark means UTF-8; otherwise strict
UTF-8, else strict CP932 (Shift_JIS with the Windows extensions). Japanese text in CP932 is
practically never valid UTF-8, so the order is safe; anything that is neither is refused.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classnote.accounts import access as account_access
from classnote.accounts.forms import StudentForm
from classnote.accounts.models import User, student_username
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.tenancy import access
from classnote.tenancy.models import Membership, School, SchoolClass

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
SIGNED_MAX_AGE = 3600  # seconds between the preview and the confirmation

# Header names (compared after NFKC, case folding and dropping spaces and punctuation).
COLUMNS: dict[str, frozenset[str]] = {
    "student_number": frozenset(
        {
            "studentid",
            "studentnumber",
            "studentno",
            "id",
            "学籍番号",
            "児童生徒番号",
            "児童番号",
            "生徒番号",
            "学號",
            "学号",
        }
    ),
    "display_name": frozenset(
        {"name", "displayname", "studentname", "fullname", "氏名", "名前", "児童氏名", "生徒氏名", "児童生徒氏名"}
        | {"表示名", "姓名", "學生姓名", "顯示名稱"}
    ),
    "class_name": frozenset({"class", "classname", "homeroom", "学級", "学級名", "クラス", "組", "班級", "班"}),
    "name_reading": frozenset(
        {"reading", "namereading", "furigana", "kana", "よみがな", "ふりがな", "フリガナ", "ヨミガナ", "よみ", "読み"}
        | {"氏名よみがな", "氏名ふりがな", "氏名フリガナ", "讀音"}
    ),
}
REQUIRED = ("student_number", "display_name", "class_name")
# Format characters hide or reorder text (bidi overrides); the two joiners stay (emoji, scripts).
_KEEP_FORMAT = {"\u200c", "\u200d"}
_PUNCTUATION = re.compile(r"[\s_\-.・()（）:：/]+")


class RosterError(ActionError):
    """The file as a whole cannot be used; the message (translated) says what to do."""

    status = 400


# --- Reading the file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int  # the row number a spreadsheet shows (the header is usually row 1)
    student_number: str
    display_name: str
    class_name: str
    name_reading: str = ""


@dataclass
class Roster:
    rows: list[Row]
    encoding: str = "utf-8"
    has_reading: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    # Lines the preview showed as refused or unchanged, which the confirmation no longer carries.
    left_out: dict[str, int] = field(default_factory=dict)


def too_large() -> RosterError:
    return RosterError(
        _("The file is larger than %(megabytes)s MB. Split it into several files.")
        % {"megabytes": MAX_BYTES // (1024 * 1024)}
    )


def decode(data: bytes) -> tuple[str, str]:
    """The text of DATA and the encoding it was read with; RosterError if it is no text file."""
    if len(data) > MAX_BYTES:
        raise too_large()
    if not data.strip():
        raise RosterError(_("The file is empty."))
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise RosterError(
            _("This is an Excel workbook, not a CSV file. In Excel, save it as “CSV UTF-8” and upload that file.")
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RosterError(_("This file is saved as UTF-16. Save it as “CSV UTF-8” and upload it again."))
    text: str | None = None
    encoding = ""
    candidates = (
        [("utf-8-sig", "utf-8")] if data.startswith(codecs.BOM_UTF8) else [("utf-8", "utf-8"), ("cp932", "cp932")]
    )
    for codec, name in candidates:
        try:
            text, encoding = data.decode(codec), name
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise RosterError(_("The file's characters could not be read. Save it as “CSV UTF-8” and upload it again."))
    text = text.rstrip("\x1a")  # the end-of-file mark of old DOS programs
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text):
        raise RosterError(_("This is not a CSV file. Upload a CSV file (text) of your pupils."))
    return text, encoding


def _key(header: str) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", header)).casefold()


def clean_cell(raw: str) -> str:
    """A cell as text to store: no control or invisible format characters (line breaks and tabs
    become spaces), NFC, trimmed. Cleaning a clean cell changes nothing."""
    out = []
    for ch in raw:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif (category == "Cf" and ch not in _KEEP_FORMAT) or category == "Cs":
            continue
        else:
            out.append(ch)
    # Normalised after the filter: a removed character may have kept two others from composing.
    return unicodedata.normalize("NFC", "".join(out)).strip()


def _delimiter(text: str) -> str:
    first = text.lstrip("\r\n").split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


def _header(cells: list[str]) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(cells):
        key = _key(cell)
        column = next((name for name, aliases in COLUMNS.items() if key in aliases), None)
        if column is None:
            if cell.strip():
                ignored.append(clean_cell(cell)[:80])
            continue
        if column in positions:
            raise RosterError(
                _("The column “%(column)s” appears twice in the first line.") % {"column": clean_cell(cell)[:80]}
            )
        positions[column] = index
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise RosterError(
            _(
                "The first line must name the columns: student ID, name and class (for example "
                "“Student ID,Name,Class” or “学籍番号,氏名,学級”), optionally the reading of the name."
            )
        )
    return positions, ignored


def _cell(cells: list[str], positions: dict[str, int], column: str) -> str:
    index = positions.get(column)
    return clean_cell(cells[index]) if index is not None and index < len(cells) else ""


def read(data: bytes) -> Roster:
    """Decode and parse a roster file (see the module docstring)."""
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    positions: dict[str, int] | None = None
    ignored: list[str] = []
    rows: list[Row] = []
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and the ",,," rows spreadsheets leave at the end
            if positions is None:
                positions, ignored = _header(cells)
                continue
            if len(rows) >= MAX_ROWS:
                raise RosterError(
                    _("The file has more than %(limit)s pupils. Split it into several files.")
                    % {"limit": f"{MAX_ROWS:,}"}
                )

            rows.append(
                Row(
                    line=number,
                    # Full-width digits and letters, as typed on Japanese keyboards, become ASCII.
                    student_number=clean_cell(unicodedata.normalize("NFKC", _cell(cells, positions, "student_number"))),
                    display_name=_cell(cells, positions, "display_name"),
                    class_name=_cell(cells, positions, "class_name"),
                    name_reading=_cell(cells, positions, "name_reading"),
                )
            )
    except csv.Error:
        raise RosterError(_("Line %(line)s could not be read as CSV.") % {"line": number + 1}) from None
    if positions is None:
        raise RosterError(_("The file is empty."))
    if not rows:
        raise RosterError(_("The file names its columns but lists no pupils."))
    return Roster(rows, encoding, "name_reading" in positions, ignored)


# --- The plan -------------------------------------------------------------------------------------

CREATE, UPDATE, UNCHANGED, REFUSE = "create", "update", "unchanged", "refuse"
OUTCOMES = {
    CREATE: gettext_lazy("New pupil"),
    UPDATE: gettext_lazy("Update"),
    UNCHANGED: gettext_lazy("No change"),
    REFUSE: gettext_lazy("Not imported"),
}


@dataclass
class Line:
    row: Row
    outcome: str
    notes: list[str] = field(default_factory=list)  # why refused, or what changes (translated)
    school_class: SchoolClass | None = None
    existing: User | None = None

    @property
    def outcome_label(self) -> str:
        return str(OUTCOMES[self.outcome])


@dataclass
class Plan:
    school: School
    school_year: int
    roster: Roster
    lines: list[Line]
    reading_ignored: bool = False

    def count(self, outcome: str) -> int:
        return sum(line.outcome == outcome for line in self.lines) + self.roster.left_out.get(outcome, 0)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome: self.count(outcome) for outcome in OUTCOMES}

    @property
    def actionable(self) -> list[Line]:
        return [line for line in self.lines if line.outcome in (CREATE, UPDATE)]

    def digest(self) -> str:
        """What confirming would do (the lines to create or update); the confirmation must find the same."""
        content = [
            [
                line.row.line,
                line.outcome,
                line.row.student_number,
                line.row.display_name,
                line.row.name_reading,
                line.school_class.pk if line.school_class else None,
                line.existing.pk if line.existing else None,
            ]
            for line in self.actionable
        ]
        return hashlib.sha256(json.dumps([self.school.pk, self.school_year, content]).encode()).hexdigest()


def class_key(name: str) -> str:
    """Class names match regardless of full-width characters, case and spaces ("１年１組" = "1年1組")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


def school_years(actor: User, school: School) -> list[int]:
    """The school years that have classes the actor may fill, newest first."""
    classes = access.manageable_classes(actor).filter(school=school, archived=False)
    return sorted(set(classes.values_list("school_year", flat=True)), reverse=True)


def _classes(actor: User, school: School, school_year: int) -> dict[str, list[SchoolClass]]:
    found: dict[str, list[SchoolClass]] = {}
    classes: QuerySet[SchoolClass] = access.manageable_classes(actor).filter(
        school=school, school_year=school_year, archived=False
    )
    for school_class in classes:
        found.setdefault(class_key(school_class.name), []).append(school_class)
    return found


def _private_use(text: str) -> bool:
    return any(unicodedata.category(ch) == "Co" for ch in text)


def plan(actor: User, school: School, school_year: int, roster: Roster) -> Plan:
    """What importing ROSTER into SCHOOL (classes of SCHOOL_YEAR) would do, line by line."""
    school = access.get_school_for(actor, school.pk, manage=True)
    collect_reading = school.municipality.collect_name_reading
    reading_ignored = roster.has_reading and not collect_reading
    classes = _classes(actor, school, school_year)
    keys = [student_username(school, row.student_number) for row in roster.rows]
    lines_of: dict[str, list[int]] = {}
    for key, row in zip(keys, roster.rows, strict=True):
        lines_of.setdefault(key, []).append(row.line)
    repeated = {key for key, count in Counter(keys).items() if count > 1}
    existing = {
        user.username: user
        for user in account_access.manageable_users(actor).filter(
            school=school, role=Role.STUDENT, username__in=[key for key in set(keys) if key not in repeated]
        )
    }
    memberships = set(
        Membership.objects.filter(user__in=list(existing.values()), school_class__school=school).values_list(
            "user_id", "school_class_id"
        )
    )
    known = _Known(school_year, collect_reading, classes, existing, memberships, repeated, lines_of)
    lines = []
    for key, row in zip(keys, roster.rows, strict=True):
        if reading_ignored:
            row = Row(row.line, row.student_number, row.display_name, row.class_name, "")
        lines.append(_line(row, key, known))
    return Plan(school, school_year, roster, lines, reading_ignored)


@dataclass
class _Known:
    """What plan() looked up once for all lines."""

    school_year: int
    collect_reading: bool
    classes: dict[str, list[SchoolClass]]
    existing: dict[str, User]  # by login key
    memberships: set[tuple[int, int]]  # (user id, class id) of the existing pupils
    repeated: set[str]  # login keys on more than one line
    lines_of: dict[str, list[int]]


def _line(row: Row, key: str, known: _Known) -> Line:
    notes: list[str] = []
    form = StudentForm(
        data={"student_number": row.student_number, "display_name": row.display_name, "name_reading": row.name_reading},
        collect_name_reading=known.collect_reading,
    )
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            notes += [f"{label}: {error}" if label else str(error) for error in errors]
    if any(_private_use(text) for text in (row.display_name, row.name_reading)):
        notes.append(
            _("The name contains characters only your school's computers can show (外字). Use standard characters.")
        )
    if row.student_number and key in known.repeated:
        others = ", ".join(str(line) for line in known.lines_of[key] if line != row.line)
        notes.append(
            _("This student ID appears more than once in the file (also on line %(lines)s).") % {"lines": others}
        )
    school_class = None
    if not row.class_name:
        notes.append(_("The class is missing."))
    else:
        matches = known.classes.get(class_key(row.class_name), [])
        if len(matches) == 1:
            school_class = matches[0]
        elif matches:
            notes.append(_("Several classes of this school year match this class name. Rename one of them."))
        else:
            notes.append(
                _("This school has no class named “%(name)s” in %(year)s.")
                % {"name": row.class_name[:80], "year": known.school_year}
            )
    user = known.existing.get(key)
    if user is not None and not user.is_active:
        notes.append(_("This pupil's account is deactivated. Reactivate it on the pupil's page first."))
    if notes or school_class is None:
        return Line(row, REFUSE, notes, school_class, user)
    if user is None:
        return Line(row, CREATE, [], school_class)
    if user.display_name != row.display_name:
        notes.append(_("New name (was “%(name)s”).") % {"name": user.display_name})
    if row.name_reading and user.name_reading != row.name_reading:
        notes.append(_("New reading of the name."))
    if (user.pk, school_class.pk) not in known.memberships:
        notes.append(_("Joins %(class)s.") % {"class": school_class.name})
    return Line(row, UPDATE if notes else UNCHANGED, notes, school_class, user)


# --- Between preview and confirmation -------------------------------------------------------------


def _salt(actor: User, school: School) -> str:
    # The salt keeps the module's former name, so a preview signed before the move stays valid.
    return f"classnote.tenancy.roster:{actor.pk}:{school.pk}"


def sign(actor: User, the_plan: Plan) -> str:
    """The accepted lines of THE_PLAN and its digest, signed for this actor and school."""
    payload = {
        "year": the_plan.school_year,
        "digest": the_plan.digest(),
        "reading": the_plan.roster.has_reading,
        "encoding": the_plan.roster.encoding,
        "left_out": {outcome: the_plan.count(outcome) for outcome in (UNCHANGED, REFUSE)},
        "rows": [
            [line.row.line, line.row.student_number, line.row.display_name, line.row.class_name, line.row.name_reading]
            for line in the_plan.actionable
        ],
    }
    return signing.dumps(payload, salt=_salt(actor, the_plan.school), compress=True)


def unsign(actor: User, school: School, token: str) -> tuple[int, str, Roster]:
    """School year, digest and roster of a signed preview; RosterError if it is not one (any more)."""
    try:
        payload: Any = signing.loads(token, salt=_salt(actor, school), max_age=SIGNED_MAX_AGE)
        rows = [
            Row(int(line), str(number), str(name), str(klass), str(reading))
            for line, number, name, klass, reading in payload["rows"]
        ]
        left_out = {str(outcome): int(count) for outcome, count in payload["left_out"].items()}
        parsed = Roster(rows, str(payload["encoding"]), bool(payload["reading"]), left_out=left_out)
        return int(payload["year"]), str(payload["digest"]), parsed
    except signing.SignatureExpired:
        raise RosterError(_("The preview is more than an hour old. Upload the file again.")) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise RosterError(_("The preview could not be read. Upload the file again.")) from None
