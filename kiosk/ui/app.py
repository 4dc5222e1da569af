"""The Kivy application: screens, language, idle timeout, status banner; flows run off the UI thread.

Import `kiosk.ui.boot` and call `prepare()` before this module: importing Kivy reads its settings.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.bootstrap import Kiosk
from kiosk.flows import dossiers as dossier_flow
from kiosk.flows.arrival import Arrived, confirm_arrival, read_scan
from kiosk.flows.outcome import Problem
from kiosk.flows.take_number import PRINTER_FAULTS, Issued
from kiosk.flows.voting import Ballot, CounterWatch, submit_counter_vote, submit_ticket_vote, vote_token_of
from kiosk.ui import screens as s
from kiosk.ui import theme as T
from kiosk.ui.boot import font_files
from kiosk.ui.widgets import InstantTransition
from motcua import i18n
from motcua import protocol as p
from motcua.systemd import Notifier

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).with_name("screens.kv")
PRINTER_POLL_SECONDS = 30
WAITING_AFTER = 0.3  # seconds without a reply before the ticket screen says "getting your number"
CACHE_REFRESH_SECONDS = 300
SCREENS = {
    "home": s.HomeScreen, "services": s.ServicesScreen, "priority": s.PriorityScreen, "ticket": s.TicketScreen,
    "message": s.MessageScreen, "procedures": s.ProceduresScreen, "procedure": s.ProcedureScreen,
    "booking": s.BookingScreen, "dossier": s.DossierScreen, "dossier_result": s.DossierResultScreen, "verify": s.VerifyScreen,
    "vote_scan": s.VoteScanScreen, "rate": s.RateScreen, "reasons": s.ReasonsScreen, "thanks": s.ThanksScreen,
    "counter": s.CounterScreen,
}
ENTRANCE_ONLY = {"home", "services", "priority", "ticket", "booking", "procedures", "procedure", "dossier", "dossier_result", "verify", "vote_scan"}


class KioskRoot(BoxLayout):
    pass


class KioskApp(App):
    lang = StringProperty(i18n.DEFAULT_LANGUAGE)
    u = NumericProperty(1.0)
    portrait = BooleanProperty(False)
    banner = StringProperty("")
    office_name = StringProperty("")
    mode = StringProperty("entrance")
    takes_bookings = BooleanProperty(False)  # the office takes booked appointments: "I have an appointment"

    def __init__(self, kiosk: Kiosk, on_ready: Callable[[float], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.settings = kiosk.settings
        self.mode = kiosk.settings.mode
        self.lang = kiosk.settings.language
        self.on_ready = on_ready
        self.title = i18n.text("kiosk.home.title")
        self.notifier = Notifier()
        self.pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="kiosk-flow")
        self.last_touch = time.monotonic()
        self.ready_at: float | None = None
        self.choice: tuple[str, str | None] | None = None  # the field and priority group of the ticket being taken
        self.booking_code: str | None = None  # or the booking being checked in
        self.dossier_code = ""
        self.ballot_level: str | None = None
        self.rating_token: str | None = None  # entrance: the scanned ticket's vote token; counter mode: None
        self.watch = CounterWatch()
        self.in_flight = False  # a ticket request is on its way
        self._waiting_event: Any = None  # the "please wait" shown if its answer is slow
        self.events: list[tuple[str, float]] = []  # (what, perf_counter) for the benchmarks
        self.measure_frames = False  # benchmarks: wait for each timed frame to be drawn

    @property
    def home_screen(self) -> str:
        return "counter" if self.mode == "counter" else "home"

    # --- building -----------------------------------------------------------------------

    def build(self) -> KioskRoot:
        regular, bold = font_files(self.settings.font)
        LabelBase.register("Roboto", regular, fn_bold=bold)  # every widget's default font
        Builder.load_file(str(KV_FILE))
        root = KioskRoot()
        sm = root.ids.sm
        sm.transition = InstantTransition()
        for name, cls in SCREENS.items():
            if self.mode == "counter" and name in ENTRANCE_ONLY:
                continue
            sm.add_widget(cls(name=name))
        sm.current = self.home_screen
        Window.clearcolor = T.BG
        Window.bind(size=self._resized, on_touch_down=self._touched, on_textinput=self._wedge_text, on_key_down=self._wedge_key)
        self._resized(Window, Window.size)
        self.bind(lang=lambda *_: self.refresh_all())
        return root

    def on_start(self) -> None:
        link = self.kiosk.link
        link.listen(lambda what: Clock.schedule_once(lambda dt: self._link_changed(what)))
        link.start()
        if self.kiosk.scanner is not None:
            threading.Thread(target=self._read_scanner, name="kiosk-scanner", daemon=True).start()
        Clock.schedule_interval(self._tick, 1.0)
        if self.mode == "entrance":
            Clock.schedule_interval(lambda dt: self.background(self.kiosk.take_number.reporter.poll, self.kiosk.printer,
                                                               then=lambda _: self.update_banner()), PRINTER_POLL_SECONDS)
            Clock.schedule_interval(lambda dt: self.background(self.kiosk.procedures.refresh_cache), CACHE_REFRESH_SECONDS)
            self.background(self._start_work, then=self._resumed)
        self.update_banner()
        self.after_next_flip(self._first_frame)

    def _start_work(self) -> Issued | None:
        self.kiosk.link.wait_connected(3)
        self.kiosk.procedures.refresh_cache()
        return self.kiosk.take_number.resume()

    def _resumed(self, issued: Issued | None) -> None:
        if issued is not None and issued.ticket is not None:
            log.info("re-sent the ticket request a restart interrupted: number %s", issued.ticket.number)
            self.choice = (issued.ticket.service, None)
            self._issued(issued)

    def _first_frame(self) -> None:
        self.ready_at = time.perf_counter()
        self.notifier.ready(f"kiosk {self.settings.device} showing {self.home_screen}")
        if self.on_ready:
            self.on_ready(self.ready_at)

    def on_stop(self) -> None:
        self.notifier.stopping()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.kiosk.close()

    def _resized(self, window: Any, size: tuple[int, int]) -> None:
        self.u = T.scale(*size)
        self.portrait = T.portrait(*size)
        Clock.schedule_once(lambda dt: self.refresh_all())

    # --- helpers for screens ---------------------------------------------------------------

    def tr(self, key: str, lang: str | None = None, **params: Any) -> str:
        return i18n.text(key, lang or self.lang, **params)

    def has_text(self, key: str) -> bool:
        return key in i18n.catalog(self.lang)

    @property
    def sm(self) -> Any:
        return self.root.ids.sm

    def screen(self, name: str) -> Any:
        return self.sm.get_screen(name)

    def go(self, name: str) -> None:
        self.events.append((f"go:{name}", time.perf_counter()))
        if self.sm.current == name:
            self.sm.current_screen.refresh()
        self.sm.current = name

    def go_home(self) -> None:
        if self.sm.current == "ticket":
            self.finish_ticket()
            return
        self.go(self.home_screen)

    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "vi" else "vi"

    def refresh_all(self) -> None:
        if self.root is None:
            return
        for screen in self.sm.screens:
            screen.refresh()
        self.update_banner()

    def background(self, fn: Callable[..., Any], *args: Any, then: Callable[[Any], None] | None = None) -> None:
        """Run a flow on a worker thread; `then(result)` runs on the UI thread."""

        def done(future: Any) -> None:
            try:
                result = future.result()
            except Exception:
                log.exception("kiosk flow %s failed", getattr(fn, "__name__", fn))
                Clock.schedule_once(lambda dt: self.show_problem(Problem("internal_error", "kiosk.error.generic")))
                return
            if then is not None:
                Clock.schedule_once(lambda dt: then(result))

        with contextlib.suppress(RuntimeError):  # shutting down
            self.pool.submit(fn, *args).add_done_callback(done)

    def after_next_flip(self, callback: Callable[[], None]) -> None:
        """Call back once the next frame is on the screen (the moment a citizen can see it)."""

        def flipped(*_: Any) -> None:
            Window.unbind(on_flip=flipped)
            callback()

        Window.bind(on_flip=flipped)

    def _frame_done(self) -> float:
        """When the frame just flipped is really drawn: a software renderer (Xvfb) finishes it after the
        flip returns, so the benchmark waits for it (glFinish) to time the number honestly."""
        if self.measure_frames:
            from kivy.graphics.opengl import glFinish

            glFinish()
        return time.perf_counter()

    def show_problem(self, problem: Problem, back_to: str | None = None) -> None:
        self.screen("message").show(problem, back_to or self.home_screen)
        self.go("message")

    @staticmethod
    def title_size(title: str, width: float, u: float, portrait: bool) -> float:
        """The top bar's font: smaller, on up to two lines, when the title would not fit on one (from
        its length: measuring the drawn text would feed back into the size)."""
        size = u * T.TITLE * (0.72 if portrait else 0.85)
        return size * 0.75 if len(title) * size * 0.62 > width else size  # 0.62 em: a bold DejaVu letter on average

    def qr_widget(self, text: str) -> Any:
        from kiosk.ui.qr import qr_image

        return qr_image(text, self.u * 150)

    # --- take a number ---------------------------------------------------------------------

    def start_take_number(self) -> None:
        self.go("services")

    def choose_service(self, service: str) -> None:
        self.events.append(("service", time.perf_counter()))
        groups = [code for code, _ in self.kiosk.link.office.priority_groups if code != "general"]
        if self.settings.priority_step and groups:
            self.screen("priority").service = service
            self.go("priority")
        else:
            self.issue(service, None)

    def issue(self, service: str, group: str | None) -> None:
        if self.in_flight:
            return  # a second touch while the first is in flight: the same citizen, the same ticket
        self.choice, self.booking_code = (service, group), None
        self._start_request()

    def check_in(self, typed_or_scanned: str) -> None:
        """A booked citizen is here: the booking's ticket, printed as any number (docs/appointments.md)."""
        if self.in_flight:
            return
        code = p.parse_booking_code(typed_or_scanned)
        if code is None:
            self.screen("booking").show_problem(Problem("not_a_booking", "kiosk.booking.not_a_code"))
            if self.sm.current != "booking":
                self.go("booking")
            return
        self.choice, self.booking_code = ("", None), code
        self._start_request()

    def _start_request(self) -> None:
        # The screen changes once, when the number is there: every frame drawn before it (a pressed
        # button, a "please wait") delays the number on a slow screen. "Please wait" only if it is slow.
        self._waiting_event = Clock.schedule_once(lambda dt: self._show_waiting(), WAITING_AFTER)
        self._send_issue()

    def _show_waiting(self) -> None:
        self.screen("ticket").waiting()
        self.go("ticket")

    def retry_ticket(self) -> None:
        if self.choice is not None and not self.in_flight:
            self._send_issue()

    def _send_issue(self) -> None:
        self.in_flight = True
        if self.booking_code:
            self.background(self.kiosk.take_number.check_in, self.booking_code, then=self._issued)
        else:
            self.background(self.kiosk.take_number.issue, *self.choice, then=self._issued)  # type: ignore[misc]

    def _issued(self, issued: Issued) -> None:
        self.in_flight = False
        if self._waiting_event is not None:
            self._waiting_event.cancel()
            self._waiting_event = None
        if self.choice is None:  # the citizen left (idle timeout, "Xong") before the answer: print nothing
            log.info("ticket request %s answered after the citizen left: not shown, not printed", issued.request_id)
            return
        ticket_screen = self.screen("ticket")
        if issued.ticket is None and not issued.retryable:
            self.show_problem(issued.problem, back_to="booking" if self.booking_code else "services")  # type: ignore[arg-type]
            return
        ticket_screen.show(issued)
        if self.sm.current != "ticket":
            self.go("ticket")
        if issued.ticket is not None:
            self.events.append(("number_set", time.perf_counter()))
            self.after_next_flip(lambda: self.events.append(("number_shown", self._frame_done())))
            self.background(self.kiosk.take_number.print, issued, self.kiosk.link.office.name,
                            then=lambda printed: self._printed(issued, printed))

    def _printed(self, issued: Issued, printed: Any) -> None:
        screen = self.screen("ticket")
        if screen.issued is issued:
            screen.show_print(printed)
        self.update_banner()

    def finish_ticket(self) -> None:
        screen = self.screen("ticket")
        if screen.issued is None or screen.issued.ticket is None:
            self.kiosk.take_number.abandon()  # unanswered and left: never print it for the next person
            self.choice, self.booking_code = None, None
        screen.issued = None
        self.go(self.home_screen)

    # --- procedures and dossiers ---------------------------------------------------------------

    def show_procedure(self, code: str) -> None:
        def shown(result: tuple[dict[str, Any] | None, bool]) -> None:
            self.screen("procedure").show(*result)
            self.go("procedure")

        self.background(self.kiosk.procedures.detail, code, then=shown)

    def look_up_dossier(self, code: str) -> None:
        self.dossier_code = code

        def answered(answer: dossier_flow.DossierAnswer) -> None:
            if answer.dossier is not None:
                self.screen("dossier_result").show(answer.dossier)
                self.go("dossier_result")
            else:
                self.screen("dossier").show_problem(answer.problem)
                self.go("dossier")

        self.background(dossier_flow.look_up, self.kiosk.http, code, then=answered)

    def verify_dossier(self, digits: str) -> None:
        def answered(answer: dossier_flow.DossierAnswer) -> None:
            if answer.dossier is not None:
                self.screen("dossier_result").show(answer.dossier)
                self.go("dossier_result")
            else:
                self.screen("verify").show_problem(answer.problem, answer.attempts_left)

        self.background(dossier_flow.look_up, self.kiosk.http, self.dossier_code, digits, then=answered)

    # --- scanner ----------------------------------------------------------------------------

    def _read_scanner(self) -> None:
        try:
            for code in self.kiosk.scanner.codes():  # type: ignore[union-attr]
                Clock.schedule_once(lambda dt, c=code: self.on_scan(c))
        except Exception:
            log.exception("scanner stopped")

    def _wedge_text(self, window: Any, text: str) -> None:
        # A keyboard-wedge scanner types into the window; its backend (scanning "wedge") splits the lines.
        feed = getattr(self.kiosk.scanner, "feed", None)
        if feed is not None:
            feed(text)

    def _wedge_key(self, window: Any, key: int, *args: Any) -> bool:
        feed = getattr(self.kiosk.scanner, "feed", None)
        if key in (13, 271) and feed is not None:  # Enter, keypad Enter
            feed("\n")
            return True
        return False

    def on_scan(self, code: str) -> None:
        """A scanned code: a booking's QR checks it in, a phone's ticket QR says "I am here", a printed
        ticket's QR means a vote, anything else is a dossier receipt (kiosk/flows/arrival.py)."""
        self.last_touch = time.monotonic()
        if self.mode != "entrance":
            return
        if self.sm.current == "booking":  # a code printed without its QR's address, read by the scanner here
            self.check_in(code)
            return
        kind, value = read_scan(code)
        if kind == "booking":
            self.check_in(value)
            return
        if kind == "arrive":
            self.background(confirm_arrival, self.kiosk.link, value, self.settings.request_timeout, then=self._arrived)
            return
        if kind == "vote":
            token = vote_token_of(code)
            if isinstance(token, Problem):
                self.screen("vote_scan").problem = token.text(self.lang)
                self.go("vote_scan")
                return
            self.rating_token = token
            self.screen("rate").ask(None)
            self.go("rate")
            return
        self.screen("dossier").code = code.strip()[:40]
        self.go("dossier")
        self.look_up_dossier(code)

    def _arrived(self, arrived: Arrived) -> None:
        if arrived.problem is not None:
            self.show_problem(arrived.problem)
            return
        ticket = arrived.ticket
        number, ahead = (ticket.number, ticket.ahead) if ticket else ("", 0)
        message = Problem("arrived", "kiosk.arrive.done" if ahead else "kiosk.arrive.next", {"number": number, "ahead": ahead})
        self.screen("message").show(message, self.home_screen, title_key="kiosk.arrive.title")
        self.go("message")

    # --- rating -----------------------------------------------------------------------------

    def choose_level(self, level: str) -> None:
        self.ballot_level = level
        if level == "unsatisfied":
            self.go("reasons")
        else:
            self.send_vote(())

    def send_vote(self, reasons: tuple[str, ...]) -> None:
        ballot = Ballot(self.ballot_level or "satisfied", reasons)
        if self.mode == "counter":
            self.background(submit_counter_vote, self.kiosk.link, ballot, self.settings.request_timeout, then=self._voted)
        else:
            self.background(submit_ticket_vote, self.kiosk.link, self.rating_token, ballot, self.settings.request_timeout,
                            then=self._voted)

    def _voted(self, voted: Any) -> None:
        if voted.ok or (voted.problem and voted.problem.code == "already_voted" and self.mode == "counter"):
            self.rating_token = None
            self.go("thanks")
            Clock.schedule_once(lambda dt: self.sm.current == "thanks" and self.go(self.home_screen), self.settings.thanks_seconds)
            return
        self.show_problem(voted.problem)

    # --- link, banner, idle ----------------------------------------------------------------------

    def _link_changed(self, what: str) -> None:
        if what == "office":
            self.office_name = self.kiosk.link.office.name
            self.takes_bookings = self.kiosk.link.office.bookings
            if self.sm.current in ("services", "priority") and not self.in_flight:  # leaving it: no frame for it
                self.sm.current_screen.refresh()
        elif what == "counter" and self.mode == "counter":
            state = self.kiosk.link.counter
            if self.sm.has_screen("counter"):
                self.screen("counter").refresh()
            if state is not None and self.watch.should_ask(state) and state.last_finished:
                self.ballot_level = None
                self.screen("rate").ask(state.last_finished.number)
                self.last_touch = time.monotonic()
                self.go("rate")
        self.update_banner()

    def update_banner(self) -> None:
        link = self.kiosk.link
        if not link.broker_up or not link.server_up:
            self.banner = self.tr("kiosk.banner.offline")
        elif self.mode == "entrance" and self.kiosk.take_number.reporter.last_state in PRINTER_FAULTS:
            self.banner = self.tr("kiosk.printer." + self.kiosk.take_number.reporter.last_state) + " " + self.tr("kiosk.banner.printer")
        else:
            self.banner = ""

    def _touched(self, window: Any, touch: Any) -> bool:
        self.last_touch = time.monotonic()
        return False

    def _tick(self, dt: float) -> None:
        self.notifier.pet()
        if self.sm.current != self.home_screen and time.monotonic() - self.last_touch > self.settings.idle_seconds:
            log.info("idle on %s: back to %s", self.sm.current, self.home_screen)
            self.lang = self.settings.language
            self.go_home()
