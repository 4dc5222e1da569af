"""Drive the real kiosk app under Xvfb with simulated touches and keep a screenshot of every screen.

Run by tests/kiosk/test_kiosk_ui.py as its own process (Kivy owns one window per process):

    xvfb-run -a -s "-screen 0 1920x1080x24" python -m tests.kiosk.ui_driver ARGS.json

ARGS.json gives the server, broker URLs, window size, mode and the output directory. The script
walks every screen in Vietnamese and English, checks what each shows, writes `report.json` (what it
saw, or the error) and exits 0 only if every check passed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ARGS = json.loads(Path(sys.argv[1]).read_text())
OUT = Path(ARGS["out"])
OUT.mkdir(parents=True, exist_ok=True)

from kiosk.ui import boot  # noqa: E402 - Kivy is prepared before anything imports it

boot.prepare(Path(ARGS["state_dir"]), size=tuple(ARGS["size"]), fullscreen=False)

from kivy.core.window import Window  # noqa: E402

from kiosk.adapters import open_printer, open_scanner  # noqa: E402
from kiosk.bootstrap import build  # noqa: E402
from kiosk.settings import KioskSettings  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.touch_driver import Driver  # noqa: E402
from motcua import protocol as p  # noqa: E402
from motcua.broker_url import parse_broker_url  # noqa: E402
from motcua.client import DeviceClient  # noqa: E402
from motcua.settings import OfficeRef  # noqa: E402

EXTRA: dict[str, Any] = {}  # what the scripts found, added to the driver's report
SETTLE = 0.25  # seconds for layout and a drawn frame before a screenshot


def console() -> DeviceClient:
    return DeviceClient(parse_broker_url(ARGS["console_broker"]), ARGS["office"], "console", ARGS["prefix"]).connect()


def entrance(d: Driver) -> Iterator[Any]:
    app = d.app
    yield d.until(lambda: app.kiosk.link.online and app.kiosk.link.office.services, 15, "kiosk online with the office state")
    for lang in ("vi", "en"):
        app.lang = lang
        yield from take_a_number(d, lang)
        yield from procedures(d, lang)
        yield from dossier(d, lang)
        yield from vote(d, lang)
        if ARGS.get("bookings"):
            yield from check_in(d, lang, ARGS["bookings"][lang])
    yield from idle_goes_home(d)


def take_a_number(d: Driver, lang: str) -> Iterator[Any]:
    app = d.app
    yield SETTLE
    d.shot("home")
    d.tap(d.button(screen_id="take_number"))
    yield d.on("services")
    yield SETTLE
    closed = d.button(key="LD")
    d.check(closed.disabled, "a closed field is shown closed")
    d.shot("services")
    d.tap(d.button(key="HT"))
    yield d.on("priority")
    yield SETTLE
    d.shot("priority")
    d.tap(d.button(key="elderly") if lang == "en" else d.button(screen_id="regular"))
    yield d.on("ticket")
    screen = app.screen("ticket")
    yield d.until(lambda: screen.printed is not None, 10, "the ticket printed")
    yield SETTLE
    number = screen.ids.number.text
    d.check(number and number[0] == "1", f"a Tư pháp number on screen, got {number!r}")
    d.check(screen.printed.ok, "printed")
    EXTRA.setdefault("numbers", []).append(number)
    d.shot("ticket")
    d.tap(d.button(screen_id="done"))
    yield d.on("home")
    # A refused field (closed by an official since the screen was drawn) gets the kiosk's words.
    app.issue("LD", None)
    yield d.on("message")
    yield SETTLE
    field = next(s.name for s in app.kiosk.link.office.services if s.code == "LD")
    d.check(field in app.screen("message").message, "the refusal names the field")
    d.shot("message_refused")
    d.tap(d.button(screen_id="ok"))
    yield d.on("services")
    d.tap(d.button(screen_id="home"))
    yield d.on("home")


def procedures(d: Driver, lang: str) -> Iterator[Any]:
    app = d.app
    d.tap(d.button(screen_id="procedures"))
    yield d.on("procedures")
    screen = app.screen("procedures")
    yield d.until(lambda: screen.notice, 10, "the browse hint")
    if ARGS.get("export"):  # the catalogue copy (export endpoint) lists the fields to browse
        yield d.until(lambda: screen.ids.results.children, 10, "fields to browse")
    yield SETTLE
    d.shot("procedures_fields")
    for key in "khai sinh":
        d.tap(d.button(key="space" if key == " " else key.upper()))
    yield d.until(lambda: screen.answer is not None and screen.answer.results, 10, "search results")
    yield SETTLE
    d.check(screen.query == "khai sinh", f"typed text {screen.query!r}")
    d.shot("procedures_search")
    first = screen.answer.results[0]
    d.check(first["name"] == "Đăng ký khai sinh", f"plain letters found {first['name']!r}")
    d.tap(d.button(key=first["code"]))
    yield d.on("procedure")
    yield SETTLE
    d.shot("procedure")
    d.tap(d.button(screen_id="back"))
    yield d.on("procedures")
    d.tap(d.button(key="clear"))
    for key in "zzqx":
        d.tap(d.button(key=key.upper()))
    yield d.until(lambda: screen.answer is not None and screen.answer.query == "zzqx", 10, "no results")
    yield SETTLE
    d.check(screen.notice, "nothing found is said in words")
    d.shot("procedures_not_found")
    d.tap(d.button(screen_id="home"))
    yield d.on("home")


def dossier(d: Driver, lang: str) -> Iterator[Any]:
    app = d.app
    d.tap(d.button(screen_id="dossier"))
    yield d.on("dossier")
    for key in "000.17":
        d.tap(d.button(key=key))
    yield SETTLE
    d.check(app.screen("dossier").code == "000.17", "typed code")
    d.shot("dossier")
    app.kiosk.scanner.scan(ARGS["dossier_code"])  # the receipt held to the scanner
    yield d.on("dossier_result")
    yield SETTLE
    d.shot("dossier_result")
    d.tap(d.button(screen_id="details"))
    yield d.on("verify")
    for key in "2345":
        d.tap(d.button(key=key))
    yield SETTLE
    d.shot("verify")
    d.tap(d.button(screen_id="submit"))
    yield d.until(lambda: app.screen("dossier_result").verified, 10, "verified details")
    yield SETTLE
    d.shot("dossier_details")
    d.tap(d.button(screen_id="another"))
    yield d.on("dossier")
    d.tap(d.button(screen_id="home"))
    yield d.on("home")


def check_in(d: Driver, lang: str, code: str) -> Iterator[Any]:
    """A booked citizen types the booking's code (as printed, K7M2-Q9XA) and gets a ticket called at its time."""
    app = d.app
    d.check(app.takes_bookings and d.button(screen_id="booking").height > 0, "the home screen offers check-in")
    d.tap(d.button(screen_id="booking"))
    yield d.on("booking")
    screen = app.screen("booking")
    for key in "K7M":  # three letters are not a code: said on the screen, nothing sent
        d.tap(d.button(key=key))
    d.tap(d.button(screen_id="check_in"))
    yield d.until(lambda: screen.problem, 5, "a code too short is explained")
    yield SETTLE
    d.shot("booking_bad_code")
    d.tap(d.button(key="clear"))
    for key in f"{code[:4]}-{code[4:]}":
        d.tap(d.button(key=key))
    d.check(p.parse_booking_code(screen.code) == code, f"typed {screen.code!r}")
    yield SETTLE
    d.shot("booking")
    d.tap(d.button(screen_id="check_in"))
    yield d.on("ticket")
    ticket = app.screen("ticket")
    yield d.until(lambda: ticket.printed is not None, 10, "the booked ticket printed")
    yield SETTLE
    d.check(ticket.issued.ticket.slot_time is not None, "the ticket is called at the booking's time")
    d.check(ticket.issued.ticket.slot_time in ticket.ids.details.text, "the screen says the time")
    d.shot("ticket_booked")
    d.tap(d.button(screen_id="done"))
    yield d.on("home")


