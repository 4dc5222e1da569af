"""[dossier_lookup]: the public lookup's limits come from the office configuration, checked key by key."""

from __future__ import annotations

import copy
import re
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from queue_server import config as cfg
from queue_server.dossiers import db as store
from queue_server.dossiers.lookup import LookupRefused, lookup
from queue_server.dossiers.sync import apply_updates
from queue_server.store import Store
from tests.conftest import EXAMPLE_CONFIG

TEXT = EXAMPLE_CONFIG.read_text(encoding="utf-8")
RAW = tomllib.loads(TEXT)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def with_table(table) -> dict:
    raw = copy.deepcopy(RAW)
    raw["dossier_lookup"] = table
    return raw


def test_absent_table_gives_the_documented_defaults():
    limits = cfg.parse(RAW).dossier_lookup
    assert limits == cfg.DossierLookup()
    assert (limits.per_minute, limits.burst, limits.not_found_cost) == (20.0, 10, 3.0)
    assert (limits.max_verify_failures, limits.verify_window_minutes) == (5, 15)


def test_the_commented_example_block_is_valid_once_uncommented():
    block = TEXT[TEXT.index("# [dossier_lookup]"):]
    lines = [re.sub(r"^# ?", "", line) for line in block.splitlines() if re.match(r"# ?(\[dossier_lookup\]|[a-z_]+ = )", line)]
    uncommented = tomllib.loads("\n".join(lines))
    assert set(uncommented["dossier_lookup"]) == {"per_minute", "burst", "not_found_cost", "max_verify_failures",
                                                  "verify_window_minutes", "max_verify_failures_per_day", "max_verify_failures_total"}
    assert cfg.parse({**RAW, **uncommented}).dossier_lookup == cfg.DossierLookup()  # the example shows the defaults


def test_values_are_read():
    limits = cfg.parse(with_table({"per_minute": 0, "burst": 3, "not_found_cost": 2.5, "max_verify_failures": 3,
                                   "verify_window_minutes": 60})).dossier_lookup
    assert limits == cfg.DossierLookup(per_minute=0.0, burst=3, not_found_cost=2.5, max_verify_failures=3,
                                       verify_window_minutes=60)
    assert isinstance(limits.per_minute, float) and isinstance(limits.not_found_cost, float)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("fast", "[dossier_lookup]: must be a table"),
        ({"per_minute": -1}, "dossier_lookup.per_minute: must be a number from 0 to 6000"),
        ({"per_minute": "20"}, "dossier_lookup.per_minute"),
        ({"per_minute": True}, "dossier_lookup.per_minute"),
        ({"burst": 0}, "dossier_lookup.burst: must be a whole number from 1 to 1000"),
        ({"burst": 2.5}, "dossier_lookup.burst"),
        ({"not_found_cost": 0.5}, "dossier_lookup.not_found_cost: must be a number from 1 to 100"),
        ({"max_verify_failures": 0}, "dossier_lookup.max_verify_failures: must be a whole number from 1 to 20"),
        ({"max_verify_failures": 1000}, "dossier_lookup.max_verify_failures"),
        ({"verify_window_minutes": 0}, "dossier_lookup.verify_window_minutes: must be a whole number from 1 to 1440"),
        ({"per_minut": 5}, "dossier_lookup.per_minut: unknown key"),
    ],
)
def test_a_wrong_key_is_named(table, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.parse(with_table(table))
    assert message in str(err.value)


def test_the_file_name_is_in_the_message(tmp_path):
    path = tmp_path / "office.toml"
    path.write_text(TEXT + "\n[dossier_lookup]\nburst = -1\n", encoding="utf-8")
    with pytest.raises(cfg.ConfigError, match=r"office\.toml: dossier_lookup\.burst"):
        cfg.load(path)


@pytest.fixture
def db(tmp_path, config):
    Store.in_dir(tmp_path, config.id).close()
    database = store.connect(tmp_path / "motcua.db")
    apply_updates(database, [{
        "code": "HS-2026-000001", "updated_at": "2026-11-22T08:00:00", "status": "received", "procedure_name": "X",
        "received_at": "2026-11-22T08:00:00", "applicant_name": "Phạm Minh Châu", "applicant_phone": "0912345678",
    }], "tinh", NOW, config.tz)
    yield database
    database.close()


def test_verification_lock_follows_the_configuration(db, config):
    office = config.with_overrides(dossier_lookup=cfg.DossierLookup(max_verify_failures=2, verify_window_minutes=60))
    with pytest.raises(LookupRefused) as first:
        lookup(db, office, "HS-2026-000001", NOW, verify="0000")
    assert first.value.extra["attempts_left"] == 1
    with pytest.raises(LookupRefused) as last:
        lookup(db, office, "HS-2026-000001", NOW, verify="0000")
    assert last.value.extra["attempts_left"] == 0
    assert "thử lại sau 60 phút" in last.value.message and "60 minutes" in last.value.message_en
    with pytest.raises(LookupRefused) as locked:
        lookup(db, office, "HS-2026-000001", NOW + timedelta(minutes=59), verify="5678")
    assert locked.value.code == "verify_locked" and locked.value.retry_after == 61
    assert lookup(db, office, "HS-2026-000001", NOW + timedelta(minutes=60, seconds=1), verify="5678")["dossier"]["verified"]
