"""Time arithmetic the rules share, and how dates and amounts are said to shoppers.

Stored datetimes are naive UTC (the store and the action runtime use ``utcnow``); an
aware datetime is converted, so a mix of both never raises. Windows are closed at
their end: "within 7 days" means ``now - start <= 7 × 24 h``, so the last minute of
day 7 still counts and one minute later does not.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.settings import Settings


def to_utc(moment: datetime) -> datetime:
    """Aware UTC; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def since(then: datetime, now: datetime) -> timedelta:
    """How long ago ``then`` was (negative if it lies ahead)."""
    return to_utc(now) - to_utc(then)


def within(start: datetime, now: datetime, span: timedelta) -> bool:
    """True up to and including the last instant of the window (day 7 exactly is inside)."""
    return since(start, now) <= span


def hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 2)


def days(span: timedelta) -> float:
    return round(span.total_seconds() / 86400, 2)


def add_months(moment: datetime, months: int) -> datetime:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def response_deadline(requested_at: datetime, settings: Settings) -> datetime:
    """R7: the shop must answer a refund request by then, or the platform approves it."""
    return requested_at + timedelta(hours=settings.returns.response_deadline_hours)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(moment: datetime, settings: Settings) -> datetime:
    return to_utc(moment).astimezone(_zone(settings.shop.timezone))


def say_time(moment: datetime, settings: Settings) -> str:
    """6月1日 20:00, in the shop's time zone: how a shopper reads a scan or a deadline."""
    local = _local(moment, settings)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def say_date(moment: datetime, settings: Settings) -> str:
    """2026年6月1日: for warranty dates, which may lie in another year."""
    local = _local(moment, settings)
    return f"{local.year}年{local.month}月{local.day}日"


def yuan(amount: Decimal) -> str:
    """12 rather than 12.00; 8.5 stays 8.5 (amounts are rounded to the fen first)."""
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{cents.normalize():f}" if cents % 1 else str(int(cents))
