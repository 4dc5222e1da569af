"""Changing the office configuration at run time: through the engine, durable, safe for today's tickets."""

from __future__ import annotations

import copy
import json
import tomllib

import pytest

from queue_server.office import Office
from queue_server.store import Store
from tests.conftest import EXAMPLE_CONFIG
from tests.staff_support import seed_officials


@pytest.fixture
def document() -> dict:
    return tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


@pytest.fixture
def office(tmp_path, config, clock):
    store = Store(tmp_path / "office.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    yield Office(config, store, clock)
    store.close()


def ask(office: Office, device: str, rid: str, op: str, **fields) -> dict:
    out = office.handle_batch([(device, json.dumps({"id": rid, "op": op, **fields}).encode())])
    (reply,) = [o.payload for o in out if o.topic == office.topics.res(device)]
    return reply


def configure(office: Office, document: dict, rid: str = "cfg") -> tuple[dict, list]:
    out = office.handle_batch([("console", json.dumps({"id": rid, "op": "office.configure", "document": document}).encode())])
    (reply,) = [o.payload for o in out if o.topic == office.topics.res("console")]
    return reply, out


def with_counter_7(document: dict) -> dict:
    changed = copy.deepcopy(document)
    changed["counters"].append({"id": "Q7", "name": "Quầy 7", "services": ["HT", "CT"]})
    changed["devices"].append({"id": "quay-07", "role": "counter", "counter": "Q7"})
    changed["devices"].append({"id": "kiosk-03", "role": "kiosk"})
    return changed


def test_a_new_counter_and_devices_work_at_once_and_survive_a_restart(office, document, tmp_path, config, clock):
    reply, out = configure(office, with_counter_7(document))
    assert reply["ok"], reply
    published = {o.topic: o.payload for o in out}
    office_state = published[office.topics.state_office]
    assert "Q7" in [c["id"] for c in office_state["counters"]]
    assert office.topics.state_counter("Q7") in published
    assert ask(office, "kiosk-03", "k", "ticket.issue", service="HT")["ok"]
    seed_officials(office.store.db, ["Q7"], ("nv07",))  # the administrator assigns an official to the new counter
    assert ask(office, "quay-07", "in", "counter.sign_in", staff="nv07")["ok"]
    assert ask(office, "quay-07", "n", "counter.next")["ticket"]["number"] == "1001"
    # A restart with the same seed file runs on the changed configuration, and keeps --always-open.
    again = Office(config, office.store, clock)
    assert "Q7" in again.config.counters and again.config.issue_outside_hours is True
    assert again.state.counters["Q7"].current is not None
    change = [e for e in office.store.events_after(0) if e.type == "OfficeReconfigured"]
    assert len(change) == 1 and change[0].data["by"] == "console"


def test_removing_a_counter_clears_its_retained_state(office, document):
    assert configure(office, with_counter_7(document), "add")[0]["ok"]
    reply, out = configure(office, document, "remove")
    assert reply["ok"]
    cleared = [o for o in out if o.topic == office.topics.state_counter("Q7")]
    assert cleared and cleared[0].payload == "" and cleared[0].retain
    assert ask(office, "quay-07", "x", "counter.next")["error"]["code"] == "unknown_device"


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda d: d["office"].update(id="another"), "invalid_config", "office.id"),
        (lambda d: d["office"].update(timezone="Asia/Bangkok"), "invalid_config", "office.timezone"),
        (lambda d: d["services"][0].pop("name"), "invalid_config", "services[0].name"),
        (lambda d: d["counters"].append({"id": "Q9", "name": "Quầy 9", "services": ["NOPE"]}), "invalid_config", "NOPE"),
    ],
)
def test_an_invalid_or_unsafe_document_is_refused_naming_the_key(office, document, change, code, words):
    changed = copy.deepcopy(document)
    change(changed)
    reply, _ = configure(office, changed)
    assert reply["error"]["code"] == code and words in reply["error"]["message"]
    assert office.config.id == document["office"]["id"] and "Q9" not in office.config.counters