def vote(d: Driver, lang: str) -> Iterator[Any]:
    app = d.app
    # Take a number, have an official serve it, then rate it by scanning the ticket's QR.
    issued = app.kiosk.take_number.issue("CT")
    app.kiosk.take_number.print(issued)
    qr = app.kiosk.take_number.qr_text(issued.ticket)
    with console() as official:
        official.request("counter.sign_in", counter="Q2", staff="nv02")
        d.check(official.request("counter.call", counter="Q2", number=issued.ticket.number)["ok"], "called")
        d.check(official.request("counter.finish", counter="Q2")["ok"], "finished")
    d.tap(d.button(screen_id="vote"))
    yield d.on("vote_scan")
    yield SETTLE
    d.shot("vote_scan")
    app.kiosk.scanner.scan("not a ticket at all")
    yield d.on("dossier")  # anything that is not a ticket's QR is taken for a receipt
    yield d.until(lambda: app.screen("dossier").problem, 10, "a receipt that is not one")
    yield SETTLE
    d.shot("dossier_not_found")
    app.kiosk.scanner.scan(qr)
    yield d.on("rate")
    yield SETTLE
    d.shot("rate")
    d.tap(d.button(screen_id="unsatisfied"))
    yield d.on("reasons")
    d.tap(d.button(key="long_wait"))
    yield SETTLE
    d.shot("reasons")
    d.tap(d.button(screen_id="send"))
    yield d.on("thanks")
    yield SETTLE
    d.shot("thanks")
    yield d.on("home", timeout=app.settings.thanks_seconds + 5)
    app.kiosk.scanner.scan(qr)  # the same ticket again: one vote per ticket
    yield d.on("rate")
    d.tap(d.button(screen_id="satisfied"))
    yield d.on("message")
    yield SETTLE
    d.shot("message_already_voted")
    d.tap(d.button(screen_id="ok"))
    yield d.on("home")


