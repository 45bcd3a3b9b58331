"""Ids typed into form fields and query strings: ASCII digits only, within what the database holds.

``str.isdigit`` is not enough: it is true for "²" and other digits ``int()`` refuses, and a
5,000-digit string passes it but not ``int()``; a 30-digit id converts but overflows SQLite's
64-bit integers in the query. Each of those was a server error (tests/fuzz/test_request_parsers.py).
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_ID = 2**63 - 1  # the largest primary key SQLite and PostgreSQL (bigint) store


def parse_id(value: object) -> int | None:
    """The id VALUE names, or None when it names none."""
    text = str(value)
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def parse_ids(values: Iterable[object], limit: int = 2000) -> list[int]:
    """The ids among VALUES (others dropped), at most LIMIT of them."""
    return [number for number in (parse_id(value) for value in values) if number is not None][:limit]
