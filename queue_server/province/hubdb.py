"""The hub's PostgreSQL: events keyed by (office, seq), tickets, public dossiers, daily aggregates.

Everything here is idempotent and safe with several hub processes at once:
- an event is inserted once (primary key (office, seq)); a repeat changes nothing;
- tickets are merged only from the events a transaction really inserted, with
  order-free merges (earliest call, latest finish), so redelivery in any order gives the
  same row;
- an office's row is locked while its position moves, so two hubs never race on it;
- aggregates are recomputed from the tickets for each (office, day) marked dirty; the
  mark is an upsert that waits for an aggregator holding it, so no change is missed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

SCHEMA_LOCK = 0x6D6F7463  # advisory lock id: two hubs starting together migrate one after the other

MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE offices (
            office TEXT PRIMARY KEY, name TEXT, position BIGINT NOT NULL DEFAULT 0, max_seq BIGINT NOT NULL DEFAULT 0,
            dossier_position BIGINT NOT NULL DEFAULT 0, local_seq BIGINT, last_seen TIMESTAMPTZ, online BOOLEAN,
            rejected BIGINT NOT NULL DEFAULT 0, conflicts BIGINT NOT NULL DEFAULT 0)""",
        """CREATE TABLE events (
            office TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, at TIMESTAMPTZ NOT NULL,
            business_day DATE, device TEXT, data JSONB NOT NULL, received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (office, seq))""",
        """CREATE TABLE tickets (
            office TEXT NOT NULL, ticket_id TEXT NOT NULL, business_day DATE, service TEXT, issued_at TIMESTAMPTZ,
            first_called_at TIMESTAMPTZ, called_by TEXT, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
            finished_by TEXT, vote_level TEXT, PRIMARY KEY (office, ticket_id))""",
        "CREATE INDEX tickets_day ON tickets (office, business_day)",
        """CREATE TABLE dossiers (
            office TEXT NOT NULL, code TEXT NOT NULL, change BIGINT NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
            status TEXT NOT NULL, status_at TIMESTAMPTZ NOT NULL, procedure_code TEXT, procedure_name TEXT,
            received_at TIMESTAMPTZ NOT NULL, due_at TEXT, applicant TEXT, return_counter TEXT, return_counter_name TEXT,
            return_service TEXT, source_late BOOLEAN, finished_at TIMESTAMPTZ, late BOOLEAN, finished_day DATE,
            PRIMARY KEY (office, code))""",
        "CREATE INDEX dossiers_code ON dossiers (code)",
        "CREATE INDEX dossiers_finished ON dossiers (office, finished_day)",
        """CREATE TABLE daily_stats (
            office TEXT NOT NULL, day DATE NOT NULL, service TEXT NOT NULL, staff TEXT NOT NULL,
            issued INTEGER NOT NULL, called INTEGER NOT NULL, served INTEGER NOT NULL, waited INTEGER NOT NULL,
            wait_seconds DOUBLE PRECISION NOT NULL, within_target INTEGER NOT NULL, votes INTEGER NOT NULL,
            satisfied INTEGER NOT NULL, dossiers_on_time INTEGER NOT NULL, dossiers_late INTEGER NOT NULL,
            PRIMARY KEY (office, day, service, staff))""",
        "CREATE TABLE dirty_days (office TEXT NOT NULL, day DATE NOT NULL, version BIGINT NOT NULL DEFAULT 1, PRIMARY KEY (office, day))",
    ],
]

TICKET_EVENTS = ("TicketIssued", "TicketCalled", "ServiceStarted", "TicketFinished", "VoteSubmitted")
SATISFIED = ("very_satisfied", "satisfied")

