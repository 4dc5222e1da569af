"""Changes to staff accounts: checked and hashed where they are asked for, applied by the one writer.

Hashing a password costs tens of milliseconds, which the server's worker (it commits every
ticket) must not spend; so a change is built first (`new_account`, `edit_account`,
`new_password`: validation and hashing, in the web thread or the console), then applied with
its audit event in one transaction:

    change = accounts.new_account("nv-lan", "Nguyễn Thị Lan", "official", ["Q1"], password, config.counters)
    member = server.record(lambda db, now: change.apply(db, now, by="admin01"))      # a page
    member = accounts.apply_offline(store, config, change, by="console")              # the CLI
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from queue_server.engine.events import Event, StaffAccountChanged
from queue_server.staff.model import (
    ADMINISTRATOR,
    StaffError,
    StaffMember,
    check_password,
    clean_counters,
    clean_id,
    clean_name,
    clean_role,
)
from queue_server.staff.passwords import hash_secret
from queue_server.staff.store import StaffStore

CREATED, UPDATED, PASSWORD, DISABLED, ENABLED = "created", "updated", "password", "disabled", "enabled"


@dataclass(frozen=True)
class AccountChange:
    """One checked change to one account; `apply` writes it and returns (member, [audit event])."""

    staff: str
    create: bool = False
    name: str | None = None
    role: str | None = None
    counters: tuple[str, ...] | None = None
    active: bool | None = None
    password_hash: str | None = field(default=None, repr=False)

    def apply(self, db: Any, now: datetime, by: str, keep_session: str | None = None) -> tuple[StaffMember, list[Event]]:
        store = StaffStore(db)
        current = store.get(self.staff)
        if self.create:
            if current is not None:
                raise StaffError("exists", staff=self.staff)
            assert self.name and self.role
            member = StaffMember(self.staff, self.name, self.role, self.counters or (), True, now, now)
            changed: tuple[str, ...] = ()
            kind = CREATED
        else:
            if current is None:
                raise StaffError("unknown", staff=self.staff)
            member = replace(
                current,
                name=self.name if self.name is not None else current.name,
                role=self.role if self.role is not None else current.role,
                counters=self.counters if self.counters is not None else current.counters,
                active=self.active if self.active is not None else current.active,
                updated_at=now,
            )
            changed = tuple(f for f in ("name", "role", "counters", "active") if getattr(member, f) != getattr(current, f))
            if current.has_role(ADMINISTRATOR) and not member.has_role(ADMINISTRATOR) and store.active_administrators() <= 1:
                raise StaffError("last_administrator", staff=self.staff)
            kind = _kind(current, member, changed, self.password_hash is not None)
        store.save(member, now)
        if self.password_hash is not None:
            store.set_password_hash(member.id, self.password_hash, now)
        if self.password_hash is not None or not member.active:
            store.drop_sessions_of(member.id, keep=keep_session if member.active else None)  # an old password's sessions end
        event = StaffAccountChanged(at=now, staff=member.id, by=by, change=kind, role=member.role, counters=member.counters,
                                    active=member.active, fields=changed)
        return member, [event]


def _kind(before: StaffMember, after: StaffMember, changed: tuple[str, ...], password: bool) -> str:
    if "active" in changed:
        return ENABLED if after.active else DISABLED
    if password and not changed:
        return PASSWORD
    return UPDATED


def new_account(staff_id: str, name: str, role: str, counters: Iterable[str], password: str,
                known_counters: Iterable[str]) -> AccountChange:
    staff_id = clean_id(staff_id)
    return AccountChange(
        staff=staff_id, create=True, name=clean_name(name), role=clean_role(role),
        counters=clean_counters(counters, known_counters), password_hash=hash_secret(check_password(password, staff_id)),
    )


def edit_account(staff_id: str, known_counters: Iterable[str], *, name: str | None = None, role: str | None = None,
                 counters: Iterable[str] | None = None, active: bool | None = None, password: str | None = None) -> AccountChange:
    staff_id = clean_id(staff_id)
    return AccountChange(
        staff=staff_id,
        name=clean_name(name) if name is not None else None,
        role=clean_role(role) if role is not None else None,
        counters=clean_counters(counters, known_counters) if counters is not None else None,
        active=active,
        password_hash=hash_secret(check_password(password, staff_id)) if password is not None else None,
    )


def new_password(staff_id: str, password: str) -> AccountChange:
    staff_id = clean_id(staff_id)
    return AccountChange(staff=staff_id, password_hash=hash_secret(check_password(password, staff_id)))


def apply_offline(store: Any, config: Any, change: AccountChange, by: str, clock: Any = None) -> StaffMember:
    """Apply a change from the console (`motcua staff`), with or without a running server: the same
    Office.record path the server's worker uses, on this process's own connection."""
    from motcua.clock import SystemClock
    from queue_server.office import Office

    office = Office(config, store, clock or SystemClock())
    return office.record(lambda db, now: change.apply(db, now, by), device="console")


def ensure_officials(officials: dict[str, Iterable[str]], known_counters: Iterable[str], by: str = "console") -> Any:
    """Work for QueueServer.record / Office.record: official accounts without a password (they can sign in at
    a counter from a keypad but never log in to a page) for those ids that do not exist yet. The demo, the
    simulator and the benchmarks use it; a real office creates its accounts with passwords."""
    known = list(known_counters)
    wanted = {clean_id(staff): clean_counters(counters, known) for staff, counters in officials.items()}

    def work(db: Any, now: datetime) -> tuple[list[StaffMember], list[Event]]:
        made: list[StaffMember] = []
        events: list[Event] = []
        for staff, counters in wanted.items():
            if StaffStore(db).get(staff) is None:
                member, logged = AccountChange(staff, create=True, name=staff, role="official", counters=counters).apply(db, now, by)
                made.append(member)
                events += logged
        return made, events

    return work
