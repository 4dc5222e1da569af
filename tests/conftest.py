"""Shared fixtures: the example office, a real SQLite file, real brokers on free loopback ports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.support import free_port, wait_for_port  # one copy of the port helpers, shared with the benchmarks
from motcua.broker_url import BrokerURL
from motcua.clock import FakeClock
from queue_server import config as office_config
from queue_server.server import QueueServer, ServerOptions
from tests.staff_support import seed_data_dir

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "firmware_config" / "office.example.toml"
MOSQUITTO = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if os.path.exists(p)), None)


@pytest.fixture
def config() -> office_config.OfficeConfig:
    """The example district office, open at any hour."""
    return office_config.load(EXAMPLE_CONFIG).with_overrides(issue_outside_hours=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start_server(tmp_path: Path, config: office_config.OfficeConfig) -> Iterator[Callable[..., QueueServer]]:
    """Start in-process servers (embedded broker unless `broker=` is given); stopped after the test."""
    servers: list[QueueServer] = []

    def start(broker: BrokerURL | None = None, data_dir: Path | None = None, http: bool = True, cfg=None, clock=None,
              officials: bool = True) -> QueueServer:
        if officials:  # the test officials (tests/staff_support.py) exist, as accounts do in a real office
            seed_data_dir(data_dir or tmp_path / "data", cfg or config)
        options = ServerOptions(
            data_dir=data_dir or tmp_path / "data",
            broker=broker,
            mqtt_listen=("127.0.0.1", free_port()),
            http_listen=("127.0.0.1", free_port()) if http else None,
        )
        server = QueueServer(cfg or config, options, clock=clock)
        server.start()
        servers.append(server)
        assert server.connected.wait(10), "server did not connect to its broker"
        return server

    yield start
    for server in reversed(servers):
        server.stop()


class Mosquitto:
    """Debian's mosquitto on a free loopback port, with a config written here."""

    def __init__(self, workdir: Path, users: dict[str, str] | None = None, acl: str | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.users = users or {}
        self.proc: subprocess.Popen | None = None
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "max_queued_messages 10000", "set_tcp_nodelay true"]
        if os.geteuid() == 0:
            # As root, mosquitto drops to the "mosquitto" user and then cannot read the
            # password file in pytest's private tmp dir; stay root for the test broker.
            lines.append("user root")
        if self.users:
            pwfile = workdir / "passwords"
            pwfile.write_text("")
            for user, password in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(pwfile), user, password], check=True)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
            if acl is not None:
                (workdir / "acl").write_text(acl)
                lines.append(f"acl_file {workdir / 'acl'}")
        else:
            lines.append("allow_anonymous true")
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    def url(self, user: str | None = None) -> BrokerURL:
        return BrokerURL("127.0.0.1", self.port, user, self.users.get(user) if user else None)

    def start(self) -> Mosquitto:
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        try:
            wait_for_port(self.port)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; mosquitto said: {(self.workdir / 'mosquitto.log').read_text()[-500:]}") from None
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    if MOSQUITTO is None:
        pytest.fail("mosquitto is not installed: run ./setup.sh test (it installs Debian's mosquitto)")
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    broker = Mosquitto(workdir, users={"server": "s3cret-server", "console": "s3cret-console"}).start()
    yield broker
    broker.stop()


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the installed `motcua` command line as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "motcua", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
