"""Shared fixtures: the example office, a real SQLite file, real brokers on free loopback ports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.support import free_port, wait_for_port  # one copy of the port helpers, shared with the benchmarks
from motcua.broker_url import BrokerURL
from motcua.clock import FakeClock
from motcua.credentials import CREDENTIALS_ENV
from queue_server import config as office_config
from queue_server.broker_acl import SERVER_USER
from queue_server.broker_mosquitto import find_mosquitto, render_conf
from queue_server.credentials import CredentialSet, ensure
from queue_server.server import QueueServer, ServerOptions
from tests.staff_support import seed_data_dir

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "firmware_config" / "office.example.toml"
MOSQUITTO = find_mosquitto()
BROKER_KINDS = ("mosquitto", "embedded")  # the two brokers a server can run itself


@pytest.fixture
def config() -> office_config.OfficeConfig:
    """The example district office, open at any hour."""
    return office_config.load(EXAMPLE_CONFIG).with_overrides(issue_outside_hours=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def credentials(tmp_path: Path, config: office_config.OfficeConfig, monkeypatch: pytest.MonkeyPatch) -> CredentialSet:
    """Broker credentials of the example office; device clients (and `motcua` subprocesses) find
    theirs through MOTCUA_CREDENTIALS, as a device configured by its technician does."""
    creds, _ = ensure(config, tmp_path / "credentials")
    monkeypatch.setenv(CREDENTIALS_ENV, str(creds.secrets_file))
    return creds


@pytest.fixture(params=BROKER_KINDS)
def broker_kind(request: pytest.FixtureRequest) -> str:
    """Run a test once with each broker the server can run itself."""
    if request.param == "mosquitto" and MOSQUITTO is None:
        pytest.fail("mosquitto is not installed: run ./setup.sh test (it installs Debian's mosquitto)")
    return request.param


@pytest.fixture
def start_server(tmp_path: Path, config: office_config.OfficeConfig, credentials: CredentialSet) -> Iterator[Callable[..., QueueServer]]:
    """Start in-process servers, each with credentials; stopped after the test.

    Without `broker=` the server runs its own broker (`run_broker`: the default "auto" takes
    Debian's Mosquitto, as in production).
    """
    servers: list[QueueServer] = []

    def start(broker: BrokerURL | None = None, data_dir: Path | None = None, http: bool = True, cfg=None, clock=None,
              run_broker: str = "auto", probe_interval: float = 5.0, max_connections: int = 500, officials: bool = True) -> QueueServer:
        if officials:  # the test officials (tests/staff_support.py) exist, as accounts do in a real office
            seed_data_dir(data_dir or tmp_path / "data", cfg or config)
        for attempt in range(3):
            options = ServerOptions(
                data_dir=data_dir or tmp_path / "data",
                broker=broker,
                mqtt_listen=("127.0.0.1", free_port()),
                http_listen=("127.0.0.1", free_port()) if http else None,
                run_broker=run_broker,
                credentials_dir=credentials.directory,
                probe_interval=probe_interval,
                max_connections=max_connections,
            )
            server = QueueServer(cfg or config, options, clock=clock)
            try:
                server.start()
                break
            except OSError as exc:  # a free port probed, then taken by another process before the bind
                server.stop()
                if attempt == 2 or "port" not in str(exc):
                    raise
        servers.append(server)
        assert server.connected.wait(10), "server did not connect to its broker"
        return server

    yield start
    for server in reversed(servers):
        server.stop()


class Mosquitto:
    """Debian's mosquitto on a free loopback port, configured as the server configures its own
    (render_conf: passwords, ACL, client ids bound to users), started and stopped by pid."""

    def __init__(self, workdir: Path, credentials: CredentialSet) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.credentials = credentials
        self.proc: subprocess.Popen | None = None
        self.conf = workdir / "mosquitto.conf"
        conf = render_conf("127.0.0.1", self.port, credentials.password_file, credentials.acl_file, run_as_root=os.geteuid() == 0)
        self.conf.write_text(conf.replace("log_dest stderr", f"log_dest file {workdir / 'mosquitto.log'}"))

    def url(self, user: str | None = None) -> BrokerURL:
        """The broker's address, logged in as `user` (None: anonymous)."""
        return BrokerURL("127.0.0.1", self.port, user, self.credentials.passwords.get(user) if user else None)

    def server_url(self) -> BrokerURL:
        return self.url(SERVER_USER)

    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text() if path.exists() else ""

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; mosquitto said: {self.log()[-500:]}") from None
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def mosquitto(tmp_path: Path, credentials: CredentialSet) -> Iterator[Mosquitto]:
    """An external Mosquitto for the example office (the server connects with --broker)."""
    if MOSQUITTO is None:
        pytest.fail("mosquitto is not installed: run ./setup.sh test (it installs Debian's mosquitto)")
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    broker = Mosquitto(workdir, credentials).start()
    yield broker
    broker.stop()


def run_cli(*args: str, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed `motcua` command line as a user would (`input`: what they type)."""
    return subprocess.run(
        [sys.executable, "-m", "motcua", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, input=input
    )
