from __future__ import annotations

from ninja import Schema


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
