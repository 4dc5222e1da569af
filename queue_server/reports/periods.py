"""Report periods: day, week (ISO, Monday first), month, quarter, year; keys and Vietnamese labels."""

from __future__ import annotations

from datetime import date, timedelta

PERIOD_NAMES = ("day", "week", "month", "quarter", "year")
_ROMAN = ("I", "II", "III", "IV")


def iso_week(day: str) -> str:
    """'2026-W48' for a business day: ISO weeks start on Monday, as Vietnamese offices count them."""
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def period_key(day: str, period: str) -> str:
    """The key of the period a business day (ISO date) falls in; sorts in time order."""
    if period == "day":
        return day
    if period == "week":
        return iso_week(day)
    if period == "month":
        return day[:7]
    if period == "quarter":
        return f"{day[:4]}-Q{(int(day[5:7]) + 2) // 3}"
    if period == "year":
        return day[:4]
    raise ValueError(f"unknown period {period!r} (use one of {', '.join(PERIOD_NAMES)})")


def label(key: str, period: str, lang: str = "vi") -> str:
    """'Tháng 11/2026', 'Quý IV/2026', 'Tuần 48/2026 (23/11-29/11)'... for a period key."""
    vi = lang == "vi"
    if period == "day":
        return date.fromisoformat(key).strftime("%d/%m/%Y")
    if period == "week":
        year, week = int(key[:4]), int(key[6:])
        monday = date.fromisocalendar(year, week, 1)
        sunday = monday + timedelta(days=6)
        return f"{'Tuần' if vi else 'Week'} {week}/{year} ({monday:%d/%m}-{sunday:%d/%m})"
    if period == "month":
        return f"{'Tháng' if vi else 'Month'} {int(key[5:7])}/{key[:4]}"
    if period == "quarter":
        return f"{'Quý' if vi else 'Q'} {_ROMAN[int(key[6]) - 1]}/{key[:4]}" if vi else f"Q{key[6]} {key[:4]}"
    if period == "year":
        return f"{'Năm' if vi else 'Year'} {key}"
    raise ValueError(f"unknown period {period!r}")


def days_in(start: date, end: date) -> int:
    return (end - start).days + 1
