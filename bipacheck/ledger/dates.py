"""Dates: ISO 8601 with a time zone, stored as UTC text.

Rule: a value with a time zone is converted to UTC; a bare date such as `2024-05-01` means
00:00 UTC that day; a date-time without a zone is rejected, because guessing the zone of a
legal deadline is how deadlines get missed.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from .errors import InvalidValue

UTC = timezone.utc

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?!$)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_datetime(value: object, field: str = "date") -> datetime | None:
    """An aware UTC datetime from text, date or datetime; None for None or empty text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidValue(f"{field}: {value.isoformat()} has no time zone (add Z or +HH:MM)")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise InvalidValue(f"{field}: expected an ISO 8601 date, got {value!r}")
    text = value.strip()
    if "T" not in text.upper() and " " not in text and ":" not in text:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidValue(f"{field}: {text!r} is not an ISO 8601 date") from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{field}: {text!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise InvalidValue(
            f"{field}: {text!r} has no time zone; write it as {text}Z (UTC) or with an offset "
            "such as -05:00 (a bare date like 2024-05-01 means 00:00 UTC)"
        )
    return parsed.astimezone(UTC)


def format_datetime(value: datetime | None) -> str | None:
    """The stored form: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def normalize_datetime(value: object, field: str = "date") -> str | None:
    return format_datetime(parse_datetime(value, field))


def from_stored(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration; years and months are calendar units, the rest exact."""

    years: int = 0
    months: int = 0
    rest: timedelta = timedelta(0)

    def after(self, start: datetime) -> datetime:
        return add_months(start, self.years * 12 + self.months) + self.rest


def parse_duration(value: str, field: str = "term") -> Duration:
    match = _DURATION.match(value.strip().upper())
    if not match:
        raise InvalidValue(f"{field}: {value!r} is not an ISO 8601 duration such as P3Y or P18M")
    n = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    duration = Duration(
        n["years"],
        n["months"],
        timedelta(weeks=n["weeks"], days=n["days"], hours=n["hours"],
                  minutes=n["minutes"], seconds=n["seconds"]),
    )
    if duration == Duration():
        raise InvalidValue(f"{field}: {value!r} is a zero-length term")
    return duration


def add_months(start: datetime, months: int) -> datetime:
    """Calendar arithmetic; a day missing in the target month clamps to its last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def add_years(start: datetime, years: int) -> datetime:
    return add_months(start, 12 * years)
