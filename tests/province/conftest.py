"""Province fixtures: one PostgreSQL and one 3-node NATS cluster per session (Debian's packages, loopback ports).

Each test gets its own database, topic root and hub client id, so tests share the
processes but nothing they stored.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from bench.province_support import LocalPostgres, ProvinceCredentials, simulate_office
from motcua.broker_url import parse_broker_url
from queue_server.province.cluster import LocalCluster
from queue_server.province.forwarder import Forwarder, ForwarderOptions
from queue_server.province.hub import Hub
from queue_server.province.hubconfig import HubConfig
from queue_server.province.outbox import OfficeLog, ensure_migrated
from queue_server.province.topics import ProvinceTopics
from tests.conftest import EXAMPLE_CONFIG

OFFICES = ("ubnd-huyen-demo", "xa-an-binh", "xa-tan-phu")
TEST_ROOT = "test/*"  # each test publishes under test/<its own id>


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    pg = LocalPostgres().start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def province_credentials() -> ProvinceCredentials:
    creds = ProvinceCredentials()
    for office in OFFICES:
        creds.office(office)
    return creds


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, province_credentials) -> Iterator[LocalCluster]:
    if shutil.which("nats-server") is None and not Path("/usr/sbin/nats-server").exists():
        pytest.fail("nats-server is not installed: run ./setup.sh test (it installs Debian's nats-server)")
    nodes = LocalCluster(tmp_path_factory.mktemp("nats"), province_credentials.users(), topics=ProvinceTopics(TEST_ROOT)).start()
    yield nodes
    nodes.stop()


@pytest.fixture
def topics() -> ProvinceTopics:
    return ProvinceTopics(f"test/{uuid.uuid4().hex[:8]}")


@pytest.fixture
def database(postgres, monkeypatch) -> str:
    """A fresh hub database; its DSN carries no password (PGPASSWORD does, as in production)."""
    name = f"hub_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.admin_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    return postgres.dsn.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def hub_config(database, cluster, topics) -> HubConfig:
    return HubConfig(database=database, brokers=tuple(cluster.mqtt_urls), name="Trung tâm Phục vụ hành chính công tỉnh Thử nghiệm",
                     client_id=f"hub-{uuid.uuid4().hex[:8]}", topic_root=topics.root)


@pytest.fixture
def start_hub(hub_config, province_credentials) -> Iterator[Callable[..., Hub]]:
    hubs: list[Hub] = []

    def start(http: tuple[str, int] | None = None, client_id: str | None = None) -> Hub:
        config = hub_config if client_id is None else HubConfig(**{**hub_config.__dict__, "client_id": client_id})
        hub = Hub(config, province_credentials.hub)
        hub.start(http)
        hubs.append(hub)
        assert hub.connected.wait(15), "hub did not connect to the cluster"
        return hub

    yield start
    for hub in hubs:
        hub.stop()


@pytest.fixture
def office_config():
    from queue_server import config as office_config

    return office_config.load(EXAMPLE_CONFIG).with_overrides(issue_outside_hours=True)


@pytest.fixture
def office_db(tmp_path, office_config) -> Callable[[int], Path]:
    """An office database with `events` events written by the real engine and store."""

    def make(events: int, data: Path | None = None, seed: int = 1) -> Path:
        data = data or tmp_path / "office"
        simulate_office(data, office_config, events, seed=seed)
        path = data / "motcua.db"
        ensure_migrated(path)
        return path

    return make


@pytest.fixture
def run_forwarder(cluster, province_credentials, topics, office_config) -> Iterator[Callable[..., Forwarder]]:
    """A forwarder thread for an office database; stopped after the test."""
    running: list[tuple[Forwarder, threading.Event, threading.Thread]] = []

    def run(db: Path, config=None, options: ForwarderOptions | None = None) -> Forwarder:
        config = config or office_config
        reader = OfficeLog(db, config)
        forwarder = Forwarder(reader, config.id, config.name, [parse_broker_url(u) for u in cluster.mqtt_urls],
                              province_credentials.office(config.id), topics, options or ForwarderOptions(poll_seconds=0.1))
        stop = threading.Event()
        thread = threading.Thread(target=forwarder.run, args=(stop,), daemon=True)
        thread.start()
        running.append((forwarder, stop, thread))
        return forwarder

    yield run
    for forwarder, stop, thread in running:
        stop.set()
        thread.join(10)
        forwarder.log.close()


def hub_rows(database: str, office: str) -> tuple[int, int, int, int]:
    """(rows, distinct event ids, max seq, gap-free position) at the hub for an office."""
    with psycopg.connect(database) as conn:
        rows, ids, top = conn.execute("SELECT count(*), count(DISTINCT id), COALESCE(max(seq), 0) FROM events WHERE office = %s",
                                      [office]).fetchone()
        position = conn.execute("SELECT position FROM offices WHERE office = %s", [office]).fetchone()
    return rows, ids, top, position[0] if position else 0
