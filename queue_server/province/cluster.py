"""The central broker: a 3-node NATS cluster with JetStream and its MQTT listener (Debian's nats-server).

NATS does the clustering and the replication (JetStream streams with 3 replicas, Raft); we
only write its configuration: one file per node, the users with bcrypt password hashes and
per-office permissions, so an office's credential can publish only its own topics and read
only its own acknowledgements. `LocalCluster` starts the three nodes on loopback ports for
trying the province on one machine, and for the tests and benchmarks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from queue_server.province.topics import ProvinceTopics

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
CLUSTER_NAME = "motcua-province"


@dataclass(frozen=True)
class ClusterUser:
    """A cluster account: the hub (every office's topics) or one office (its own)."""

    username: str
    password_hash: str  # bcrypt ($2a$/$2b$): the configuration never holds a password
    office: str | None = None  # None: the hub

    def permissions(self, topics: ProvinceTopics) -> dict[str, list[str]]:
        # "$MQTT.sub.>": where NATS delivers an MQTT QoS 1 subscription (the hub's); MQTT clients cannot subscribe
        # to it themselves. Offices subscribe to their acks with QoS 0 and need no such grant.
        if self.office is None:
            return {"publish": [topics.subject(topics.all("ack"))],
                    "subscribe": [topics.subject(topics.all(k)) for k in ("events", "dossiers", "hello", "status")]
                    + ["$MQTT.sub.>"]}
        o = self.office
        return {"publish": [topics.subject(t) for t in (topics.events(o), topics.dossiers(o), topics.hello(o), topics.status(o))],
                "subscribe": [topics.subject(topics.ack(o))]}


def hash_password(password: str, rounds: int = 11) -> str:
    """bcrypt as nats-server reads it ($2a$). Rounds 11: ~0.1 s per check at each connect, slow for guessing."""
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode().replace("$2b$", "$2a$", 1)


@dataclass(frozen=True)
class Node:
    name: str
    host: str  # address other nodes and clients use
    client_port: int = 4222
    cluster_port: int = 6222
    mqtt_port: int = 1883
    monitor_port: int = 8222


def node_config(node: Node, nodes: list[Node], store_dir: str | Path, users: Iterable[ClusterUser],
                topics: ProvinceTopics, listen_host: str = "0.0.0.0", max_ack_pending: int = 1000) -> str:
    """The nats-server configuration of one node (JSON is valid NATS configuration syntax)."""
    routes = [f"nats-route://{n.host}:{n.cluster_port}" for n in nodes if n.name != node.name]
    config = {
        "server_name": node.name,
        "listen": f"{listen_host}:{node.client_port}",
        "http": f"127.0.0.1:{node.monitor_port}",  # monitoring stays on the node itself
        "max_payload": 1024 * 1024,
        "jetstream": {"store_dir": str(store_dir), "max_memory_store": 256 * 1024 * 1024},
        "cluster": {"name": CLUSTER_NAME, "listen": f"{listen_host}:{node.cluster_port}", "routes": routes},
        # stream_replicas 3: every stored MQTT message is on all three nodes; any one node may be lost.
        "mqtt": {"listen": f"{listen_host}:{node.mqtt_port}", "max_ack_pending": max_ack_pending, "ack_wait": "30s",
                 "stream_replicas": min(3, len(nodes))},
        "authorization": {"users": [
            {"user": u.username, "password": u.password_hash, "permissions": u.permissions(topics)} for u in users
        ]},
    }
    return json.dumps(config, indent=2) + "\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalCluster:
    """Three nats-server processes on loopback ports under `workdir` (for trying, tests and benchmarks)."""

    workdir: Path
    users: list[ClusterUser]
    topics: ProvinceTopics = field(default_factory=ProvinceTopics)
    size: int = 3
    nodes: list[Node] = field(default_factory=list)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        if not self.nodes:
            self.nodes = [Node(f"n{i + 1}", "127.0.0.1", _free_port(), _free_port(), _free_port(), _free_port())
                          for i in range(self.size)]
        for node in self.nodes:
            text = node_config(node, self.nodes, self.workdir / node.name / "jetstream", self.users, self.topics,
                               listen_host="127.0.0.1")
            (self.workdir / node.name).mkdir(parents=True, exist_ok=True)
            (self.workdir / f"{node.name}.conf").write_text(text, encoding="utf-8")

    @property
    def mqtt_urls(self) -> list[str]:
        return [f"mqtt://127.0.0.1:{n.mqtt_port}" for n in self.nodes]

    def start_node(self, node: Node) -> None:
        log = open(self.workdir / f"{node.name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[node.name] = subprocess.Popen([NATS_SERVER, "-c", str(self.workdir / f"{node.name}.conf")],
                                                 stdout=log, stderr=log, start_new_session=True)

    def start(self, timeout: float = 60.0) -> LocalCluster:
        for node in self.nodes:
            self.start_node(node)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Until every node reports JetStream healthy and serves MQTT; returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout
        pending = list(self.nodes)
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"NATS nodes not ready: {[n.name for n in pending]}; see {self.workdir}/*.log")
            pending = [n for n in pending if not self._healthy(n)]
            if pending:
                time.sleep(0.2)
        return time.monotonic() - start

    def _healthy(self, node: Node) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{node.monitor_port}/healthz", timeout=2) as r:
                if r.status != 200:
                    return False
        except OSError:
            return False
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", node.mqtt_port)) == 0

    def stop_node(self, name: str, kill: bool = False) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def stop(self, kill: bool = False) -> None:
        for name in list(self.procs):
            self.stop_node(name, kill)

    def restart(self, timeout: float = 90.0) -> float:
        """Stop every node, start them again; returns the seconds until all are ready."""
        self.stop()
        for node in self.nodes:
            self.start_node(node)
        return self.wait_ready(timeout)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]


def write_production(out: Path, hosts: list[str], users: list[ClusterUser], topics: ProvinceTopics) -> list[Path]:
    """One configuration per node for `hosts` (three machines), to copy to /etc/nats-server.conf on each."""
    nodes = [Node(f"nats-{i + 1}", host) for i, host in enumerate(hosts)]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for node in nodes:
        path = out / f"{node.name}.conf"
        path.write_text(node_config(node, nodes, "/var/lib/nats/jetstream", users, topics), encoding="utf-8")
        os.chmod(path, 0o640)
        written.append(path)
    return written