_INSERT_EVENTS = """
WITH incoming AS (
    SELECT * FROM jsonb_to_recordset(%(events)s::jsonb)
        AS x(office TEXT, seq BIGINT, id TEXT, type TEXT, at TIMESTAMPTZ, business_day DATE, device TEXT, data JSONB)
),
new AS (
    INSERT INTO events (office, seq, id, type, at, business_day, device, data)
    SELECT office, seq, id, type, at, business_day, device, data FROM incoming
    ON CONFLICT (office, seq) DO NOTHING
    RETURNING office, seq, id, type, at, business_day, data
),
merged AS (
    SELECT office, data->>'ticket_id' AS ticket_id, max(business_day) AS business_day,
        max(data->>'service') FILTER (WHERE type = 'TicketIssued') AS service,
        min(at) FILTER (WHERE type = 'TicketIssued') AS issued_at,
        min(at) FILTER (WHERE type = 'TicketCalled') AS first_called_at,
        (array_agg(data->>'staff' ORDER BY at) FILTER (WHERE type = 'TicketCalled'))[1] AS called_by,
        min(at) FILTER (WHERE type = 'ServiceStarted') AS started_at,
        max(at) FILTER (WHERE type = 'TicketFinished') AS finished_at,
        (array_agg(data->>'staff' ORDER BY at DESC) FILTER (WHERE type = 'TicketFinished'))[1] AS finished_by,
        (array_agg(data->>'level' ORDER BY at DESC) FILTER (WHERE type = 'VoteSubmitted'))[1] AS vote_level
    FROM new WHERE type = ANY(%(ticket_events)s) AND data ? 'ticket_id'
    GROUP BY office, data->>'ticket_id'
),
tickets_up AS (
    INSERT INTO tickets AS t (office, ticket_id, business_day, service, issued_at, first_called_at, called_by,
                              started_at, finished_at, finished_by, vote_level)
    SELECT office, ticket_id, business_day, service, issued_at, first_called_at, called_by, started_at,
           finished_at, finished_by, vote_level FROM merged
    ON CONFLICT (office, ticket_id) DO UPDATE SET
        business_day = COALESCE(t.business_day, excluded.business_day),
        service = COALESCE(excluded.service, t.service),
        issued_at = LEAST(t.issued_at, excluded.issued_at),
        called_by = CASE WHEN excluded.first_called_at IS NOT NULL
                          AND (t.first_called_at IS NULL OR excluded.first_called_at < t.first_called_at)
                         THEN excluded.called_by ELSE t.called_by END,
        first_called_at = LEAST(t.first_called_at, excluded.first_called_at),
        started_at = LEAST(t.started_at, excluded.started_at),
        finished_by = CASE WHEN excluded.finished_at IS NOT NULL
                            AND (t.finished_at IS NULL OR excluded.finished_at > t.finished_at)
                           THEN excluded.finished_by ELSE t.finished_by END,
        finished_at = GREATEST(t.finished_at, excluded.finished_at),
        vote_level = COALESCE(excluded.vote_level, t.vote_level)
    RETURNING 1
),
conflicts AS (
    SELECT i.office, count(*) AS n FROM incoming i JOIN events e ON e.office = i.office AND e.seq = i.seq
    WHERE e.id <> i.id GROUP BY i.office
)
SELECT 'new' AS kind, office, seq, business_day, NULL::BIGINT AS n FROM new
UNION ALL SELECT 'conflict', office, NULL, NULL, n FROM conflicts
"""

_RECOMPUTE = """
WITH keys AS (SELECT * FROM unnest(%(offices)s::text[], %(days)s::date[]) AS k(office, day)),
rows AS (
    SELECT t.office, t.business_day AS day, COALESCE(t.service, '') AS service,
        COALESCE(t.finished_by, t.called_by, '') AS staff,
        count(t.issued_at) AS issued, count(t.first_called_at) AS called, count(t.finished_at) AS served,
        count(*) FILTER (WHERE t.first_called_at IS NOT NULL AND t.issued_at IS NOT NULL) AS waited,
        COALESCE(sum(GREATEST(0, extract(epoch FROM t.first_called_at - t.issued_at)))
                 FILTER (WHERE t.issued_at IS NOT NULL), 0) AS wait_seconds,
        count(*) FILTER (WHERE t.first_called_at - t.issued_at <= %(target)s * interval '1 minute') AS within_target,
        count(t.vote_level) AS votes, count(*) FILTER (WHERE t.vote_level = ANY(%(satisfied)s)) AS satisfied,
        0 AS dossiers_on_time, 0 AS dossiers_late
    FROM tickets t JOIN keys ON t.office = keys.office AND t.business_day = keys.day
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT d.office, d.finished_day, COALESCE(d.return_service, ''), '', 0, 0, 0, 0, 0, 0, 0, 0,
        count(*) FILTER (WHERE NOT COALESCE(d.late, false)), count(*) FILTER (WHERE d.late)
    FROM dossiers d JOIN keys ON d.office = keys.office AND d.finished_day = keys.day
    GROUP BY 1, 2, 3
)
INSERT INTO daily_stats (office, day, service, staff, issued, called, served, waited, wait_seconds, within_target,
                         votes, satisfied, dossiers_on_time, dossiers_late)
SELECT office, day, service, staff, sum(issued), sum(called), sum(served), sum(waited), sum(wait_seconds),
       sum(within_target), sum(votes), sum(satisfied), sum(dossiers_on_time), sum(dossiers_late)
FROM rows
GROUP BY office, day, service, staff
"""


