"""The admin pages act through the engine for a signed-in person: an administrator closes a colleague's
counter at the end of the day, which a counter page acting for someone else may not."""

from __future__ import annotations

import json

from queue_server.config import Device
from queue_server.office import Office
from queue_server.store import Store
from tests.staff_support import seed_officials


def ask(office: Office, device: Device | str, op: str, **fields) -> dict:
    rid = f"{op}-{fields.get('counter', '')}"
    out = office.handle_batch([(device, json.dumps({"id": rid, "op": op, **fields}).encode())])
    return next(o.payload for o in out if o.request == 0)


def test_an_administrator_closes_a_counter_a_colleague_holds_and_a_stale_counter_page_cannot(tmp_path, config, clock):
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters, ("nv01", "nv02"))
    office = Office(config, store, clock)
    assert ask(office, "quay-01", "counter.sign_in", staff="nv01")["ok"]
    old_tab = Device(id="web-Q1", role="counter", counter="Q1", staff="nv02")
    assert ask(office, old_tab, "counter.close")["error"]["code"] == "counter_taken"
    admin_page = Device(id="web-admin", role="admin", staff="quantri")
    closed = ask(office, admin_page, "counter.close", counter="Q1")
    assert closed["ok"] and office.state.counters["Q1"].open is False
    (event,) = [e for e in store.events_after(0, 1000) if e.type == "CounterClosed"]
    assert event.device == "web-admin"
    store.close()
