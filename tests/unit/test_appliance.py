"""The installer's pieces that run without root: role table, device choice, write-only-when-different."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from motcua.appliance import install
from motcua.appliance.roles import KIOSK_PACKAGES, ROLES, expand

ROOT = Path(__file__).resolve().parents[2]
DEVICES = install.office_devices(ROOT / "firmware_config" / "office.example.toml")


def test_kiosk_packages_are_those_of_setup_sh() -> None:
    text = (ROOT / "setup.sh").read_text()
    listed = re.search(r"APT_KIOSK_PACKAGES=\((.*?)\)", text, re.S).group(1).split()
    assert tuple(listed) == KIOSK_PACKAGES


def test_every_role_unit_exists_and_all_is_every_role() -> None:
    assert set(expand("all")) == set(ROLES)
    for role in ROLES.values():
        for unit in role.units:
            assert (ROOT / "systemd" / unit).exists(), unit
    with pytest.raises(ValueError):
        expand("printer")


def test_debootstrap_is_a_test_package() -> None:
    assert re.search(r"APT_TEST_PACKAGES\+=\([^)]*debootstrap", (ROOT / "setup.sh").read_text())


@pytest.mark.parametrize(("role", "device"), [("kiosk", "kiosk-01"), ("keypad", "quay-01"), ("voice", "loa-01"),
                                              ("led", "led-01"), ("tv", "tv-01"), ("server", None)])
def test_default_device_of_each_role(role: str, device: str | None) -> None:
    assert install.pick_device(ROLES[role], DEVICES, None) == device


def test_asked_device_must_fit_the_role() -> None:
    assert install.pick_device(ROLES["keypad"], DEVICES, "quay-04") == "quay-04"
    with pytest.raises(install.InstallError, match="not a counter device"):
        install.pick_device(ROLES["keypad"], DEVICES, "kiosk-01")


def test_units_keep_secrets_off_the_command_line() -> None:
    for unit in (ROOT / "systemd").glob("motcua-*@.service"):
        text = unit.read_text()
        assert "LoadCredential=broker:/etc/motcua/credentials/devices/%i.toml" in text, unit
        assert "Environment=MOTCUA_CREDENTIALS=%d/broker" in text
        settings = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        assert "PASSWORD" not in settings.upper() and "MOTCUA_BROKER=" not in settings
        for key in ("NoNewPrivileges=true", "ProtectSystem=strict", "Restart=always", "StartLimitBurst=", "User=motcua-"):
            assert key in text, (unit, key)


def test_a_file_is_written_only_when_its_content_differs(tmp_path: Path) -> None:
    report = install.Report()
    path = tmp_path / "a.conf"
    user = __import__("pwd").getpwuid(os.getuid()).pw_name
    group = __import__("grp").getgrgid(os.getgid()).gr_name
    assert install.ensure_file(path, b"x=1\n", 0o640, report, user, group)
    first = path.stat()
    assert not install.ensure_file(path, b"x=1\n", 0o640, report, user, group)
    assert path.stat().st_mtime_ns == first.st_mtime_ns and path.stat().st_ino == first.st_ino
    assert len(report.changes) == 1
    os.chmod(path, 0o666)
    install.ensure_file(path, b"x=1\n", 0o640, report, user, group)
    assert path.stat().st_mode & 0o777 == 0o640 and report.changes[-1].startswith("mode of")