@dataclass
class Chunk:
    """A validated message from an office: events, dossiers, a hello or a heartbeat."""

    kind: str
    office: str
    events: list[dict[str, Any]] = field(default_factory=list)
    dossiers: list[dict[str, Any]] = field(default_factory=list)
    after: int = 0  # dossiers: the change the chunk follows
    last: int = 0  # dossiers: the last change in it
    local_seq: int | None = None
    name: str | None = None
    nonce: str | None = None
    online: bool | None = None


@dataclass
class Position:
    office: str
    seq: int
    dossiers: int
    gap: bool = False  # a chunk arrived beyond a hole: resend from seq
    nonce: str | None = None  # the hello this answers
    resync: bool = False  # a hub process (re)started: resend from seq

    def ack(self) -> dict[str, Any]:
        body: dict[str, Any] = {"seq": self.seq, "dossiers": self.dossiers}
        if self.gap:
            body["gap"] = True
        if self.resync:
            body["resync"] = True
        if self.nonce:
            body["nonce"] = self.nonce
        return body


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=False)


def migrate(conn: psycopg.Connection) -> int:
    """Bring the schema up to date (under an advisory lock); returns the version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
        conn.execute("CREATE TABLE IF NOT EXISTS hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM hub_meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise RuntimeError(f"hub schema version {version} is newer than this release ({len(MIGRATIONS)}); upgrade motcua")
        for number in range(version, len(MIGRATIONS)):
            for statement in MIGRATIONS[number]:
                if statement.startswith("CREATE TABLE hub_meta"):
                    continue
                conn.execute(statement)
            conn.execute(
                "INSERT INTO hub_meta (key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [str(number + 1)])
    return len(MIGRATIONS)


def store(conn: psycopg.Connection, chunks: list[Chunk], tz: str) -> list[Position]:
    """Store a batch of chunks in one transaction; the positions to acknowledge to each office."""
    offices = sorted({c.office for c in chunks})
    hellos = {c.office: c.nonce for c in chunks if c.kind == "hello" and c.nonce}
    with conn.transaction():
        conn.execute("INSERT INTO offices (office) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", [offices])
        rows = conn.execute(
            "SELECT office, position, max_seq, dossier_position FROM offices WHERE office = ANY(%s) ORDER BY office FOR UPDATE",
            [offices]).fetchall()
        state = {office: [position, max_seq, dossier_position] for office, position, max_seq, dossier_position in rows}
        gaps: set[str] = set()
        events = [e for c in chunks for e in c.events]
        inserted: dict[str, list[int]] = {}
        days: set[tuple[str, date]] = set()
        if events:
            result = conn.execute(_INSERT_EVENTS, {"events": json.dumps(events, ensure_ascii=False),
                                                   "ticket_events": list(TICKET_EVENTS)}).fetchall()
            for kind, office, seq, day, n in result:
                if kind == "new":
                    inserted.setdefault(office, []).append(seq)
                    if day is not None:
                        days.add((office, day))
                else:
                    conn.execute("UPDATE offices SET conflicts = conflicts + %s WHERE office = %s", [n, office])
        for office, seqs in inserted.items():
            _advance(conn, office, state[office], seqs)
        for c in chunks:
            if c.events and c.events[0]["seq"] > state[c.office][0] + 1:
                gaps.add(c.office)  # a chunk starts beyond a hole: something before it was lost on the way
        for c in chunks:
            if c.kind == "dossiers":
                if c.after > state[c.office][2]:
                    gaps.add(c.office)
                    continue
                days |= _store_dossiers(conn, c, tz)
                state[c.office][2] = max(state[c.office][2], c.last)
        _touch(conn, chunks, state)
        if days:
            conn.execute(
                "INSERT INTO dirty_days (office, day) SELECT * FROM unnest(%s::text[], %s::date[]) "
                "ON CONFLICT (office, day) DO UPDATE SET version = dirty_days.version + 1",
                [[o for o, _ in sorted(days)], [d for _, d in sorted(days)]])
    return [Position(office, state[office][0], state[office][2], gap=office in gaps, nonce=hellos.get(office))
            for office in offices]


def _advance(conn: psycopg.Connection, office: str, st: list[int], seqs: list[int]) -> None:
    """Move the office's gap-free position over what was just inserted (and what waited beyond a gap)."""
    position, max_seq = st[0], st[1]
    present = set(seqs)
    if max_seq <= position:  # nothing was waiting beyond a gap: the new rows alone decide
        while position + 1 in present:
            position += 1
    elif position + 1 in present:  # a hole filled: walk the index to the end of the run
        row = conn.execute(
            "SELECT e.seq FROM events e WHERE e.office = %(o)s AND e.seq > %(p)s AND NOT EXISTS "
            "(SELECT 1 FROM events n WHERE n.office = %(o)s AND n.seq = e.seq + 1) ORDER BY e.seq LIMIT 1",
            {"o": office, "p": position}).fetchone()
        position = row[0]
    st[0], st[1] = position, max(max_seq, max(seqs))


