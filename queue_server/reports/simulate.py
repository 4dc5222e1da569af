"""Virtual citizens and officials that drive a running office over MQTT, on a clock the simulation moves.

Design (docs/reports.md, "Simulator"): `motcua simulate` starts its own in-process queue server
(embedded broker, or --broker for a Mosquitto) whose clock is a FakeClock. The simulation is a
discrete-event loop: it takes the next thing that happens (a citizen arrives, an official
finishes, a no-show is recalled...), sets the server's clock to that moment, sends the real
request as the real device would (kiosk-01 takes numbers, each counter's own device calls) and
waits for the reply before moving on. So the server sees exactly the traffic of a real day, in
order, at the simulated times, and the same seed gives the same day. At `speed` > 0 it sleeps
between events (speed 60: an hour in a minute), so a demo can watch the dashboard come alive;
speed 0 runs as fast as the server answers.

Against a server that keeps its own (system) clock (--broker without --own-server), speed must be 1.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time as systime
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from motcua.client import DeviceClient
from queue_server.config import OfficeConfig
from queue_server.reports.profile import Profile, arrivals, service_seconds

POSITIVE_REASONS = ("friendly", "fast", "clear_guidance")


@dataclass
class Citizen:
    service: str
    priority: bool
    no_show: bool
    requeues: bool
    transfer_to: str | None
    ticket: dict[str, Any] | None = None


@dataclass
class CounterSim:
    id: str
    device: str
    staff: str
    services: tuple[str, ...]
    priority_only: bool
    busy: bool = False
    current: Citizen | None = None


@dataclass
class SimStats:
    days: int = 0
    arrivals: int = 0
    issued: int = 0
    refused: int = 0
    served: int = 0
    no_shows: int = 0
    transfers: int = 0
    votes: int = 0
    requests: int = 0
    wall_seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)


class Simulation:
    """One office's simulated traffic. `clock` is the server's FakeClock (None: a server with its own clock)."""

    def __init__(self, config: OfficeConfig, profile: Profile, broker: Any, clock: Any = None, seed: int = 1,
                 speed: float = 0.0, log: Callable[[str], None] | None = None, credentials: Any = None) -> None:
        self.config = config
        self.credentials = credentials  # the devices' secrets file (None: MOTCUA_CREDENTIALS)
        self.profile = profile
        self.broker = broker
        self.clock = clock
        self.rng = random.Random(seed)
        self.speed = speed
        self.log = log or (lambda line: None)
        self.stats = SimStats()
        self._events: list[tuple[datetime, int, str, Any]] = []
        self._order = itertools.count()
        self.clients: dict[str, DeviceClient] = {}
        self.counters: list[CounterSim] = []
        self.by_number: dict[str, Citizen] = {}
        self._wall_start = 0.0
        self._sim_start: datetime | None = None
        self.reasons_ok = [r for r in config.vote_reasons if r in POSITIVE_REASONS] or list(config.vote_reasons)
        self.reasons_bad = [r for r in config.vote_reasons if r not in POSITIVE_REASONS] or list(config.vote_reasons)

    # --- devices -----------------------------------------------------------------------

    def _device(self, role: str, counter: str | None = None) -> str:
        for d in self.config.devices.values():
            if d.role == role and (counter is None or d.counter == counter):
                return d.id
        admin = next((d.id for d in self.config.devices.values() if d.role == "admin"), None)
        if admin is None:
            raise ValueError(f"the configuration declares no {role} device{f' for {counter}' if counter else ''} and no admin device")
        return admin

    def _client(self, device: str) -> DeviceClient:
        if device not in self.clients:
            self.clients[device] = DeviceClient(self.broker, self.config.id, device, self.config.topic_prefix,
                                                credentials=self.credentials).connect()
        return self.clients[device]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()

    def ask(self, device: str, op: str, **fields: Any) -> dict[str, Any]:
        self.stats.requests += 1
        reply = self._client(device).request(op, timeout=10, **fields)
        if not reply.get("ok"):
            code = reply["error"]["code"]
            self.stats.errors[code] = self.stats.errors.get(code, 0) + 1
            self.log(f"{self.clock.now() if self.clock else ''} {op} {fields}: {code}")
        return reply

    # --- the event loop ------------------------------------------------------------------

    def _at(self, when: datetime, kind: str, payload: Any = None) -> None:
        heapq.heappush(self._events, (when, next(self._order), kind, payload))

    def _move_clock(self, when: datetime) -> None:
        if self.speed > 0 and self._sim_start is not None:
            due = self._wall_start + (when - self._sim_start).total_seconds() / self.speed
            pause = due - systime.monotonic()
            if pause > 0:
                systime.sleep(pause)
        if self.clock is not None:
            delta = (when - self.clock.now()).total_seconds()
            if delta > 0:
                self.clock.advance(delta)

    def run(self, first_day: date, days: int = 1, until: datetime | None = None) -> SimStats:
        """Simulate `days` days from `first_day`; with `until`, stop at that moment (the office left mid-day, as it is)."""
        wall = systime.monotonic()
        self._wall_start = wall
        for offset in range(days):
            if not self._run_day(first_day + timedelta(days=offset), until):
                break
        self.stats.wall_seconds = systime.monotonic() - wall
        return self.stats

    def _run_day(self, day: date, until: datetime | None = None) -> bool:
        """One day; False when `until` came first (the day is left in progress)."""
        spans = self.config.hours.get(day.weekday(), ()) if self.config.hours else ((time(7), time(17)),)
        if not spans:
            return True
        self.stats.days += 1
        opening = datetime.combine(day, spans[0][0], self.config.tz)
        if self._sim_start is None:
            self._sim_start = opening
        self.counters = [
            CounterSim(c.id, self._device("counter", c.id), f"nv-{i + 1:02d}", c.services, c.priority_only)
            for i, c in enumerate(self.config.counters.values())
        ]
        self.by_number.clear()
        self._at(opening - timedelta(minutes=5), "open")
        for moment, service in arrivals(self.profile, self.config, day, self.rng):
            self._at(moment, "arrive", self._citizen(service))
        while self._events:
            if until is not None and self._events[0][0] > until:
                self._move_clock(until)
                return False
            when, _, kind, payload = heapq.heappop(self._events)
            self._move_clock(when)
            getattr(self, f"_on_{kind}")(when, payload)
        closing = datetime.combine(day, spans[-1][1], self.config.tz)
        self._move_clock(max(closing, self.clock.now() if self.clock else closing) + timedelta(minutes=1))
        for c in self.counters:
            self.ask(c.device, "counter.sign_out", counter=c.id)
        return True

    def _citizen(self, service: str) -> Citizen:
        p, rng = self.profile, self.rng
        others = [s for s in self.config.services if s != service]
        return Citizen(
            service=service, priority=rng.random() < p.priority_share, no_show=rng.random() < p.no_show_share,
            requeues=rng.random() < p.requeue_share,
            transfer_to=rng.choice(others) if others and rng.random() < p.transfer_share else None,
        )

    # --- what happens --------------------------------------------------------------------

    def _on_open(self, when: datetime, _: Any) -> None:
        for c in self.counters:
            self.ask(c.device, "counter.sign_in", counter=c.id, staff=c.staff)

    def _on_arrive(self, when: datetime, citizen: Citizen) -> None:
        self.stats.arrivals += 1
        reply = self._take_number(citizen)
        if not reply.get("ok"):
            self.stats.refused += 1
            return
        self.stats.issued += 1
        citizen.ticket = reply["ticket"]
        self.by_number[citizen.ticket["number"]] = citizen
        self._wake(citizen.service, citizen.priority, when)

    def _take_number(self, citizen: Citizen) -> dict[str, Any]:
        """The kiosk request that gives an arriving citizen a ticket (a booked one checks in instead)."""
        return self.ask(self._device("kiosk"), "ticket.issue", service=citizen.service, priority=citizen.priority)

    def _wake(self, service: str, priority: bool, when: datetime) -> None:
        """Idle counters that could take a ticket of this service try to call (the server picks whom)."""
        for c in self.counters:
            if not c.busy and service in c.services and (priority or not c.priority_only) and self._call_next(c, when):
                return

    def _call_next(self, c: CounterSim, when: datetime) -> bool:
        """counter.next (which also finishes the current visit); False when nobody waits for this counter."""
        reply = self.ask(c.device, "counter.next", counter=c.id)
        if not reply.get("ok"):
            if c.current is not None:  # nobody to call: finish the visit explicitly
                self.ask(c.device, "counter.finish", counter=c.id)
            c.busy, c.current = False, None
            return False
        c.busy = True
        citizen = self.by_number.get(reply["ticket"]["number"])
        c.current = citizen
        if citizen is None:  # a ticket not ours (someone else uses the office too): serve it for the default time
            self._at(when + timedelta(minutes=self.config.rules.default_service_minutes), "done", c)
        elif citizen.no_show:
            self._at(when + timedelta(seconds=60), "recall", c)
        else:
            self._serve(c, citizen, when)
        return True

    def _serve(self, c: CounterSim, citizen: Citizen, when: datetime) -> None:
        duration = service_seconds(self.profile, citizen.service, self.rng, self.config.rules.default_service_minutes)
        if citizen.transfer_to:
            self._at(when + timedelta(seconds=self.profile.walk_seconds + duration / 2), "transfer", c)
        else:
            self._at(when + timedelta(seconds=self.profile.walk_seconds + duration), "done", c)

    def _on_recall(self, when: datetime, c: CounterSim) -> None:
        self.ask(c.device, "counter.recall", counter=c.id)
        self._at(when + timedelta(seconds=60), "skip", c)

    def _on_skip(self, when: datetime, c: CounterSim) -> None:
        citizen = c.current
        self.ask(c.device, "counter.skip", counter=c.id)
        self.stats.no_shows += 1
        c.current = None
        if citizen is not None and citizen.requeues and citizen.ticket:
            self._at(when + timedelta(minutes=self.rng.uniform(5, 25)), "come_back", citizen)
        self._call_next(c, when)

    def _on_come_back(self, when: datetime, citizen: Citizen) -> None:
        citizen.no_show = False  # this time they stay
        if self.ask(self._device("admin"), "ticket.requeue", number=citizen.ticket["number"]).get("ok"):
            self._wake(citizen.service, citizen.priority, when)

    def _on_transfer(self, when: datetime, c: CounterSim) -> None:
        citizen = c.current
        assert citizen is not None and citizen.transfer_to
        if self.ask(c.device, "counter.transfer", counter=c.id, to_service=citizen.transfer_to).get("ok"):
            self.stats.transfers += 1
            citizen.service, citizen.transfer_to = citizen.transfer_to, None
            c.current = None
            self._call_next(c, when)
            self._wake(citizen.service, citizen.priority, when)
        else:
            self._on_done(when, c)

    def _on_done(self, when: datetime, c: CounterSim) -> None:
        citizen = c.current
        self.stats.served += 1
        if citizen is not None and citizen.ticket and self.rng.random() < self.profile.vote_share:
            self._at(when + timedelta(seconds=20), "vote", citizen)
        self._call_next(c, when)

    def _on_vote(self, when: datetime, citizen: Citizen) -> None:
        level = self.rng.choices(["very_satisfied", "satisfied", "unsatisfied"], self.profile.vote_levels)[0]
        pool = self.reasons_bad if level == "unsatisfied" else self.reasons_ok
        reasons = self.rng.sample(pool, min(len(pool), self.rng.randint(0, 2)))
        if self.ask(self._device("kiosk"), "vote.submit", token=citizen.ticket["vote_token"], level=level, reasons=reasons).get("ok"):
            self.stats.votes += 1


def simulate_office(config: OfficeConfig, profile: Profile, first_day: date, days: int = 1, *, data_dir: Any, seed: int = 1,
                    speed: float = 0.0, broker: Any = None, mqtt_listen: tuple[str, int] | None = None,
                    http_listen: tuple[str, int] | None = None, log: Callable[[str], None] | None = None,
                    simulation: Callable[..., Simulation] | None = None) -> SimStats:
    """Run an in-process queue server on a FakeClock and drive it with `days` simulated days
    (`simulation`: another kind of traffic, e.g. queue_server.appointments.simulate.BookedSimulation)."""
    from motcua.clock import FakeClock
    from queue_server.bootstrap import bootstrap
    from queue_server.credentials import SECRETS_FILE
    from queue_server.server import ServerOptions

    spans = config.hours.get(first_day.weekday(), ()) or ((time(7), time(17)),)
    clock = FakeClock(datetime.combine(first_day, spans[0][0], config.tz) - timedelta(minutes=10))
    options = ServerOptions(data_dir=data_dir, broker=broker, mqtt_listen=mqtt_listen or ("127.0.0.1", _free_port()),
                            http_listen=http_listen)
    server = bootstrap(config, options, clock=clock)
    try:
        last = server.store.last_seq and server.store.events_after(server.store.last_seq - 1, 1)
        if last and datetime.fromisoformat(last[0].at) > clock.now():
            raise ValueError(f"{server.db_path} already has events after {first_day}: simulate later days or use another --data")
        if log and http_listen:
            log(f"HTTP: http://{http_listen[0]}:{http_listen[1]}/api/reports/dashboard")
        from queue_server.staff.accounts import ensure_officials

        # Counters sign in real accounts (issue 16): one password-less official per counter, as the simulation names them.
        officials = {f"nv-{i + 1:02d}": [cid] for i, cid in enumerate(server.config.counters)}
        server.record(ensure_officials(officials, server.config.counters, by="simulator"))
        # A broker the server runs itself has the credentials it generated; an external one, the devices' own.
        secrets = server.credentials_dir / SECRETS_FILE if server.broker is not None else None
        sim = (simulation or Simulation)(config, profile, server.broker_url, clock=clock, seed=seed, speed=speed, log=log, credentials=secrets)
        try:
            return sim.run(first_day, days)
        finally:
            sim.close()
    finally:
        server.stop()


def _free_port() -> int:
    """A free loopback port for the embedded broker (the simulation's own office)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
