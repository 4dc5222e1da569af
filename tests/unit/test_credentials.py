"""Broker credentials from the office configuration: Mosquitto's hash format, idempotence, file modes."""

from __future__ import annotations

import dataclasses
import grp
import stat
import subprocess

import pytest

from motcua import credentials as device_credentials
from queue_server import credentials as c
from queue_server.broker_acl import SERVER_USER, AccessError, access_rules
from queue_server.config import Device


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hashes_are_mosquittos_pbkdf2_format_both_ways(tmp_path):
    passwd = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "kiosk-01", "s3cret"], check=True)
    written_by_mosquitto = c.read_password_file(passwd)["kiosk-01"]
    assert written_by_mosquitto.startswith("$7$101$")
    assert c.verify_password("s3cret", written_by_mosquitto) and not c.verify_password("s3cret!", written_by_mosquitto)
    ours = c.hash_password("s3cret")
    assert ours.startswith("$7$101$") and len(ours) == len(written_by_mosquitto)
    assert c.verify_password("s3cret", ours) and not c.verify_password("", ours)
    for broken in ("", "$6$x$y", "$7$abc$AAAA$AAAA", "$7$101$!!!$AAAA", "$7$0$AAAA$AAAA", "$7$101$AAAA"):
        assert not c.verify_password("s3cret", broken)
    # (Real Mosquitto accepting our file is tested in tests/integration/test_broker_security.py.)


def test_every_user_gets_a_secret_and_only_its_own_file(config, tmp_path):
    creds, changes = c.ensure(config, tmp_path / "creds")
    users = [SERVER_USER, *config.devices]
    assert list(creds.passwords) == users and changes.added == tuple(users)
    assert len(set(creds.passwords.values())) == len(users) and all(len(s) >= 32 for s in creds.passwords.values())
    assert device_credentials.read(creds.secrets_file) == creds.passwords
    for user in users:
        assert device_credentials.read(creds.device_file(user)) == {user: creds.passwords[user]}
    hashes = c.read_password_file(creds.password_file)
    assert list(hashes) == users and all(c.verify_password(creds.passwords[u], hashes[u]) for u in users)
    for path in (creds.secrets_file, creds.password_file, creds.acl_file, creds.device_file("kiosk-01")):
        assert mode(path) == 0o600, path
    assert mode(creds.directory) == 0o700
    acl = creds.acl_file.read_text()
    assert "user kiosk-01" in acl and not any(secret in acl for secret in creds.passwords.values())
    assert "passwords" not in repr(creds) and creds.passwords["kiosk-01"] not in repr(creds)


def test_running_again_keeps_every_byte_adds_new_devices_and_drops_removed_ones(config, tmp_path):
    directory = tmp_path / "creds"
    first, _ = c.ensure(config, directory)
    snapshot = {p.name: p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    _, changes = c.ensure(config, directory)
    assert changes.added == changes.removed == changes.rotated == () and len(changes.kept) == len(first.passwords)
    assert {p.name: p.read_bytes() for p in directory.rglob("*") if p.is_file()} == snapshot
    devices = dict(config.devices)
    del devices["kiosk-02"]
    devices["kiosk-03"] = Device("kiosk-03", "kiosk")
    changed, changes = c.ensure(dataclasses.replace(config, devices=devices), directory)
    assert changes.added == ("kiosk-03",) and changes.removed == ("kiosk-02",)
    assert "kiosk-02" not in changed.passwords and not changed.device_file("kiosk-02").exists()
    assert "kiosk-02" not in c.read_password_file(changed.password_file) and "user kiosk-02" not in changed.acl_file.read_text()
    assert changed.passwords["kiosk-01"] == first.passwords["kiosk-01"]
    assert changes.summary().startswith(f"{len(first.passwords) - 1} kept")


def test_rotating_changes_only_that_secret_and_its_hash(config, tmp_path):
    first, _ = c.ensure(config, tmp_path / "creds")
    old_hashes = c.read_password_file(first.password_file)
    rotated, changes = c.ensure(config, tmp_path / "creds", rotate=["kiosk-01"])
    assert changes.rotated == ("kiosk-01",)
    assert rotated.passwords["kiosk-01"] != first.passwords["kiosk-01"]
    assert {u: s for u, s in rotated.passwords.items() if u != "kiosk-01"} == {u: s for u, s in first.passwords.items() if u != "kiosk-01"}
    new_hashes = c.read_password_file(rotated.password_file)
    assert new_hashes["kiosk-01"] != old_hashes["kiosk-01"] and new_hashes["tv-01"] == old_hashes["tv-01"]
    with pytest.raises(c.CredentialsError, match="cannot rotate nobody"):
        c.ensure(config, tmp_path / "creds", rotate=["nobody"])


def test_broker_files_can_be_given_to_the_mosquitto_group(config, tmp_path):
    try:
        gid = grp.getgrnam("mosquitto").gr_gid
    except KeyError:
        pytest.fail("Debian's mosquitto package creates the mosquitto group: run ./setup.sh test")
    creds, _ = c.ensure(config, tmp_path / "creds", group="mosquitto")
    for path in (creds.password_file, creds.acl_file):
        assert mode(path) == 0o640 and path.stat().st_gid == gid
    assert mode(creds.secrets_file) == 0o600 and mode(creds.device_file("kiosk-01")) == 0o600  # secrets stay private
    with pytest.raises(c.CredentialsError, match="no group 'no-such-group'"):
        c.ensure(config, tmp_path / "other", group="no-such-group")


def test_a_device_named_like_the_server_is_refused(config):
    for reserved in (SERVER_USER, "queue_server"):
        bad = dataclasses.replace(config, devices={**config.devices, reserved: Device(reserved, "display")})
        with pytest.raises(AccessError, match="reserved for the queue server"):
            access_rules(bad)


def test_a_damaged_secrets_file_is_named_without_quoting_it(config, tmp_path):
    creds, _ = c.ensure(config, tmp_path / "creds")
    creds.secrets_file.write_text(creds.secrets_file.read_text() + 'kiosk-09 = "unterminated\n')
    with pytest.raises(c.CredentialsError) as err:
        c.ensure(config, tmp_path / "creds")
    assert "not valid TOML" in str(err.value) and "unterminated" not in str(err.value)


def test_a_device_finds_its_password_in_a_file_or_the_environment(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(device_credentials.render({"kiosk-01": "abc"}, "test"))
    assert device_credentials.password_for("kiosk-01", path, env={}) == "abc"
    assert device_credentials.password_for("kiosk-01", env={device_credentials.CREDENTIALS_ENV: str(path)}) == "abc"
    assert device_credentials.password_for("kiosk-01", env={device_credentials.PASSWORD_ENV: "xyz"}) == "xyz"
    assert device_credentials.password_for("kiosk-01", env={}) is None
    with pytest.raises(device_credentials.CredentialsError, match="has no password for 'tv-01'"):
        device_credentials.password_for("tv-01", path, env={})