def _store_dossiers(conn: psycopg.Connection, c: Chunk, tz: str) -> set[tuple[str, date]]:
    rows = [{**d, "office": c.office} for d in c.dossiers]
    result = conn.execute(
        """
        WITH incoming AS (
            SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS x(
                office TEXT, code TEXT, change BIGINT, updated_at TIMESTAMPTZ, status TEXT, status_at TIMESTAMPTZ,
                procedure_code TEXT, procedure_name TEXT, received_at TIMESTAMPTZ, due_at TEXT, applicant TEXT,
                return_counter TEXT, return_counter_name TEXT, return_service TEXT, source_late BOOLEAN,
                finished_at TIMESTAMPTZ, late BOOLEAN)
        ),
        old AS (SELECT d.office, d.finished_day FROM dossiers d JOIN incoming i USING (office, code)
                WHERE d.finished_day IS NOT NULL),
        up AS (
            INSERT INTO dossiers AS d SELECT office, code, change, updated_at, status, status_at, procedure_code,
                procedure_name, received_at, due_at, applicant, return_counter, return_counter_name, return_service,
                source_late, finished_at, late, (finished_at AT TIME ZONE %(tz)s)::date FROM incoming
            ON CONFLICT (office, code) DO UPDATE SET change = excluded.change, updated_at = excluded.updated_at,
                status = excluded.status, status_at = excluded.status_at, procedure_code = excluded.procedure_code,
                procedure_name = excluded.procedure_name, received_at = excluded.received_at, due_at = excluded.due_at,
                applicant = excluded.applicant, return_counter = excluded.return_counter,
                return_counter_name = excluded.return_counter_name, return_service = excluded.return_service,
                source_late = excluded.source_late, finished_at = excluded.finished_at, late = excluded.late,
                finished_day = excluded.finished_day
            WHERE d.change < excluded.change
            RETURNING d.office, d.finished_day
        )
        SELECT office, finished_day FROM up WHERE finished_day IS NOT NULL
        UNION SELECT office, finished_day FROM old
        """, {"rows": json.dumps(rows, ensure_ascii=False), "tz": tz}).fetchall()
    return {(office, day) for office, day in result}


