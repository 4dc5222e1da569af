"""Throwaway PostgreSQL and a NATS cluster with users, for the province tests and benchmarks.

PostgreSQL refuses to run as root; as root (CI, this machine) initdb and the server run as
Debian's `postgres` user (created by the postgresql package), in a directory it owns.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.support import free_port
from queue_server.province.cluster import ClusterUser, LocalCluster, hash_password
from queue_server.province.credentials import Credential

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_pg_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class LocalPostgres:
    """initdb + pg_ctl on a free loopback port; `dsn` has the password (scram) for the tests' own use."""

    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    user: str = "motcua_hub"
    workdir: Path | None = None

    def start(self) -> LocalPostgres:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError("PostgreSQL 15 is not installed: run ./setup.sh test (apt-get install postgresql-15)")
        self.workdir = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
        pwfile = self.workdir / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(pwfile, 0o600)
        data = self.workdir / "data"
        subprocess.run(_as_pg_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", self.user, "-A", "scram-sha-256",
                                    f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        pwfile.unlink()
        for attempt in range(3):  # a free port can be taken by someone else before the server binds it
            options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB"
            started = subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                                  str(self.workdir / "log"), "-w", "start"]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if started.returncode == 0:
                break
            if attempt == 2:
                raise RuntimeError(f"PostgreSQL did not start: {(self.workdir / 'log').read_text()[-500:]}")
            self.port = free_port()
        subprocess.run(["psql", self.admin_dsn("postgres"), "-qc", "CREATE DATABASE motcua_hub"], check=True)
        return self

    def admin_dsn(self, db: str = "motcua_hub") -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{db}"

    @property
    def dsn(self) -> str:
        """Without the password, as a hub configuration has it (the password comes from PGPASSWORD)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/motcua_hub"

    def env(self) -> dict[str, str]:
        return {"PGPASSWORD": self.password}

    def stop(self) -> None:
        if self.workdir and (self.workdir / "data").exists():
            subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(self.workdir / "data"), "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class ProvinceCredentials:
    """A password per office and one for the hub, with the cluster users built from them."""

    hub: Credential = field(default_factory=lambda: Credential("hub", secrets.token_hex(12)))
    offices: dict[str, Credential] = field(default_factory=dict)
    shared_password: str | None = None  # benchmarks: one password for hundreds of simulated offices
    rounds: int = 4  # tests and benchmarks only: production configurations use hash_password's default

    def office(self, office: str) -> Credential:
        if office not in self.offices:
            self.offices[office] = Credential(office, self.shared_password or secrets.token_hex(12))
        return self.offices[office]

    def users(self) -> list[ClusterUser]:
        # One hash, reused: bcrypt is slow by design and a benchmark has hundreds of offices.
        cache: dict[str, str] = {}

        def hashed(password: str) -> str:
            if password not in cache:
                cache[password] = hash_password(password, self.rounds)
            return cache[password]

        return [ClusterUser(self.hub.username, hashed(self.hub.password))] + [
            ClusterUser(c.username, hashed(c.password), office=o) for o, c in self.offices.items()]


def start_cluster(workdir: Path, credentials: ProvinceCredentials) -> LocalCluster:
    workdir.mkdir(parents=True, exist_ok=True)
    return LocalCluster(workdir, credentials.users()).start()


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition") -> float:
    """Poll `predicate` until true; the seconds it took (raises TimeoutError)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - start


COUNTER_DEVICES = {"Q1": "quay-01", "Q2": "quay-02", "Q3": "quay-03", "Q4": "quay-04", "Q5": "quay-05"}
SERVICES = ("HT", "DD", "XD", "KD", "LD", "CT")
LEVELS = ("very_satisfied", "satisfied", "satisfied", "unsatisfied")


def simulate_office(data_dir: Path, config, events: int, seed: int = 1, start=None) -> int:
    """Run the real engine and store over simulated working days until the log has `events` events.

    Citizens take numbers at kiosk-01, officials at Q1-Q5 call them ("counter.next" finishes
    the previous one), and most vote: the same events a real office writes. Returns the last seq.
    """
    import json
    import random
    import uuid
    from datetime import datetime, timedelta

    from motcua.clock import FakeClock
    from queue_server.office import Office
    from queue_server.staff.accounts import ensure_officials
    from queue_server.store import Store

    rng = random.Random(seed)
    clock = FakeClock(start or datetime.fromisoformat("2026-11-16T08:00:00+07:00"))
    store = Store.in_dir(data_dir, config.id)
    office = Office(config, store, clock)
    # counter.sign_in names real accounts (issue 16): password-less officials, one per counter.
    office.record(ensure_officials({f"nv-{c.lower()}": [c] for c in COUNTER_DEVICES}, config.counters, by="bench"))

    def msg(device: str, op: str, **fields) -> tuple[str, bytes]:
        return device, json.dumps({"id": uuid.uuid4().hex, "op": op, **fields}).encode()

    tokens: list[str] = []
    issued: dict[str, str] = {}  # number -> vote token, from the kiosk's reply (only the kiosk gets tokens)
    try:
        while store.last_seq < events:
            day_start = clock.now()
            office.handle_batch([msg("console", "counter.sign_in", counter=c, staff=f"nv-{c.lower()}") for c in COUNTER_DEVICES])
            while store.last_seq < events and clock.now() - day_start < timedelta(hours=8):
                batch = [msg("kiosk-01", "ticket.issue", service=rng.choice(SERVICES)) for _ in range(rng.randint(0, 3))]
                batch += [msg(device, "counter.next") for device in COUNTER_DEVICES.values() if rng.random() < 0.4]
                while tokens and rng.random() < 0.7:
                    batch.append(msg("kiosk-01", "vote.submit", token=tokens.pop(), level=rng.choice(LEVELS)))
                for out in office.handle_batch(batch):
                    payload = out.payload if isinstance(out.payload, dict) else {}
                    ticket = payload.get("ticket") or {}
                    if payload.get("op") == "ticket.issue" and ticket.get("vote_token"):
                        issued[ticket["number"]] = ticket["vote_token"]
                    finished = payload.get("finished") if payload.get("op") == "counter.next" else None
                    if finished in issued and rng.random() < 0.8:  # "done, next" finished it: its citizen may vote
                        tokens.append(issued.pop(finished))
                clock.advance(rng.uniform(20, 90))
            clock.advance((day_start + timedelta(days=1) - clock.now()).total_seconds())
        return store.last_seq
    finally:
        store.close()
