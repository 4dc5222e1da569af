"""The office checks who signs in at a counter, records who changed the configuration, and keeps the
audit trail in the one event log whoever writes it (the worker, or `motcua staff` on the console)."""

from __future__ import annotations

import pytest
import sqlite_utils

from motcua.client import DeviceClient
from queue_server.config import Device
from queue_server.engine import events as e
from queue_server.staff import accounts
from queue_server.staff.store import StaffStore
from queue_server.store import open_connection
from tests.conftest import EXAMPLE_CONFIG, run_cli
from tests.staff_support import PASSWORD, add_staff


def sign_in(server, staff: str, counter: str = "Q1", device: str = "console") -> dict:
    with DeviceClient(server.broker_url, server.config.id, device) as client:
        return client.request("counter.sign_in", counter=counter, staff=staff)


def test_counter_sign_in_names_an_account_allowed_at_the_counter(start_server):
    server = start_server(officials=False)
    add_staff(server, "lan-nt", counters=("Q1",))
    refused = sign_in(server, "ai-do")
    assert refused["error"]["code"] == "unknown_staff"
    assert "Không có tài khoản cán bộ \"ai-do\"" in refused["error"]["message"]
    not_here = sign_in(server, "lan-nt", counter="Q3")
    assert not_here["error"]["code"] == "staff_not_allowed" and "Quầy 3" in not_here["error"]["message"]
    assert sign_in(server, "LAN-NT ")["ok"]  # ids are lowercase; a keypad or a console may type capitals
    signed = [ev for ev in server.store.events_after(0) if ev.type == "CounterSignedIn"]
    assert [ev.data["staff"] for ev in signed] == ["lan-nt"]
    change = accounts.edit_account("lan-nt", server.config.counters, active=False)
    server.record(lambda db, now: change.apply(db, now, by="qt-an"))
    assert sign_in(server, "lan-nt", counter="Q1")["error"]["code"] == "unknown_staff"  # a disabled account signs in nowhere


def test_a_page_signs_in_only_its_own_person(start_server):
    server = start_server(officials=False)
    add_staff(server, "lan-nt", counters=("Q1",))
    add_staff(server, "binh-tv", counters=("Q1",))
    page = Device(id="web-Q1", role="counter", counter="Q1", staff="lan-nt")
    assert server.request(page, "counter.sign_in", staff="binh-tv")["error"]["code"] == "not_authorized"
    assert server.request(page, "counter.sign_in", staff="lan-nt")["ok"]


def test_a_configuration_change_from_a_page_records_the_person(start_server):
    server = start_server()
    document = dict(server.config.source, office={**server.config.source["office"], "name": "Trung tâm Phục vụ hành chính công xã Hòa Bình"})
    admin_page = Device(id="web-admin", role="admin", staff="qt-an")
    assert server.request(admin_page, "office.configure", document=document)["ok"]
    change = [ev for ev in server.store.events_after(0) if ev.type == "OfficeReconfigured"][-1]
    assert (change.data["by"], change.device) == ("qt-an", "web-admin")
    assert server.config.name.endswith("Hòa Bình")


def test_record_takes_audit_events_only_and_leaves_nothing_when_refused(start_server):
    server = start_server()

    def sneaky(db, now):
        db.execute("UPDATE staff SET name = 'x'")  # written in the same transaction: rolled back with it
        return None, [e.NoticeChanged(at=now, text="không qua engine")]

    add_staff(server, "lan-nt", name="Nguyễn Thị Lan")
    with pytest.raises(TypeError):
        server.record(sneaky)
    assert not [ev for ev in server.store.events_after(0) if ev.type == "NoticeChanged"]
    assert server.office.state.notice is None
    reader = sqlite_utils.Database(open_connection(server.db_path))  # the test's own connection, not the worker's
    assert StaffStore(reader).get("lan-nt").name == "Nguyễn Thị Lan"
    reader.close()
    assert add_staff(server, "binh-tv").id == "binh-tv"  # the worker goes on


def test_the_console_adds_an_account_while_the_server_runs(start_server):
    server = start_server(officials=False)
    data = str(server.options.data_dir)
    result = run_cli("staff", "add", "minh-pv", "--name", "Phạm Văn Minh", "--counters", "Q2,Q5", "--password-stdin",
                     "--data", data, "--config", str(EXAMPLE_CONFIG), input=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "created minh-pv (official)"
    assert sign_in(server, "minh-pv", counter="Q5", device="quay-05")["ok"]  # the worker continues after the console's event
    assert server.office.failures == 0
    types = [ev.type for ev in server.store.events_after(0)]
    assert types[-2:] == ["StaffAccountChanged", "CounterSignedIn"]
    seqs = [ev.seq for ev in server.store.events_after(0)]
    assert seqs == list(range(1, len(seqs) + 1))
