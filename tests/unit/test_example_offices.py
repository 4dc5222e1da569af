"""Every example office in firmware_config/ passes `motcua check-config` and describes today's structure."""

from __future__ import annotations

import pytest

from queue_server import config as cfg
from tests.conftest import ROOT, run_cli

EXAMPLES = sorted((ROOT / "firmware_config").glob("office*.toml"))


def test_there_is_a_commune_and_a_provincial_example():
    names = {cfg.load(path).name for path in EXAMPLES}
    assert "Trung tâm Phục vụ hành chính công xã Hòa Thuận" in names
    assert "Trung tâm Phục vụ hành chính công tỉnh Hòa Thuận" in names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_check_config_accepts_the_example(path):
    checked = run_cli("check-config", str(path))
    assert checked.returncode == 0, checked.stderr
    config = cfg.load(path)
    assert checked.stdout.startswith(f"{config.id}: {config.name}\n")
    assert f"{len(config.counters)} counters" in checked.stdout


def test_the_provincial_centre_has_many_counters_each_with_its_devices():
    config = cfg.load(ROOT / "firmware_config" / "office.province.example.toml")
    assert 20 <= len(config.counters) <= 30 and len(config.services) >= 10
    bound = {(d.role, d.counter) for d in config.devices.values() if d.counter}
    assert all(("counter", c) in bound and ("rating", c) in bound for c in config.counters)
    assert any(c.priority_only for c in config.counters.values())
