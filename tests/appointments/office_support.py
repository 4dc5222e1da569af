"""The office as the worker drives it (Store + Office + AppointmentDesk on a real SQLite file), without a broker."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

from motcua import protocol as p
from motcua.clock import FakeClock
from queue_server.appointments import bookings, db
from queue_server.appointments.desk import PHONE_DEVICE, AppointmentDesk
from queue_server.appointments.holders import Holder, HolderKey
from queue_server.config import Device, OfficeConfig
from queue_server.live import LiveHub
from queue_server.office import Office
from queue_server.store import Store
from tests.staff_support import seed_officials

_ids = itertools.count(1)


class DeskOffice:
    def __init__(self, data: Path, config: OfficeConfig, clock: FakeClock, gateway: Any = None) -> None:
        self.data, self.config, self.clock, self.gateway = data, config, clock, gateway
        self.hub = LiveHub(p.Topics(config.id).base)
        self._open()
        seed_officials(self.store.db, config.counters)  # counter.sign_in names real accounts (issue 16)

    def _open(self) -> None:
        self.store = Store.in_dir(self.data, self.config.id)
        self.desk = AppointmentDesk(self.store.path, self.hub, gateway=self.gateway)
        self.office = Office(self.config, self.store, self.clock, extensions=[self.desk])
        self.desk.start(self.office)

    def restart(self) -> None:
        self.close()
        self._open()

    def close(self) -> None:
        self.desk.stop()
        self.store.close()

    def batch(self, *requests: tuple[str | Device, str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Handle requests as one batch; their replies in order."""
        messages = [(device, p.dumps({"id": f"r{next(_ids)}", "op": op, **fields})) for device, op, fields in requests]
        out = self.office.handle_batch(messages)
        replies = {o.request: o.payload for o in out if o.request is not None}
        return [replies[i] for i in range(len(messages))]

    def ask(self, device: str | Device, op: str, **fields: Any) -> dict[str, Any]:
        return self.batch((device, op, fields))[0]

    def book(self, service: str, start: datetime, holder: Holder, made_at: datetime, sms_phone: str | None = None) -> str:
        database = db.open_db(self.store.path)
        try:
            return bookings.book(database, self.config, HolderKey.beside(self.store.path), service, start, holder, made_at,
                                 sms_phone=sms_phone, holidays=frozenset()).code
        finally:
            database.close()

    def take(self, service: str, phone: str) -> dict[str, Any]:
        holder = HolderKey.beside(self.store.path).hash(Holder.of(phone=phone))  # as the page does: normalised first
        return self.ask(PHONE_DEVICE, "ticket.take_remote", service=service, holder=holder)

    def booking(self, code: str) -> bookings.Booking:
        database = db.open_db(self.store.path)
        try:
            found = bookings.find(database, code)
            assert found is not None
            return found
        finally:
            database.close()

    def error(self, reply: dict[str, Any]) -> str:
        assert not reply["ok"], reply
        return reply["error"]["code"]
