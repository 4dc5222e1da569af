"""Daily roll-ups of the visit and vote rows, so a year's report reads thousands of rows, not 120,000.

When a business day is over (the log's next BusinessDayStarted), its visits are final; the projector
then rolls the day up per (field, counter, official): counts, sums, and the day's waits as a sorted
array of doubles (a BLOB), so percentiles stay exact. Days not yet rolled up (today) are rolled up
on the fly from their visit rows by the same function, so a report never mixes two definitions.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from queue_server.reports.periods import iso_week

MIGRATIONS: list[str] = [
    """CREATE TABLE report_daily (
        business_day TEXT NOT NULL, service TEXT NOT NULL, counter TEXT NOT NULL, staff TEXT NOT NULL,
        issued INTEGER NOT NULL, visits INTEGER NOT NULL, served INTEGER NOT NULL, no_shows INTEGER NOT NULL,
        waiting INTEGER NOT NULL, transferred INTEGER NOT NULL, services_timed INTEGER NOT NULL, service_sum REAL NOT NULL,
        waits BLOB NOT NULL, PRIMARY KEY (business_day, service, counter, staff)) WITHOUT ROWID""",
    """CREATE TABLE report_daily_votes (
        business_day TEXT NOT NULL, service TEXT NOT NULL, counter TEXT NOT NULL, staff TEXT NOT NULL,
        very_satisfied INTEGER NOT NULL, satisfied INTEGER NOT NULL, unsatisfied INTEGER NOT NULL,
        PRIMARY KEY (business_day, service, counter, staff)) WITHOUT ROWID""",
    """CREATE TABLE report_daily_reasons (
        business_day TEXT NOT NULL, reason TEXT NOT NULL, level TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (business_day, reason, level)) WITHOUT ROWID""",
    """CREATE TABLE report_daily_hours (
        business_day TEXT NOT NULL, hour INTEGER NOT NULL, arrivals INTEGER NOT NULL, called INTEGER NOT NULL, wait_sum REAL NOT NULL,
        PRIMARY KEY (business_day, hour)) WITHOUT ROWID""",
    "CREATE TABLE report_days (business_day TEXT PRIMARY KEY)",
]
ROLLUP_TABLES = ("report_daily", "report_daily_votes", "report_daily_reasons", "report_daily_hours", "report_days")
NONE = ""  # counter/official of visits never called (stored as '' so they can be part of a primary key)


@dataclass
class DayRow:
    """One day's figures of one (field, counter, official)."""

    business_day: str
    service: str
    counter: str
    staff: str
    issued: int = 0
    visits: int = 0
    served: int = 0
    no_shows: int = 0
    waiting: int = 0
    transferred: int = 0
    services_timed: int = 0
    service_sum: float = 0.0
    waits: array = field(default_factory=lambda: array("d"))

    @property
    def week(self) -> str:
        return iso_week(self.business_day)


@dataclass
class DayVotes:
    business_day: str
    service: str
    counter: str
    staff: str
    very_satisfied: int = 0
    satisfied: int = 0
    unsatisfied: int = 0


@dataclass
class Day:
    """Everything of one business day a report needs."""

    rows: list[DayRow]
    votes: list[DayVotes]
    reasons: list[tuple[str, str, str, int]]  # (day, reason, level, n)
    hours: list[tuple[str, int, int, int, float]]  # (day, hour, arrivals, called, wait_sum)


