"""`motcua staff` on the server's console, as a technician types it."""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from queue_server.staff.passwords import verify_secret
from queue_server.staff.store import StaffStore
from queue_server.store import Store, open_connection
from tests.conftest import EXAMPLE_CONFIG, run_cli
from tests.staff_support import PASSWORD


@pytest.fixture
def data(tmp_path, config):
    Store.in_dir(tmp_path / "data", config.id).close()  # an office database, as the server leaves it
    return str(tmp_path / "data")


def staff_cli(data: str, *args: str, typed: str | None = None):
    return run_cli("staff", *args, "--data", data, "--config", str(EXAMPLE_CONFIG), input=typed)


def accounts_in(data: str) -> StaffStore:
    return StaffStore(sqlite_utils.Database(open_connection(f"{data}/motcua.db"))).migrate()


def test_add_list_set_and_passwd(data):
    added = staff_cli(data, "add", "qt-an", "--name", "Trần Văn An", "--role", "administrator", "--password-stdin", typed=PASSWORD + "\n")
    assert added.returncode == 0 and added.stdout == "created qt-an (administrator)\n"
    assert staff_cli(data, "add", "lan-nt", "--name", "Nguyễn Thị Lan", "--counters", "Q1,Q2", "--password-stdin",
                     typed=PASSWORD + "\n").returncode == 0
    listed = [json.loads(line) for line in staff_cli(data, "list", "--json").stdout.splitlines()]
    assert listed == [
        {"id": "lan-nt", "name": "Nguyễn Thị Lan", "role": "official", "counters": ["Q1", "Q2"], "active": True},
        {"id": "qt-an", "name": "Trần Văn An", "role": "administrator", "counters": [], "active": True},
    ]
    assert PASSWORD not in staff_cli(data, "list").stdout
    changed = staff_cli(data, "set", "lan-nt", "--counters", "all", "--disable")
    assert changed.returncode == 0 and "disabled" in changed.stdout and "Q1,Q2,Q3,Q4,Q5,Q6" in changed.stdout
    assert staff_cli(data, "passwd", "lan-nt", "--password-stdin", typed="mot-mat-khau-moi\n").returncode == 0
    store = accounts_in(data)
    assert verify_secret(store.password_hash("lan-nt"), "mot-mat-khau-moi")
    assert not verify_secret(store.password_hash("lan-nt"), PASSWORD)
    assert store.password_hash("lan-nt").startswith("$argon2id$")
    events = [json.loads(line) for line in run_cli("events", "--data", data, "--config", str(EXAMPLE_CONFIG), "--json").stdout.splitlines()]
    audit = [(ev["data"]["staff"], ev["data"]["change"], ev["data"]["by"]) for ev in events if ev["type"] == "StaffAccountChanged"]
    assert audit == [("qt-an", "created", "console"), ("lan-nt", "created", "console"), ("lan-nt", "disabled", "console"),
                     ("lan-nt", "password", "console")]
    assert all(PASSWORD not in json.dumps(ev, ensure_ascii=False) for ev in events)


def test_bad_input_is_explained_and_changes_nothing(data):
    weak = staff_cli(data, "add", "lan-nt", "--name", "Lan", "--password-stdin", typed="123\n")
    assert weak.returncode == 1 and "A password needs 10 to 256 characters" in weak.stderr and "Traceback" not in weak.stderr
    bad_id = staff_cli(data, "add", "Lan Nguyễn", "--name", "Lan", "--password-stdin", typed=PASSWORD + "\n")
    assert bad_id.returncode == 1 and "is not valid: use 2 to 40 lowercase letters" in bad_id.stderr
    counter = staff_cli(data, "add", "lan-nt", "--name", "Lan", "--counters", "Q9", "--password-stdin", typed=PASSWORD + "\n")
    assert counter.returncode == 1 and "There is no counter with id Q9" in counter.stderr
    assert staff_cli(data, "list").stdout == ""
    staff_cli(data, "add", "qt-an", "--name", "An", "--role", "administrator", "--password-stdin", typed=PASSWORD + "\n")
    last = staff_cli(data, "set", "qt-an", "--role", "official")
    assert last.returncode == 1 and "The last administrator" in last.stderr
    assert accounts_in(data).get("qt-an").role == "administrator"


def test_a_setup_link_only_while_the_office_has_no_administrator(data):
    made = staff_cli(data, "setup-link", "--url", "http://10.0.0.2:8080")
    assert made.returncode == 0 and made.stdout.startswith("http://10.0.0.2:8080/thiet-lap/")
    staff_cli(data, "add", "qt-an", "--name", "An", "--role", "administrator", "--password-stdin", typed=PASSWORD + "\n")
    refused = staff_cli(data, "setup-link")
    assert refused.returncode == 1 and "has an administrator already" in refused.stderr


def test_the_commands_need_the_server_s_database(tmp_path):
    result = run_cli("staff", "list", "--data", str(tmp_path / "nowhere"), "--config", str(EXAMPLE_CONFIG))
    assert result.returncode == 1 and "no office database" in result.stderr