def test_what_today_uses_cannot_be_removed_or_renumbered(office, document):
    assert ask(office, "kiosk-01", "t", "ticket.issue", service="XD")["ok"]
    no_xd = copy.deepcopy(document)
    no_xd["services"] = [s for s in no_xd["services"] if s["code"] != "XD"]
    for counter in no_xd["counters"]:
        counter["services"] = [s for s in counter["services"] if s != "XD"]
    assert configure(office, no_xd, "a")[0]["error"]["code"] == "config_in_use"
    renumbered = copy.deepcopy(document)
    next(s for s in renumbered["services"] if s["code"] == "XD")["numbers"] = "7001-7999"
    assert configure(office, renumbered, "b")[0]["error"]["code"] == "config_in_use"
    assert ask(office, "quay-01", "in", "counter.sign_in", staff="nv01")["ok"]
    no_q1 = copy.deepcopy(document)
    no_q1["counters"] = [c for c in no_q1["counters"] if c["id"] != "Q1"]
    no_q1["devices"] = [d for d in no_q1["devices"] if d.get("counter") != "Q1"]
    assert configure(office, no_q1, "c")[0]["error"]["code"] == "config_in_use"
    # Even served, today's XD ticket keeps its field until the day reset (screens and votes name it).
    assert ask(office, "quay-04", "in4", "counter.sign_in", staff="nv04")["ok"]
    assert ask(office, "quay-04", "n4", "counter.next")["ticket"]["number"] == "3001"
    assert ask(office, "quay-04", "f4", "counter.finish")["ok"]
    assert configure(office, no_xd, "d")[0]["error"]["code"] == "config_in_use"
    # A field that issued nothing today may be renumbered.
    fresh = copy.deepcopy(document)
    next(s for s in fresh["services"] if s["code"] == "KD")["numbers"] = "8001-8999"
    assert configure(office, fresh, "e")[0]["ok"]
    assert ask(office, "kiosk-01", "kd", "ticket.issue", service="KD")["ticket"]["number"] == "8001"


def test_hours_change_reaches_the_office_state_and_refusals(office, document, config, tmp_path, clock):
    store = Store(tmp_path / "closed.db", config.id)
    seed_officials(store.db, config.counters)  # counter.sign_in names real accounts (issue 16)
    strict = Office(config.with_overrides(issue_outside_hours=False), store, clock)
    changed = copy.deepcopy(document)
    changed["hours"] = {"sun": "01:00-02:00"}
    reply, out = configure(strict, changed)
    assert reply["ok"]
    assert "Chủ Nhật" in next(o.payload for o in out if o.topic == strict.topics.state_office)["hours"]
    assert ask(strict, "kiosk-01", "t", "ticket.issue", service="HT")["error"]["code"] == "office_closed"
    store.close()


def test_config_import_and_export_from_the_command_line(start_server, document, tmp_path):
    import tomli_w

    from tests.conftest import run_cli

    server = start_server()
    changed = tmp_path / "office-new.toml"
    changed.write_text(tomli_w.dumps(with_counter_7(document)), encoding="utf-8")
    url = f"mqtt://127.0.0.1:{server.broker_url.port}"
    imported = run_cli("config", "import", str(changed), "--broker", url)
    assert imported.returncode == 0, imported.stderr
    assert "Q7" in server.config.counters  # the running server, not a restart
    exported = run_cli("config", "export", "--data", str(server.options.data_dir))
    assert exported.returncode == 0, exported.stderr
    assert tomllib.loads(exported.stdout) == with_counter_7(document)
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps({**document, "counters": []}), encoding="utf-8")
    refused = run_cli("config", "import", str(bad), "--broker", url)
    assert refused.returncode == 1 and "counters" in refused.stderr
