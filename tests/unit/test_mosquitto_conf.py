"""The Mosquitto example for a system service keeps every setting the server gives its own Mosquitto."""

from pathlib import Path

from queue_server.broker_mosquitto import render_conf
from tests.conftest import ROOT

EXAMPLE = ROOT / "firmware_config" / "mosquitto" / "motcua.conf"
# Per-run details that differ on purpose: files, address, logging to the server.
OWN_RUN_ONLY = ("password_file", "acl_file", "listener", "persistence", "log_", "connection_messages")


def settings(text: str) -> dict[str, str]:
    pairs = (line.split(" ", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_the_service_example_has_the_servers_security_settings():
    own = settings(render_conf("127.0.0.1", 1883, Path("/p"), Path("/a")))
    example = settings(EXAMPLE.read_text(encoding="utf-8"))
    for key, value in own.items():
        if not key.startswith(OWN_RUN_ONLY):
            assert example.get(key) == value, f"firmware_config/mosquitto/motcua.conf: {key} should be {value}"
    assert example["allow_anonymous"] == "false" and example["password_file"].endswith("mosquitto.passwd")