def compute_day(db: Any, day: str) -> Day:
    """Roll one day up from its visit and vote rows (the one definition of the daily figures)."""
    rows: dict[tuple[str, str, str], DayRow] = {}
    hours: dict[int, list[Any]] = {}
    for service, counter, staff, joined_by, outcome, last, wait, service_s, hour in db.execute(
        "SELECT service, counter, staff, joined_by, outcome, last, wait_seconds, service_seconds, hour FROM report_visits "
        "WHERE business_day = ?", [day],
    ):
        key = (service, counter or NONE, staff or NONE)
        r = rows.get(key)
        if r is None:
            r = rows[key] = DayRow(day, *key)
        r.visits += 1
        issued = joined_by == "issued"
        r.issued += issued
        r.served += outcome == "served"
        r.no_shows += outcome == "no_show" and last == 1
        r.waiting += outcome == "waiting"
        r.transferred += outcome == "transferred"
        if service_s is not None:
            r.services_timed += 1
            r.service_sum += service_s
        h = hours.setdefault(hour, [0, 0, 0.0])
        h[0] += issued
        if wait is not None:
            r.waits.append(wait)
            h[1] += 1
            h[2] += wait
    for r in rows.values():
        r.waits = array("d", sorted(r.waits))
    votes: dict[tuple[str, str, str], DayVotes] = {}
    for service, counter, staff, level, n in db.execute(
        "SELECT service, counter, staff, level, COUNT(*) FROM report_votes WHERE business_day = ? GROUP BY 1, 2, 3, 4", [day],
    ):
        key = (service or NONE, counter or NONE, staff or NONE)
        v = votes.get(key)
        if v is None:
            v = votes[key] = DayVotes(day, *key)
        setattr(v, level, getattr(v, level, 0) + n)
    reasons = [(day, reason, level, n) for reason, level, n in db.execute(
        "SELECT reason, level, COUNT(*) FROM report_vote_reasons WHERE business_day = ? GROUP BY 1, 2", [day])]
    return Day(list(rows.values()), list(votes.values()), reasons,
               [(day, h, a, n, w) for h, (a, n, w) in sorted(hours.items())])


def store_day(db: Any, day: str) -> None:
    """Roll a finished day up into the report_daily tables (the caller holds the transaction)."""
    computed = compute_day(db, day)
    for table in ROLLUP_TABLES:
        db.execute(f"DELETE FROM {table} WHERE business_day = ?", [day])
    db.conn.executemany(
        "INSERT INTO report_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(r.business_day, r.service, r.counter, r.staff, r.issued, r.visits, r.served, r.no_shows, r.waiting, r.transferred,
          r.services_timed, r.service_sum, r.waits.tobytes()) for r in computed.rows],
    )
    db.conn.executemany(
        "INSERT INTO report_daily_votes VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(v.business_day, v.service, v.counter, v.staff, v.very_satisfied, v.satisfied, v.unsatisfied) for v in computed.votes],
    )
    db.conn.executemany("INSERT INTO report_daily_reasons VALUES (?, ?, ?, ?)", computed.reasons)
    db.conn.executemany("INSERT INTO report_daily_hours VALUES (?, ?, ?, ?, ?)", computed.hours)
    db.execute("INSERT INTO report_days (business_day) VALUES (?)", [day])


def open_days(db: Any, start: str, end: str) -> list[str]:
    """Days in the range with visits but no roll-up yet (today, or a day whose log has not moved on)."""
    closed = db.execute("SELECT MAX(business_day) FROM report_days").fetchone()[0] or ""
    lower = max(start, closed + "\x00") if closed else start
    found = []
    day = lower
    while True:  # skip from one day to the next through the index: a handful of days at most
        row = db.execute("SELECT MIN(business_day) FROM report_visits WHERE business_day >= ? AND business_day <= ?", [day, end]).fetchone()
        if row[0] is None:
            return found
        found.append(row[0])
        day = row[0] + "\x00"


def days_in_range(db: Any, start: str, end: str) -> Day:
    """The rolled-up days of a range plus the open ones computed now, as one Day of many rows."""
    rows = [
        DayRow(d, s, c, o, *counts, waits=_waits(blob))
        for d, s, c, o, *counts, blob in db.execute(
            "SELECT business_day, service, counter, staff, issued, visits, served, no_shows, waiting, transferred, services_timed, "
            "service_sum, waits FROM report_daily WHERE business_day BETWEEN ? AND ?", [start, end])
    ]
    votes = [DayVotes(*r) for r in db.execute("SELECT * FROM report_daily_votes WHERE business_day BETWEEN ? AND ?", [start, end])]
    reasons = list(db.execute("SELECT * FROM report_daily_reasons WHERE business_day BETWEEN ? AND ?", [start, end]))
    hours = list(db.execute("SELECT * FROM report_daily_hours WHERE business_day BETWEEN ? AND ?", [start, end]))
    for day in open_days(db, start, end):
        live = compute_day(db, day)
        rows += live.rows
        votes += live.votes
        reasons += live.reasons
        hours += live.hours
    return Day(rows, votes, reasons, hours)


def _waits(blob: bytes) -> array:
    out = array("d")
    out.frombytes(blob)
    return out


def merged_waits(rows: Iterable[DayRow]) -> list[float]:
    waits = array("d")
    for r in rows:
        waits.extend(r.waits)
    return sorted(waits)
