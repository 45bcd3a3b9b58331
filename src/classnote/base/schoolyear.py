"""The school year: in Japan from April 1 to March 31. The one place that says when a year starts.

A school year is named by the calendar year it starts in (the 2026 school year runs from
2026-04-01 to 2027-03-31), as ``SchoolClass.school_year`` names it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

# The month the school year starts in (April in Japan). One constant, not a setting: every school
# of the service follows the same calendar today; make it per school here if that ever changes.
START_MONTH = 4

# The years a request may name (a bad ?year= is refused, never turned into a 500).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def school_year_of(day: date | datetime) -> int:
    """The school year a day belongs to. An aware datetime is read in the server's time zone
    (TIME_ZONE), so 2027-03-31 23:30 Tokyo time is still in the 2026 school year."""
    if isinstance(day, datetime):
        day = timezone.localdate(day) if timezone.is_aware(day) else day.date()
    return day.year if day.month >= START_MONTH else day.year - 1


def current_school_year() -> int:
    return school_year_of(timezone.localdate())


def bounds(year: int) -> tuple[datetime, datetime]:
    """The first moment of the school year and the first moment of the next, aware, in the
    server's time zone: ``start <= t < end`` holds exactly for the datetimes of the year."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(date(year, START_MONTH, 1), time.min, tzinfo=zone)
    end = datetime.combine(date(year + 1, START_MONTH, 1), time.min, tzinfo=zone)
    return start, end


def first_day(year: int) -> date:
    return date(year, START_MONTH, 1)


def last_day(year: int) -> date:
    return date(year + 1, START_MONTH, 1) - timedelta(days=1)