def _touch(conn: psycopg.Connection, chunks: list[Chunk], state: dict[str, list[int]]) -> None:
    """Position, last seen, name, the office's own last sequence (its backlog), online or not (its last will)."""
    for office, (position, max_seq, dossier_position) in state.items():
        mine = [c for c in chunks if c.office == office]
        name = next((c.name for c in reversed(mine) if c.name), None)
        online = next((c.online for c in reversed(mine) if c.online is not None), True)
        local = max((c.local_seq for c in mine if c.local_seq is not None), default=None)
        conn.execute(
            "UPDATE offices SET position = %s, max_seq = %s, dossier_position = %s, last_seen = now(), "
            "name = COALESCE(%s, name), local_seq = GREATEST(local_seq, %s), online = %s WHERE office = %s",
            [position, max_seq, dossier_position, name, local, online, office])


def positions(conn: psycopg.Connection, offices: Iterable[str] | None = None) -> list[Position]:
    """Where the hub stands for each office (all, or those named)."""
    query = "SELECT office, position, dossier_position FROM offices"
    params: list[Any] = []
    if offices is not None:
        query += " WHERE office = ANY(%s)"
        params.append(list(offices))
    rows = conn.execute(query + " ORDER BY office", params).fetchall()
    conn.commit()
    return [Position(o, s, d) for o, s, d in rows]


def aggregate_dirty(conn: psycopg.Connection, target_minutes: float, limit: int = 200) -> int:
    """Recompute the daily aggregates of up to `limit` dirty (office, day) pairs; returns how many."""
    with conn.transaction():
        keys = conn.execute(
            "SELECT office, day FROM dirty_days ORDER BY day, office LIMIT %s FOR UPDATE SKIP LOCKED", [limit]).fetchall()
        if not keys:
            return 0
        params = {"offices": [k[0] for k in keys], "days": [k[1] for k in keys], "target": target_minutes,
                  "satisfied": list(SATISFIED)}
        for table in ("daily_stats", "dirty_days"):
            conn.execute(f"DELETE FROM {table} d USING unnest(%(offices)s::text[], %(days)s::date[]) AS k(office, day) "
                         "WHERE d.office = k.office AND d.day = k.day", params)
        conn.execute(_RECOMPUTE, params)
    return len(keys)


def board(conn: psycopg.Connection, day: date) -> list[dict[str, Any]]:
    """Each office's figures for one day, with where the hub stands and the office's backlog."""
    rows = conn.execute(
        """
        SELECT o.office, o.name, o.position, o.local_seq, o.last_seen, o.online, o.rejected, o.conflicts,
            COALESCE(s.issued, 0), COALESCE(s.served, 0), COALESCE(s.waited, 0), COALESCE(s.wait_seconds, 0),
            COALESCE(s.within_target, 0), COALESCE(s.votes, 0), COALESCE(s.satisfied, 0),
            COALESCE(s.on_time, 0), COALESCE(s.late, 0)
        FROM offices o LEFT JOIN (
            SELECT office, sum(issued) AS issued, sum(served) AS served, sum(waited) AS waited,
                sum(wait_seconds) AS wait_seconds, sum(within_target) AS within_target, sum(votes) AS votes,
                sum(satisfied) AS satisfied, sum(dossiers_on_time) AS on_time, sum(dossiers_late) AS late
            FROM daily_stats WHERE day = %s GROUP BY office) s USING (office)
        ORDER BY o.office
        """, [day]).fetchall()
    conn.commit()
    keys = ("office", "name", "position", "local_seq", "last_seen", "online", "rejected", "conflicts", "issued", "served",
            "waited", "wait_seconds", "within_target", "votes", "satisfied", "dossiers_on_time", "dossiers_late")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def daily(conn: psycopg.Connection, office: str, day: date) -> list[dict[str, Any]]:
    """The aggregate rows of one office and day, per field and official."""
    cursor = conn.execute("SELECT * FROM daily_stats WHERE office = %s AND day = %s ORDER BY service, staff", [office, day])
    names = [d.name for d in cursor.description or ()]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    conn.commit()
    return rows


def find_dossiers(conn: psycopg.Connection, code: str) -> list[dict[str, Any]]:
    """Every office's public record of a dossier code (office codes may repeat across offices)."""
    cursor = conn.execute(
        "SELECT d.*, o.name AS office_name FROM dossiers d JOIN offices o USING (office) WHERE d.code = %s "
        "ORDER BY d.updated_at DESC", [code])
    names = [d.name for d in cursor.description or ()]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    conn.commit()
    return rows
