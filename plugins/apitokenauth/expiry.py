"""Token expiry: calendar months and ISO 8601 date-times with an offset to UTC."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone

ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$",
    re.ASCII,
)


def add_months(ms: int, months: int) -> int:
    """``ms`` + ``months`` calendar months, same wall-clock time (UTC), the day clamped to the month's end."""
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    total = dt.month - 1 + months
    year, month = dt.year + total // 12, total % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    later = dt.replace(year=year, month=month, day=day)
    return int(later.timestamp() * 1000)


class InvalidDateTime(ValueError):
    pass


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 date-time that must carry an offset to UTC (``Z`` or ``±HH:MM``)."""
    match = ISO_RE.match(text.strip())
    if not match:
        raise InvalidDateTime("is not an ISO 8601 date-time such as 2026-10-19T10:29:00.000+02:00")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset is None:
        raise InvalidDateTime("must include the offset to UTC, e.g. 2026-10-19T10:29:00.000+02:00")
    if offset in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise InvalidDateTime("has an invalid offset to UTC")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz)
    except ValueError as exc:
        raise InvalidDateTime(f"is not a valid date-time ({exc})") from None


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def format_iso(dt: datetime) -> str:
    """``2020-10-19T10:29:00.000+02:00``: milliseconds and the date-time's own offset."""
    offset = dt.utcoffset() or timedelta(0)
    total = int(offset.total_seconds()) // 60
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total), 60)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}{sign}{hours:02d}:{minutes:02d}"


def format_ms(ms: int) -> str:
    return format_iso(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))