def idle_goes_home(d: Driver) -> Iterator[Any]:
    app = d.app
    app.lang = "en"
    d.tap(d.button(screen_id="procedures"))
    yield d.on("procedures")
    yield d.on("home", timeout=app.settings.idle_seconds + 5)
    d.check(app.lang == "vi", "language back to Vietnamese after the idle timeout")
    EXTRA["idle_home"] = True


def offline(d: Driver) -> Iterator[Any]:
    app = d.app
    yield d.until(lambda: app.banner, 10, "the offline banner")
    for lang in ("vi", "en"):
        app.lang = lang
        yield SETTLE
        d.shot("home_offline")
        d.tap(d.button(screen_id="take_number"))
        yield d.on("services")
        yield SETTLE
        d.shot("services_offline")
        d.tap(d.button(screen_id="home"))
        yield d.on("home")
        app.issue("HT", None)
        yield d.on("ticket")
        yield d.until(lambda: app.screen("ticket").can_retry, 10, "the retry button")
        yield SETTLE
        d.shot("ticket_unanswered")
        d.tap(d.button(screen_id="done"))
        yield d.on("home")
        d.tap(d.button(screen_id="procedures"))
        yield d.on("procedures")
        d.tap(d.button(key="K"))
        d.tap(d.button(key="H"))
        d.tap(d.button(key="A"))
        yield d.until(lambda: app.screen("procedures").answer is not None, 10, "an offline answer")
        yield SETTLE
        d.shot("procedures_offline")
        d.tap(d.button(screen_id="home"))
        yield d.on("home")


def counter(d: Driver) -> Iterator[Any]:
    app = d.app
    yield d.until(lambda: app.kiosk.link.online and app.kiosk.link.counter is not None, 15, "counter state")
    with console() as official:
        official.request("counter.sign_in", counter=ARGS["counter"], staff="nv01")
        ticket = official.request("ticket.issue", service="HT")["ticket"]["number"]
        official.request("counter.call", counter=ARGS["counter"], number=ticket)
    yield d.until(lambda: app.screen("counter").number == ticket, 10, "the number served at the counter")
    for lang in ("vi", "en"):
        app.lang = lang
        yield SETTLE
        d.shot("counter_serving")
        # What the screen does when state/counter/{id} shows a newly finished ticket (last_finished).
        app.screen("rate").ask(ticket)
        app.go("rate")
        yield SETTLE
        d.shot("counter_rate")
        app.go("counter")
    EXTRA["counter_number"] = ticket


SCRIPTS = {"entrance": entrance, "offline": offline, "counter": counter}


def main() -> int:
    settings = KioskSettings(device=ARGS["device"], mode=ARGS["mode"], counter=ARGS.get("counter"), server_url=ARGS["server"],
                             state_dir=Path(ARGS["state_dir"]), idle_seconds=ARGS.get("idle_seconds", 60), thanks_seconds=2,
                             request_timeout=1.0)
    office = OfficeRef(ARGS["office"], ARGS["prefix"])
    parts = build(settings, office, parse_broker_url(ARGS["broker"]), simulate=True,
                  printer=open_printer({}, True, OUT / f"printed-{ARGS['label']}") if ARGS["mode"] == "entrance" else None,
                  scanner=open_scanner({"connection": "fake"}, False) if ARGS["mode"] == "entrance" else None)
    app = KioskApp(parts)
    driver = Driver(app, OUT, ARGS["label"])
    app.bind(on_start=lambda *_: driver.start(SCRIPTS[ARGS["script"]]))
    app.run()
    report = {**driver.report, **EXTRA, "size": list(Window.size)}
    (OUT / f"report-{ARGS['label']}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if report["error"] is None else 1


if __name__ == "__main__":
    assert p.CONTRACT_VERSION >= 1
    sys.exit(main())
