"""Kiosk fixtures: a real queue server (SQLite, HTTP) behind a real Mosquitto with per-device passwords,
the sample procedure catalogue imported, and kiosk parts wired as `motcua kiosk --simulate` wires them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kiosk.adapters import PrinterError, open_printer
from kiosk.bootstrap import Kiosk, build
from kiosk.settings import KioskSettings
from motcua.client import DeviceClient
from motcua.settings import OfficeRef
from queue_server.procedures import db as pdb
from queue_server.procedures.importer import import_file
from tests.conftest import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "queue_server" / "procedures" / "sample" / "catalogue.json"



@dataclass
class Office:
    server: Any
    broker: Mosquitto

    @property
    def http(self) -> str:
        host, port = self.server.options.http_listen
        return f"http://{host}:{port}"

    @property
    def ref(self) -> OfficeRef:
        return OfficeRef(self.server.config.id, self.server.config.topic_prefix, self.server.config.name)

    def console(self) -> DeviceClient:
        return DeviceClient(self.broker.url("console"), self.server.config.id, "console").connect()


def import_sample(server: Any, path: Path = SAMPLE) -> None:
    db = pdb.open_db(server.db_path)
    try:
        import_file(db, path, services=set(server.config.services), forms_root=pdb.forms_dir(server.db_path))
    finally:
        db.close()


@pytest.fixture
def broker(mosquitto: Mosquitto) -> Mosquitto:
    """Debian's Mosquitto with the office's generated passwords and ACL (tests/conftest.py)."""
    return mosquitto


@pytest.fixture
def office(start_server: Callable[..., Any], broker: Mosquitto) -> Office:
    server = start_server(broker=broker.server_url())
    import_sample(server)
    return Office(server, broker)


class JammedPrinter:
    """A printer that reports a fault, as a real one with no paper does over DLE EOT."""

    width_dots = 576

    def __init__(self, state: str = "no_paper") -> None:
        self.state = state

    def print_ticket(self, image: Any) -> None:
        raise PrinterError(self.state)

    def status(self) -> str:
        return self.state


@pytest.fixture
def make_kiosk(tmp_path: Path, office: Office) -> Iterator[Callable[..., Kiosk]]:
    """Build (and start) kiosk parts against the office; closed after the test."""
    made: list[Kiosk] = []

    def make(device: str = "kiosk-01", state_dir: Path | None = None, printer: Any = None, start: bool = True, **changes: Any) -> Kiosk:
        settings = KioskSettings(device=device, server_url=office.http, state_dir=state_dir or tmp_path / f"state-{device}",
                                 request_timeout=1.0, **changes)
        printer = printer if printer is not None else open_printer({}, True, tmp_path / f"printed-{device}")
        parts = build(settings, office.ref, office.broker.url(device), simulate=True, printer=printer, scanner=None)
        made.append(parts)
        if start:
            parts.link.start()
            assert parts.link.wait_connected(10), "kiosk did not reach broker and server"
        return parts

    yield make
    for parts in made:
        parts.close()


def printed_pngs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.png")) if folder.exists() else []


def device_broker_url(office: Office, device: str) -> str:
    """The broker address for a kiosk subprocess: its user, no password (it reads MOTCUA_CREDENTIALS)."""
    return f"mqtt://{device}@127.0.0.1:{office.broker.port}"
