"""Company time: QBO stamps times in the company's time zone (sandboxes default to Pacific)."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

COMPANY_TZ = ZoneInfo("America/Los_Angeles")


def company_now() -> datetime:
    return datetime.now(COMPANY_TZ)


def company_today() -> date:
    return company_now().date()


def parse_instant(text: str) -> datetime | None:
    """An ISO date or date-time; without an offset it is read as company-local time (as QBO does)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=COMPANY_TZ)
    return value


class Stamper:
    """Hands out strictly increasing LastUpdatedTime stamps (millisecond resolution).

    CDC and watermark-based extraction depend on no two writes sharing a stamp, so a burst of
    writes inside one millisecond is spread over consecutive milliseconds.
    """

    def __init__(self) -> None:
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def observe(self, stamp: datetime) -> None:
        with self._lock:
            if self._last is None or stamp > self._last:
                self._last = stamp

    def next(self) -> datetime:
        with self._lock:
            now = company_now()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if self._last is not None and now <= self._last:
                now = self._last + timedelta(milliseconds=1)
            self._last = now
            return now


def format_stamp(value: datetime) -> str:
    return value.astimezone(COMPANY_TZ).isoformat(timespec="milliseconds")
