from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, Field, SerializerFunctionWrapHandler, model_serializer


class Me(Schema):
    id: int
    display_name: str
    role: str
    language: str
    school_id: int | None
    municipality_id: int | None


class SchoolOut(Schema):
    id: int
    name: str
    code: str


class ClassOut(Schema):
    id: int
    name: str
    school_year: int
    school_id: int
    archived: bool


class MemberOut(Schema):
    user_id: int
    display_name: str
    role: str


class Error(Schema):
    detail: str


# --- Shared pieces --------------------------------------------------------------------------------

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Ids = Annotated[list[Id], Field(max_length=2000)]


def _storable(value: str) -> str:
    """Text the databases can store: no NUL (PostgreSQL refuses it) and no lone surrogates."""
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text is not valid Unicode") from None
    return value


_NO_NUL = r"^[^\x00]*$"
Name80 = Annotated[str, Field(min_length=1, max_length=80, pattern=_NO_NUL), AfterValidator(_storable)]
Text120 = Annotated[str, Field(max_length=120, pattern=_NO_NUL), AfterValidator(_storable)]
# A lesson's or a box's title: required, as on the page (the action refuses one of only spaces too).
Title120 = Annotated[str, Field(min_length=1, max_length=120, pattern=_NO_NUL), AfterValidator(_storable)]
Text2000 = Annotated[str, Field(max_length=2000, pattern=_NO_NUL), AfterValidator(_storable)]
Text20 = Annotated[str, Field(max_length=20, pattern=_NO_NUL), AfterValidator(_storable)]
Text20000 = Annotated[str, Field(max_length=20000, pattern=_NO_NUL), AfterValidator(_storable)]


def _sane_datetime(value: datetime) -> datetime:
    """A moment between the years 2000 and 2999. One without an offset is left without: the domain
    reads it in the service's time zone (TIME_ZONE), as the web form does (lessons.actions)."""
    try:
        in_utc = value.astimezone(UTC) if timezone.is_aware(value) else value
    except (OverflowError, ValueError):
        raise ValueError("the date is out of range") from None
    if not 2000 <= in_utc.year <= 2999:
        raise ValueError("the date must lie between the years 2000 and 2999")
    return in_utc


Moment = Annotated[datetime, AfterValidator(_sane_datetime)]


class ValidationErrorOut(Schema):
    detail: str
    errors: list[dict[str, Any]]


# --- Files ----------------------------------------------------------------------------------------


class FileOut(Schema):
    id: uuid.UUID
    kind: str
    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    created_at: datetime
    download: str = Field(description="The web route that serves the bytes (access-checked).")
    thumbnail: str | None


# --- Cards ----------------------------------------------------------------------------------------

CardKind = Literal["text", "image", "file", "link", "drawing"]
BackgroundName = Literal["", "venn", "xyw", "fishbone", "pyramid", "kwl", "pmi", "diamond"]
LibraryName = Literal["", "personal", "school"]


class Stroke(Schema):
    """One stroke of a drawing on the 1000×750 canvas (coordinates are clamped to it)."""

    c: str = Field("#000000", pattern=r"^#[0-9a-fA-F]{6}$", description="colour")
    w: int = Field(4, description="width, 1–60")
    e: bool = Field(False, description="eraser")
    p: list[tuple[int, int]] = Field(description="points [x, y]")


