"""The appointment tables in the office database (their own schema version: store.migrate_component).

    bookings         one row per booking: field, slot, status, how it was made, the person as a keyed
                     hash (holder) and last 4 digits; the phone for SMS only if asked, until the day ends
    booking_sources  the one-stop software's tokens, as SHA-256 (queue_server/dossiers/sources.py)
    phone_takes      numbers taken from a phone today, by keyed hash (the per-phone limit counts them)
    ticket_contacts  where to send a ticket's SMS (checked-in bookings and phone numbers that asked)
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from queue_server.store import migrate_component, open_connection

COMPONENT = "appointments"
SOURCES_TABLE = "booking_sources"  # queue_server/dossiers/sources.py keeps them, with table=SOURCES_TABLE

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE bookings (
            code TEXT PRIMARY KEY, service TEXT NOT NULL, day TEXT NOT NULL, slot_at TEXT NOT NULL,
            slot_minutes INTEGER NOT NULL, status TEXT NOT NULL, channel TEXT NOT NULL, source TEXT,
            holder TEXT, holder_kind TEXT NOT NULL, contact_last4 TEXT, notify_phone TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, checked_in_at TEXT, ticket TEXT, late INTEGER)""",
        "CREATE INDEX bookings_slot ON bookings (service, slot_at, status)",
        "CREATE INDEX bookings_day ON bookings (day, status)",
        "CREATE INDEX bookings_holder ON bookings (holder, day)",
        """CREATE TABLE booking_sources (
            name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
            revoked_at TEXT, last_used_at TEXT)""",
        """CREATE TABLE phone_takes (
            business_day TEXT NOT NULL, holder TEXT, ticket_id TEXT NOT NULL PRIMARY KEY, created_at TEXT NOT NULL)""",
        "CREATE INDEX phone_takes_holder ON phone_takes (business_day, holder)",
        """CREATE TABLE ticket_contacts (
            ticket_id TEXT PRIMARY KEY, business_day TEXT NOT NULL, phone TEXT NOT NULL,
            near_sent_at TEXT, called_sent_at TEXT)""",
    ],
]


def open_db(path: str | Path) -> sqlite_utils.Database:
    """A connection to the office database, for tables already migrated (one per HTTP request)."""
    return sqlite_utils.Database(open_connection(path))


def connect(path: str | Path) -> sqlite_utils.Database:
    """A connection with the appointment tables brought up to date (at start; not for every request)."""
    db = open_db(path)
    migrate(db)
    return db


def migrate(db: sqlite_utils.Database) -> None:
    migrate_component(db, COMPONENT, MIGRATIONS)
