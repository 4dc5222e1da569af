"""Reports benchmark (issue 19): a year of a provincial centre, the dashboard, a simulated district day.

    .venv/bin/python bench/bench_reports.py [--tickets 120000] [--runs 5]

(a) builds the event log of a provincial centre's year (~120,000 numbers, 250 working days,
    16 counters) by driving the pure engine, stores it as the server would, and times the
    catch-up that derives the visit rows from it (a rebuild from scratch);
(b) adds the year's dossiers (~108,000, as the one-stop software pushes them) and times `build()`
    of reports over the whole year by day, week, month, quarter and year, dossier figures included
    (target: at most 300 ms each);
(c) times the dashboard of a busy day in progress on top of that year (target: 50 ms of
    server time), including the catch-up of the events since the last refresh; then the pages'
    refresh path itself: GET /api/reports/dashboard (a signed-in manager) and /api/reports/room over
    HTTP (uvicorn and Flask, as a page asks after a live change: session check, catch-up, figures,
    JSON), the answer every further screen gets for the same change, and 200 screens asking after
    one change;
(d) times `motcua simulate` of a whole district day (600 numbers, 6 counters) at full speed
    through the embedded broker (target: 10 s).
Prints the numbers and writes bench/results/reports.md.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_server import config as office_config
from queue_server.engine import Rejected, apply_all, decide, new_state, roll_day
from queue_server.engine import commands as c
from queue_server.engine import events as e
from queue_server.reports.dashboard import dashboard
from queue_server.reports.profile import Profile, arrivals, district_profile, service_seconds
from queue_server.reports.report import build
from queue_server.reports.simulate import simulate_office
from queue_server.reports.visits import ReportDB
from queue_server.store import DB_FILENAME, Store

ROOT = Path(__file__).resolve().parent.parent
FIELDS = [("HT", "Tư pháp - Hộ tịch"), ("CT", "Chứng thực"), ("DD", "Đất đai"), ("XD", "Xây dựng"), ("KD", "Đăng ký kinh doanh"),
          ("LD", "Lao động - Thương binh và Xã hội"), ("GT", "Giao thông vận tải"), ("TN", "Tài nguyên - Môi trường"),
          ("YT", "Y tế"), ("GD", "Giáo dục - Đào tạo")]


def centre_config() -> office_config.OfficeConfig:
    """A provincial centre: 10 fields, 16 counters (some shared), open weekdays and Saturday mornings."""
    services = [{"code": code, "name": name, "numbers": f"{i + 1}0001-{i + 1}9999"} for i, (code, name) in enumerate(FIELDS)]
    counters = []
    for i in range(16):
        fields = [FIELDS[i % 10][0]] if i < 10 else [FIELDS[(2 * i) % 10][0], FIELDS[(2 * i + 1) % 10][0]]
        counters.append({"id": f"Q{i + 1}", "name": f"Quầy {i + 1}", "services": fields})
    raw = {
        "office": {"id": "trung-tam-tinh", "name": "Trung tâm Phục vụ hành chính công tỉnh", "issue_outside_hours": False},
        "hours": {d: "07:00-11:30, 13:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": "07:00-11:30"},
        "services": services, "counters": counters, "devices": [{"id": "kiosk-01", "role": "kiosk"}, {"id": "console", "role": "admin"}],
        "reports": {"area": "provincial"},
    }
    return office_config.parse(raw)


class EngineDay:
    """Drive the pure engine through one day of a profile; collect the events as the store would log them."""

    def __init__(self, config: office_config.OfficeConfig, state: Any, rng: random.Random) -> None:
        self.config, self.state, self.rng = config, state, rng
        self.events: list[e.Event] = []
        self.tokens = 0

    def run(self, cmd: c.Command, now: datetime) -> list[e.Event]:
        rollover = roll_day(self.state, self.config, now)
        apply_all(self.state, self.config, rollover)
        out = decide(self.state, self.config, cmd, now)
        apply_all(self.state, self.config, out)
        self.events += rollover + out
        return out

    def day(self, profile: Profile, day: date) -> int:
        rng, config = self.rng, self.config
        spans = config.hours.get(day.weekday(), ())
        if not spans:
            return 0
        opening = datetime.combine(day, spans[0][0], config.tz)
        for cid in config.counters:
            self.run(c.SignIn(cid, f"cb-{cid.lower()}"), opening)
        heap: list[tuple[datetime, int, str, Any]] = []
        order = 0
        for moment, service in arrivals(profile, config, day, rng):
            heap.append((moment, order, "arrive", service))
            order += 1
        heapq.heapify(heap)
        idle = set(config.counters)
        issued = 0
        while heap:
            now, _, kind, what = heapq.heappop(heap)
            if kind == "arrive":
                self.tokens += 1
                self.run(c.IssueTicket(what, "elderly" if rng.random() < 0.08 else None, "kiosk-01", f"v{self.tokens}", f"p{self.tokens}"), now)
                issued += 1
                for cid in sorted(idle):
                    if what in config.counters[cid].services:
                        idle.discard(cid)
                        order += 1
                        heapq.heappush(heap, (now, order, "next", cid))
                        break
            elif kind == "next":
                try:
                    called = next(x for x in self.run(c.CallNext(what), now) if isinstance(x, e.TicketCalled))
                except Rejected:
                    idle.add(what)
                    continue
                ticket = self.state.tickets[called.ticket_id]
                order += 1
                if rng.random() < 0.03:  # a no-show: recalled after a minute, skipped after two
                    self.run(c.Recall(what), now + timedelta(minutes=1))
                    self.run(c.SkipNoShow(what), now + timedelta(minutes=2))
                    heapq.heappush(heap, (now + timedelta(minutes=2), order, "next", what))
                    continue
                done = now + timedelta(seconds=30 + service_seconds(profile, ticket.service, rng))
                heapq.heappush(heap, (done, order, "done", (what, ticket.id)))
            elif kind == "done":
                cid, tid = what
                ticket = self.state.tickets[tid]
                if rng.random() < 0.02:
                    target = rng.choice([s for s in config.services if s != ticket.service])
                    self.run(c.Transfer(cid, to_service=target), now)
                    for other in sorted(idle):
                        if target in config.counters[other].services:
                            idle.discard(other)
                            order += 1
                            heapq.heappush(heap, (now, order, "next", other))
                            break
                else:
                    self.run(c.Finish(cid), now)
                    if rng.random() < 0.6:
                        level = rng.choices(["very_satisfied", "satisfied", "unsatisfied"], [0.6, 0.35, 0.05])[0]
                        reasons = tuple(rng.sample(list(config.vote_reasons), rng.randint(0, 2)))
                        self.run(c.SubmitVote(ticket.vote_token, level, reasons), now + timedelta(seconds=20))
                order += 1
                heapq.heappush(heap, (now, order, "next", cid))
        closing = datetime.combine(day, spans[-1][1], config.tz) + timedelta(hours=1)
        for cid in config.counters:
            with contextlib.suppress(Rejected):
                self.run(c.SignOut(cid), max(closing, now))
        return issued


def write_events(store: Store, events: list[e.Event], day: str) -> None:
    rows = []
    seq = store.last_seq
    for event in events:
        seq += 1
        type_name, data = e.to_record(event)
        rows.append((seq, uuid.uuid4().hex, store.office_id, type_name, data["at"], day, None, None, json.dumps(data, ensure_ascii=False)))
    with store.db.atomic():
        store.db.conn.executemany(
            "INSERT INTO events (seq, id, office, type, at, business_day, device, request_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    store.last_seq = seq


def build_year(directory: Path, tickets: int, first: date) -> tuple[office_config.OfficeConfig, int, int, float]:
    config = centre_config()
    profile = district_profile(config, weekday_numbers=tickets / (250 + 52 * 0.37 * 0.6))
    store = Store(directory / DB_FILENAME, config.id)
    state = new_state(config)
    rng = random.Random(2026)
    issued = 0
    t0 = time.perf_counter()
    day = first
    while day < first + timedelta(days=365):
        driver = EngineDay(config, state, rng)
        issued += driver.day(profile, day)
        if driver.events:
            write_events(store, driver.events, day.isoformat())
        day += timedelta(days=1)
    events = store.last_seq
    store.close()
    return config, issued, events, time.perf_counter() - t0


def add_dossiers(path: Path, first: date, count: float) -> int:
    """A year of dossiers as the one-stop software would push them (status, due dates, who received, apologies)."""
    from queue_server.dossiers import db as ddb

    db = ddb.connect(path)
    rng = random.Random(7)
    start = datetime.combine(first, datetime.min.time(), UTC) + timedelta(hours=1)
    rows, history = [], []
    for i in range(int(count)):
        received = start + timedelta(minutes=rng.uniform(0, 364 * 24 * 60))
        due = (received + timedelta(days=rng.randint(1, 15))).date().isoformat()
        late = rng.random() < 0.01
        finished = None if rng.random() < 0.04 else received + timedelta(days=rng.uniform(16, 20) if late else rng.uniform(0, 0.9))
        status = "returned" if finished else "processing"
        code = f"000.00.22.H56-{received:%y%m%d}-{i:06d}"
        rows.append((code, "bench", ddb.ts(received), status, ddb.ts(finished or received), "1.001193", "Đăng ký khai sinh",
                     ddb.ts(received), due, None, None, None, None, rng.choice(FIELDS)[0], "[]", None, None,
                     ddb.ts(finished) if finished else None, ddb.ts(received), f"cb-q{rng.randint(1, 16)}",
                     (1 if rng.random() < 0.4 else 0) if late else None))
        if rng.random() < 0.08:
            history.append((code, "needs_documents", ddb.ts(received + timedelta(hours=2)), ddb.ts(received)))
    with db.atomic():
        db.conn.executemany(ddb.UPSERT, rows)
        db.conn.executemany("INSERT OR IGNORE INTO dossier_history VALUES (?, ?, ?, ?)", history)
    db.close()
    return len(rows)


class PageServer:
    """What the web app needs of a running server (queue_server.web.support.WebContext), over the year's database."""

    def __init__(self, config: office_config.OfficeConfig, db_path: Path, now: datetime) -> None:
        from motcua.clock import FakeClock
        from motcua.protocol import Topics
        from queue_server.live import LiveHub

        self.config, self.db_path, self.clock = config, db_path, FakeClock(now)
        self.topics = Topics(config.id, config.topic_prefix)
        self.hub = LiveHub(self.topics.base)

    def current_snapshot(self) -> dict[str, Any]:
        return {}

    def change(self, n: int) -> None:
        """A committed change the pages hear about: a counter's new state."""
        from queue_server.office import Outbound

        cid = f"Q{n % 16 + 1}"
        self.hub.publish([Outbound(self.topics.state_counter(cid), {"counter": cid, "status": "serving", "staff": f"cb-{cid.lower()}",
                                                                     "updated_at": self.clock.now().isoformat(), "n": n}, retain=True)])