class Item(Schema):
    """A text box, sticky or picture on the 1000×750 card (classnote.cards.surface): the box lies
    wholly on the card; ``c`` is a text box's text colour or a sticky's paper colour, from the
    editor's lists; ``f`` a picture's file (at most 10 pictures a card)."""

    k: Literal["text", "sticky", "image"] = Field(description="kind")
    f: str | None = Field(
        None, max_length=40, description="image: the id of a picture of the card's owner (an upload, POST /files/)"
    )
    x: int = Field(ge=0, le=1000)
    y: int = Field(ge=0, le=750)
    w: int = Field(ge=40, le=1000, description="width")
    h: int = Field(ge=30, le=750, description="height")
    t: Annotated[str, Field(max_length=2000, pattern=_NO_NUL), AfterValidator(_storable)] = Field(
        "", description="text"
    )
    c: str = Field(
        "",
        pattern=r"^(#[0-9a-fA-F]{6})?$",
        description="colour: text #1d2433 #d32f2f #1f6feb #2e7d32 #ef6c00; sticky #fff59d #f8bbd0 #b3e5fc #c8e6c9",
    )

    @model_serializer(mode="wrap")
    def _stored_shape(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The stored shape: a text box or sticky has no file, a picture no text or colour."""
        data: dict[str, Any] = handler(self)
        drop = ("t", "c") if self.k == "image" else ("f",)
        return {key: value for key, value in data.items() if key not in drop}


class CardSummary(Schema):
    """The small shape events carry too (classnote.lessons.summaries.card)."""

    id: int
    kind: str
    title: str
    excerpt: str
    thumbnail: str
    url: str


class CardOut(Schema):
    id: int
    kind: str
    title: str
    text: str
    link_url: str
    strokes: list[Stroke]
    items: list[Item] = Field(description="Text boxes and stickies; on a drawing card its text is theirs.")
    background: str
    version: int
    library: str
    lesson_id: int | None
    frozen: bool
    mine: bool
    editable: bool
    file: FileOut | None
    sequence: list[CardSummary] = Field(description="The linked cards presented after this one.")
    sequence_of: int | None = Field(description="The lead card, if this card is part of a sequence.")
    created_at: datetime
    updated_at: datetime
    thumbnail: str
    url: str


class CardIn(Schema):
    kind: CardKind
    title: Text120 = ""
    text: Text20000 = ""
    link_url: Text2000 = ""
    strokes: list[Stroke] = Field(default_factory=list, max_length=5000)
    items: list[Item] = Field(default_factory=list, max_length=50)
    background: BackgroundName = ""
    lesson_id: Id | None = None
    library: LibraryName = ""
    file_id: uuid.UUID | None = Field(None, description="An uploaded file (POST /api/files) for image and file cards.")


class CardFields(Schema):
    """The fields an autosave changes; a field left out (or null) stays as it is."""

    title: Text120 | None = None
    text: Text20000 | None = None
    link_url: Text2000 | None = None
    strokes: list[Stroke] | None = Field(None, max_length=5000)
    items: list[Item] | None = Field(
        None, max_length=50, description="On a drawing card, the text is that of the items: send them, not text."
    )
    background: BackgroundName | None = None


class AutosaveIn(Schema):
    version: Id = Field(description="The version the edit was made on.")
    fields: CardFields


class AutosaveOut(Schema):
    version: int
    saved_at: datetime


class CurrentFields(Schema):
    title: str
    text: str
    link_url: str
    strokes: list[Stroke]
    items: list[Item]
    background: str


class ConflictOut(Schema):
    """The card changed elsewhere: nothing was saved; here is what it holds now."""

    detail: str
    version: int
    fields: CurrentFields


class SequenceIn(Schema):
    card_ids: list[Id] = Field(max_length=500, description="Your cards, in the order to present them.")


class LibraryIn(Schema):
    library: Literal["personal", "school"]


class MaterialsOut(Schema):
    personal: list[CardSummary]
    school: list[CardSummary]


# --- Lessons --------------------------------------------------------------------------------------


class LessonOut(Schema):
    id: int
    title: str
    class_id: int
    class_name: str
    created_at: datetime
    closed_at: datetime | None
    peer_sending: bool
    screen_locked: bool = Field(
        description="Whether the teacher has locked the pupils' screens now (submitting and sending are refused)."
    )
    teaching: bool = Field(description="Whether you teach this lesson.")


class BoxOut(Schema):
    id: int
    lesson_id: int
    title: str
    is_open: bool
    sharing: bool
    anonymous: bool
    deadline: datetime | None


class StudentOut(Schema):
    id: int
    display_name: str
    student_number: str = Field(description="Shown to teachers only (empty for students).")


class GroupOut(Schema):
    id: int
    name: str
    member_ids: list[int]


class LessonDetail(LessonOut):
    boxes: list[BoxOut]
    students: list[StudentOut] = Field(
        description="Teachers: the class. Students: their classmates while peer sending is allowed."
    )
    groups: list[GroupOut] = Field(description="Teachers only.")


class OpenLessonIn(Schema):
    title: Title120


class SendIn(Schema):
    card_ids: Annotated[list[Id], Field(min_length=1, max_length=200)]
    to: Literal["class", "group", "students"] = "class"
    student_ids: Ids = Field(default_factory=list)
    group_id: Id | None = None


class PeerSendIn(Schema):
    card_id: Id
    student_ids: Annotated[list[Id], Field(min_length=1, max_length=2000)]


class SendOut(Schema):
    recipients: int
    copies: int


class PeerSendingIn(Schema):
    allowed: bool


class ScreenLockIn(Schema):
    locked: bool = Field(description="Lock (true) or unlock (false) the screens of the lesson's pupils.")


class GroupIn(Schema):
    name: Name80
    student_ids: Ids = Field(default_factory=list)


class BoxIn(Schema):
    title: Title120
    deadline: Moment | None = None


class SharingIn(Schema):
    sharing: bool
    anonymous: bool = False


class SubmitIn(Schema):
    card_id: Id


class SubmissionOut(Schema):
    id: int
    box_id: int
    lesson_id: int
    number: int
    is_current: bool
    late: bool
    student_id: int
    student: str
    card: CardSummary
    submitted_at: datetime
    returned_at: datetime | None
    return_comment: str
    return_mark: str


class RosterEntryOut(Schema):
    student_id: int
    display_name: str
    state: Literal["submitted", "drafting", "not_opened"]
    late: bool
    edited: bool
    submission_id: int | None


class SharedAnswerOut(Schema):
    """A classmate's current answer (classnote.lessons.summaries.submission): without student
    id and name when the teacher shares anonymously."""

    id: int
    number: int
    late: bool
    student_id: int | None
    student: str | None
    card: CardSummary
    submitted_at: datetime


class ReturnIn(Schema):
    comment: Text2000 = ""
    mark: Text20 = Field("", description="Optional: ◎, ○ or △ (lessons.Submission.Mark); anything else is refused.")


class PortfolioEntry(Schema):
    submission_id: int
    submitted_at: datetime
    late: bool
    school_year: int
    class_name: str
    lesson_id: int
    lesson_title: str
    task: str
    card: CardSummary
    returned_at: datetime | None
    teacher_comment: str
    teacher_mark: str


# --- Tokens ---------------------------------------------------------------------------------------


class TokenIn(Schema):
    name: Name80
    expires_in_days: int | None = Field(90, ge=1, le=366, description="null: the token does not expire.")


class TokenOut(Schema):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown this once: only its hash is stored.")


class CsrfOut(Schema):
    csrf_token: str = Field(description="Send it as the X-CSRFToken header with session authentication.")