def signed_in_manager(store: Store, now: datetime) -> str:
    """A manager's account and session, as a login would leave them; returns the Cookie header of the session."""
    import secrets

    from queue_server.staff.model import MANAGER, StaffMember
    from queue_server.staff.store import SessionRecord, StaffStore, token_hash
    from queue_server.store import write_transaction
    from queue_server.web.auth import SESSION_COOKIE

    staff = StaffStore(store.db).migrate()
    token = secrets.token_urlsafe(32)
    with write_transaction(store.db):
        staff.save(StaffMember("truong-bp", "Trưởng bộ phận", MANAGER), now)
        staff.add_session(SessionRecord(token_hash(token), "truong-bp", secrets.token_urlsafe(16), now, now, None))
    return f"{SESSION_COOKIE}={token}"


def page_refresh(config: office_config.OfficeConfig, db_path: Path, store: Store, events: list[e.Event], day: date,
                 now: datetime) -> list[tuple[str, str]]:
    """(c) continued: the refresh a page makes after a live change, over real HTTP (loopback)."""
    import urllib.request

    from bench.support import free_port
    from queue_server.web import reports as web_reports
    from queue_server.web.serve import serve

    server = PageServer(config, db_path, now)
    cookie = signed_in_manager(store, now)
    port = free_port()
    http = serve(server, "127.0.0.1", port)
    web_reports.BOARD_MIN_SECONDS = 0.0  # measure every change's computation (a running server makes at most one per 2 s)

    def get(path: str) -> tuple[float, int]:
        t0 = time.perf_counter()
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=30) as response:
            size = len(response.read())
        return (time.perf_counter() - t0) * 1000, size

    try:
        get("/api/reports/dashboard")  # opens the report connection, as the first page of the day does
        misses, hits, rooms, size = [], [], [], 0
        for chunk in range(20):
            write_events(store, events[chunk * 5:(chunk + 1) * 5], day.isoformat())
            server.change(chunk)
            ms, size = get("/api/reports/dashboard")
            misses.append(ms)
            hits.append(get("/api/reports/dashboard")[0])
            rooms.append(get("/api/reports/room")[0])
        write_events(store, events[100:105], day.isoformat())
        server.change(100)
        t0 = time.perf_counter()
        for i in range(200):  # 200 screens after one change: one computation, 199 copies
            get("/api/reports/room" if i % 2 else "/api/reports/dashboard")
        crowd_ms = (time.perf_counter() - t0) * 1000
    finally:
        http.shutdown()
    miss, hit, room = statistics.median(misses), statistics.median(hits), statistics.median(rooms)
    return [
        (f"(c) page refresh over HTTP after a change: median {miss:.1f} ms, max {max(misses):.1f} ms ({size / 1024:.0f} KB); "
         f"the same change for the next screen {hit:.1f} ms, room screen {room:.1f} ms",
         f"| (c) page refresh over HTTP after a change (GET /api/reports/dashboard, uvicorn + Flask; median / max of 20) | "
         f"{miss:.1f} / {max(misses):.1f} ms | ≤ 50 ms |"),
        (f"(c) every further screen for the same change: {hit:.1f} ms (manager), {room:.1f} ms (room)",
         f"| (c) every further screen for the same change (median: manager / room) | {hit:.1f} / {room:.1f} ms | |"),
        (f"(c) 200 screens after one change, one after the other: {crowd_ms:.0f} ms in all",
         f"| (c) 200 screens asking after one change, one after another (one computation) | {crowd_ms:.0f} ms in all | |"),
    ]


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=120_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    first = date(2025, 1, 6)
    lines = ["## Reports, dashboard and simulator (bench/bench_reports.py)", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}, {platform.system()}", ""]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config, issued, events, gen_s = build_year(directory, args.tickets, first)
        print(f"generated a year: {issued:,} numbers, {events:,} events in {gen_s:.1f} s", flush=True)
        rdb = ReportDB(directory / DB_FILENAME, config)
        t0 = time.perf_counter()
        folded = rdb.catch_up()
        catch_s = time.perf_counter() - t0
        visits = rdb.db.execute("SELECT COUNT(*) FROM report_visits").fetchone()[0]
        print(f"(a) visit rows from the log: {folded:,} events -> {visits:,} visits in {catch_s:.1f} s ({folded / catch_s:,.0f} events/s)")
        lines += ["| measure | result | target |", "| --- | --- | --- |",
                  f"| a year of a provincial centre | {issued:,} numbers, {events:,} events, {visits:,} visit rows | about 120,000 numbers |",
                  f"| (a) derive the visit rows from the log (rebuild) | {catch_s:.1f} s ({folded / catch_s:,.0f} events/s) | off the hot path |"]
        dossiers = add_dossiers(directory / DB_FILENAME, first, issued * 0.9)
        t0 = time.perf_counter()
        rdb.refresh_dossiers()
        refresh_s = time.perf_counter() - t0
        print(f"(a) dossier day counts: {dossiers:,} dossiers counted from scratch in {refresh_s:.1f} s")
        lines.append(f"| (a) dossier day counts from scratch ({dossiers:,} dossiers) | {refresh_s:.1f} s | once; then only changed days |")
        last = first + timedelta(days=364)
        worst = 0.0
        for period in ("day", "week", "month", "quarter", "year"):
            ms, report = timed(lambda p=period: build(rdb, first, last, period=p, now=datetime.now(UTC)), args.runs)
            worst = max(worst, ms)
            print(f"(b) report of the year by {period}: {ms:.0f} ms (median of {args.runs}); {report['summary']['issued']:,} numbers, "
                  f"{report['dossiers']['summary']['received']:,} dossiers, {len(report['by_period'])} periods")
            lines.append(f"| (b) report of the whole year by {period} (median of {args.runs}) | {ms:.0f} ms | ≤ 300 ms |")

        # (c) a busy day in progress on top of the year: 600 numbers by the afternoon, then refreshes.
        store = Store(directory / DB_FILENAME, config.id)
        state = new_state(config)
        today = last + timedelta(days=3)
        while today.weekday() != 1:
            today += timedelta(days=1)
        driver = EngineDay(config, state, random.Random(5))
        driver.day(district_profile(config, 600), today)
        cut = [i for i, ev in enumerate(driver.events) if ev.at.astimezone(config.tz).hour >= 15]
        morning, rest = driver.events[: cut[0]], driver.events[cut[0]:]
        write_events(store, morning, today.isoformat())
        rdb.catch_up()
        now = morning[-1].at
        samples = []
        for chunk in range(20):  # each refresh first folds the few events since the last one
            write_events(store, rest[chunk * 5:(chunk + 1) * 5], today.isoformat())
            t0 = time.perf_counter()
            board = dashboard(rdb, now)
            samples.append((time.perf_counter() - t0) * 1000)
        page = page_refresh(config, directory / DB_FILENAME, store, rest[100:], today, now)
        store.close()
        dash_ms = statistics.median(samples)
        print(f"(c) dashboard of a busy day ({board['summary']['issued']} numbers so far) on top of the year: "
              f"median {dash_ms:.1f} ms, max {max(samples):.1f} ms")
        lines.append(f"| (c) dashboard refresh, busy day on top of the year (median / max of 20) | {dash_ms:.1f} / {max(samples):.1f} ms | ≤ 50 ms |")
        for line in page:
            print(line[0])
            lines.append(line[1])
        rdb.close()

    with tempfile.TemporaryDirectory() as tmp:
        example = office_config.load(ROOT / "firmware_config" / "office.example.toml")
        t0 = time.perf_counter()
        stats = simulate_office(example, district_profile(example, 600), date(2026, 11, 23), data_dir=Path(tmp), seed=1)
        sim_s = time.perf_counter() - t0
    print(f"(d) simulate a district day at full speed: {stats.issued} numbers, {stats.requests} requests over MQTT in {sim_s:.1f} s "
          f"(server start and stop included)")
    lines.append(f"| (d) `motcua simulate` of a district day (6 counters, {stats.issued} numbers, {stats.requests} requests), embedded broker | "
                 f"{sim_s:.1f} s | ≤ 10 s |")
    lines += ["", f"Worst report: {worst:.0f} ms. Generated by `bench/bench_reports.py` on {date.today()}."]
    out = ROOT / "bench" / "results" / "reports.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
