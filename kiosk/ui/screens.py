"""The screens. Each one shows what a flow returned and turns touches into calls on the app.

Network work never runs here: screens ask `app.background(fn, then=...)`, which runs the flow on
a worker thread and calls back on the UI thread.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.label import Label

from kiosk.flows import dossiers as dossier_flow
from kiosk.flows.outcome import Problem
from kiosk.flows.take_number import Issued, Printed
from kiosk.ui import theme as T
from kiosk.ui.widgets import BigButton, KioskScreen, apply_key

SEARCH_DELAY = 0.35  # seconds after the last key before searching: one request per pause, not per letter


def app() -> Any:
    return App.get_running_app()


def _small(text: str) -> str:
    return f"[size={int(app().u * T.SMALL)}]{text}[/size]"


class HomeScreen(KioskScreen):
    pass


class ServicesScreen(KioskScreen):
    """One button per field of work; queue updates change their words in place (no rebuild, no extra frame)."""

    _layout_key: tuple[Any, ...] = ()

    def refresh(self) -> None:
        a = app()
        services = a.kiosk.link.office.services
        grid = self.ids.grid
        key = (tuple(s.code for s in services), a.lang, a.u)
        if key != self._layout_key:
            self._layout_key = key
            grid.clear_widgets()
            for service in services:
                button = BigButton(key=service.code, feedback=False)
                button.bind(on_release=lambda b: app().choose_service(b.key))
                grid.add_widget(button)
            if not services:
                grid.add_widget(Label(text=a.tr("kiosk.services.none"), font_size=a.u * T.BODY))
        buttons = {b.key: b for b in grid.children if isinstance(b, BigButton)}
        for service in services:
            self._show(buttons[service.code], service)

    def _show(self, button: BigButton, service: Any) -> None:
        a = app()
        name = service.name_en if a.lang == "en" and service.name_en else service.name
        if service.open:
            if service.wait_minutes:
                line = a.tr("kiosk.services.waiting", count=service.waiting, minutes=service.wait_minutes)
            else:
                line = a.tr("kiosk.services.waiting_now", count=service.waiting)
        else:
            line = a.tr("kiosk.services.closed") + (f": {service.closed_reason}" if service.closed_reason else "")
        text = f"[b]{name}[/b]\n{_small(line)}"
        if button.text != text:  # Kivy redraws only what changed; an unchanged text costs nothing
            button.text = text
        button.disabled = not service.open
        button.bg, button.fg = (T.BUTTON, T.BUTTON_TEXT) if service.open else (T.CLOSED, T.CLOSED_TEXT)


class PriorityScreen(KioskScreen):
    service = StringProperty("")

    def refresh(self) -> None:
        a = app()
        grid = self.ids.groups
        grid.clear_widgets()
        for code, name in a.kiosk.link.office.priority_groups:
            if code == "general":
                continue  # "other priority" is for counter staff to choose, not a button for citizens
            label = a.tr(f"kiosk.priority.group.{code}") if a.has_text(f"kiosk.priority.group.{code}") else name
            button = BigButton(text=label, key=code, font_size=a.u * T.BODY, feedback=False)
            button.bind(on_release=lambda b: self.choose(b.key))
            grid.add_widget(button)

    def choose(self, group: str | None) -> None:
        app().issue(self.service, group)


class TicketScreen(KioskScreen):
    can_retry = BooleanProperty(False)
    issued: Issued | None = None
    printed: Printed | None = None
    _retry_event: Any = None

    def waiting(self) -> None:
        """Shown at once on the touch; the number replaces it when the reply comes."""
        self.issued, self.printed = None, None
        self.can_retry = False
        self.ids.heading.text = app().tr("kiosk.ticket.getting")
        self.ids.number.text = ""
        self.ids.details.text = ""
        self.ids.print_status.text = ""

    def show(self, issued: Issued) -> None:
        self.issued = issued
        self._cancel_retry()
        if issued.ticket is None:
            self._show_unanswered()
            return
        self.can_retry = False
        self.refresh()

    def show_print(self, printed: Printed) -> None:
        self.printed = printed
        self.refresh()

    def refresh(self) -> None:
        a = app()
        issued = self.issued
        if issued is None or issued.ticket is None:
            return
        t = issued.ticket
        office = a.kiosk.link.office
        counters = ", ".join(c.name for c in office.counters_for(t.service, t.priority)) or "-"
        service = next((s for s in office.services if s.code == t.service), None)
        service_name = service.name_en if a.lang == "en" and service and service.name_en else t.service_name
        if t.wait_minutes is None:
            wait = a.tr("kiosk.ticket.wait_unknown")
        elif t.wait_minutes == 0:
            wait = a.tr("kiosk.ticket.wait_now")
        else:
            wait = a.tr("kiosk.ticket.wait_minutes", minutes=t.wait_minutes)
        lines = [f"[b]{service_name}[/b]", a.tr("kiosk.ticket.counters", counters=counters)]
        if t.slot_time:  # a booking checked in: called at its time, ahead of walk-ins
            lines.append(f"[b]{a.tr('kiosk.ticket.slot', time=t.slot_time)}[/b]")
        else:
            lines += [a.tr("kiosk.ticket.ahead", count=t.ahead), wait]
        if t.priority_group_name:
            lines.insert(1, a.tr("kiosk.ticket.priority", group=t.priority_group_name))
        self.ids.heading.text = a.tr("kiosk.ticket.your_number")
        self.ids.number.text = t.number
        self.ids.details.text = "\n".join(lines)
        if self.printed is None:
            status = a.tr("kiosk.ticket.printing")
        elif self.printed.ok:
            status = a.tr("kiosk.ticket.printed")
        else:
            status = f"[b]{a.tr('kiosk.printer.' + self.printed.state)}[/b] " + a.tr("kiosk.ticket.not_printed", number=t.number)
        self.ids.print_status.text = status

    def _show_unanswered(self) -> None:
        a = app()
        self.can_retry = True
        self.ids.heading.text = a.tr("kiosk.ticket.unanswered")
        self.ids.number.text = ""
        self.ids.details.text = a.tr("kiosk.ticket.unanswered_hint")
        self.ids.print_status.text = ""
        self._retry_event = Clock.schedule_once(lambda dt: self.retry(), 3)  # keeps trying by itself, same id

    def retry(self) -> None:
        self._cancel_retry()
        if self.manager and self.manager.current == self.name:
            app().retry_ticket()

    def _cancel_retry(self) -> None:
        if self._retry_event is not None:
            self._retry_event.cancel()
            self._retry_event = None

    def on_leave(self, *args: object) -> None:
        self._cancel_retry()


class MessageScreen(KioskScreen):
    title = StringProperty("")
    message = StringProperty("")
    back_to = StringProperty("home")
    problem: Problem | None = None
    title_key = "kiosk.message.title"

    def show(self, problem: Problem, back_to: str = "home", title_key: str = "kiosk.message.title") -> None:
        self.problem, self.back_to, self.title_key = problem, back_to, title_key
        self.refresh()

    def refresh(self) -> None:
        a = app()
        self.title = a.tr(self.title_key)
        self.message = self.problem.text(a.lang) if self.problem else ""

    def leave(self) -> None:
        app().go(self.back_to)


class ProceduresScreen(KioskScreen):
    query = StringProperty("")
    notice = StringProperty("")
    _search_event: Any = None
    answer: Any = None
    field_name: str | None = None

    def on_key(self, key: str) -> None:
        self.query = apply_key(self.query, key)
        self.field_name = None
        if self._search_event is not None:
            self._search_event.cancel()
        self._search_event = Clock.schedule_once(lambda dt: self.search(), SEARCH_DELAY)

    def search(self) -> None:
        text = self.query
        if not text.strip():
            self.answer = None
            self.refresh()
            return
        app().background(app().kiosk.procedures.search, text, then=lambda answer: self._searched(text, answer))

    def _searched(self, text: str, answer: Any) -> None:
        if text == self.query:  # a slower answer to an older query is dropped
            self.answer = answer
            self.refresh()

    def show_fields(self) -> None:
        self.query, self.answer, self.field_name = "", None, None
        self.refresh()

    def show_field(self, name: str) -> None:
        self.field_name = name
        self.refresh()

    def refresh(self) -> None:
        a = app()
        results = self.ids.results
        results.clear_widgets()
        cache = a.kiosk.procedures.cache
        if self.field_name is not None:
            self.notice = a.tr("kiosk.procedures.in_field", field=self.field_name)
            self._list(cache.in_field(self.field_name))
            return
        if not self.query.strip() or self.answer is None:
            fields = cache.fields()
            self.notice = a.tr("kiosk.procedures.choose_field") if fields else a.tr("kiosk.procedures.type_hint")
            for name, count in fields:
                button = BigButton(text=f"{name} {_small('(' + str(count) + ')')}", key=name, size_hint_y=None,
                                   height=a.u * 58, font_size=a.u * T.BODY)
                button.bind(on_release=lambda b: self.show_field(b.key))
                results.add_widget(button)
            return
        answer = self.answer
        notices = []
        if answer.offline:
            notices.append(a.tr("kiosk.procedures.offline"))
        if answer.notice:
            notices.append(answer.notice.text(a.lang))
        elif answer.empty_catalogue:
            notices.append(a.tr("kiosk.procedures.empty_catalogue"))
        elif not answer.results:
            notices.append(a.tr("kiosk.procedures.not_found", query=answer.query))
        self.notice = "\n".join(notices)
        self._list(answer.results)

    def _list(self, procedures: list[dict[str, Any]]) -> None:
        a = app()
        for proc in procedures:
            sub = proc.get("field") or ""
            button = BigButton(text=f"{proc.get('name', '')}\n{_small(sub)}" if sub else proc.get("name", ""), key=proc["code"],
                               size_hint_y=None, height=a.u * 78, font_size=a.u * T.BODY, halign="left")
            button.bind(on_release=lambda b: a.show_procedure(b.key))
            self.ids.results.add_widget(button)

    def on_leave(self, *args: object) -> None:
        if self.manager and self.manager.current != "procedure":  # the next citizen starts with an empty search
            self.query, self.answer, self.field_name = "", None, None


class ProcedureScreen(KioskScreen):
    procedure: dict[str, Any] | None = None
    offline = False

    def show(self, procedure: dict[str, Any] | None, offline: bool) -> None:
        self.procedure, self.offline = procedure, offline
        self.refresh()
        self.ids.scroll.scroll_y = 1

    def refresh(self) -> None:
        from kiosk.ui.procedure_text import procedure_blocks

        a = app()
        content = self.ids.content
        content.clear_widgets()
        if self.procedure is None:
            content.add_widget(self._label(a.tr("kiosk.procedure.missing"), T.TITLE))
            return
        if self.offline:
            content.add_widget(self._label(a.tr("kiosk.procedures.offline"), T.BODY, T.PRIMARY))
        for block in procedure_blocks(self.procedure, a.kiosk.link.office, a.tr, a.lang, a.kiosk.http.form_url):
            if block.kind == "qr":
                content.add_widget(a.qr_widget(block.text))
            else:
                size = T.TITLE if block.kind == "title" else T.BODY
                content.add_widget(self._label(block.text, size, T.PRIMARY if block.kind == "heading" else T.TEXT,
                                               bold=block.kind in ("title", "heading")))

    def _label(self, text: str, size: float, color: Any = T.TEXT, bold: bool = False) -> Label:
        a = app()
        label = Label(text=text, font_size=a.u * size, color=color, bold=bold, markup=False, halign="left",
                      size_hint_y=None)
        label.bind(width=lambda w, v: setattr(w, "text_size", (v, None)),
                   texture_size=lambda w, v: setattr(w, "height", v[1] + a.u * 4))
        return label


class DossierScreen(KioskScreen):
    code = StringProperty("")
    problem = StringProperty("")

    def on_key(self, key: str) -> None:
        self.code = apply_key(self.code, key, max_chars=40, lower=False)
        self.problem = ""

    def submit(self, code: str | None = None) -> None:
        code = code if code is not None else self.code
        self.problem = ""
        app().look_up_dossier(code)

    def show_problem(self, problem: Problem) -> None:
        self.problem = problem.text(app().lang)

    def on_leave(self, *args: object) -> None:
        if self.manager and self.manager.current not in ("dossier_result", "verify"):  # nobody sees the last code
            self.code, self.problem = "", ""


class BookingScreen(KioskScreen):
    """"I have an appointment": the booking's code, typed (or its QR scanned, which lands here too)."""

    code = StringProperty("")
    problem = StringProperty("")

    def on_key(self, key: str) -> None:
        self.code = apply_key(self.code, key, max_chars=12, lower=False)
        self.problem = ""

    def submit(self) -> None:
        self.problem = ""
        app().check_in(self.code)

    def show_problem(self, problem: Problem) -> None:
        self.problem = problem.text(app().lang)

    def on_leave(self, *args: object) -> None:
        self.code, self.problem = "", ""  # the next citizen does not see this one's code


class DossierResultScreen(KioskScreen):
    verified = BooleanProperty(False)
    dossier: dict[str, Any] | None = None

    def show(self, dossier: dict[str, Any]) -> None:
        self.dossier = dossier
        self.verified = bool(dossier.get("verified"))
        self.refresh()

    def refresh(self) -> None:
        a = app()
        content = self.ids.content
        content.clear_widgets()
        if not self.dossier:
            return
        code = Label(text=a.tr("kiosk.dossier.code", code=self.dossier.get("code", "")), font_size=a.u * T.BODY,
                     color=T.MUTED, size_hint_y=None, height=a.u * 36)
        content.add_widget(code)
        for index, (key, value) in enumerate(dossier_flow.summary_lines(self.dossier, a.lang)):
            big = index == 0
            label = Label(text=f"[b]{a.tr(key)}:[/b] {value}" if not big else f"[b]{value}[/b]", markup=True,
                          font_size=a.u * (T.TITLE * 1.1 if big else T.BODY * 1.1), color=T.PRIMARY if big else T.TEXT,
                          halign="center" if big else "left", size_hint_y=None)
            label.bind(width=lambda w, v: setattr(w, "text_size", (v, None)),
                       texture_size=lambda w, v: setattr(w, "height", v[1] + app().u * 6))
            content.add_widget(label)


class VerifyScreen(KioskScreen):
    digits = StringProperty("")
    problem = StringProperty("")

    def on_pre_enter(self, *args: object) -> None:
        self.digits, self.problem = "", ""

    def on_key(self, key: str) -> None:
        self.digits = apply_key(self.digits, key, max_chars=4) if key != "space" else self.digits
        self.problem = ""

    def submit(self) -> None:
        if len(self.digits) != 4:
            self.problem = app().tr("kiosk.dossier.four_digits")
            return
        app().verify_dossier(self.digits)

    def show_problem(self, problem: Problem, attempts_left: int | None = None) -> None:
        self.digits = ""
        self.problem = problem.text(app().lang)


class VoteScanScreen(KioskScreen):
    problem = StringProperty("")

    def on_pre_enter(self, *args: object) -> None:
        self.problem = ""


class RateScreen(KioskScreen):
    problem = StringProperty("")
    question = StringProperty("")
    number: str | None = None

    def ask(self, number: str | None) -> None:
        self.number, self.problem = number, ""
        self.refresh()

    def refresh(self) -> None:
        a = app()
        self.question = a.tr("kiosk.rate.question_number", number=self.number) if self.number else a.tr("kiosk.rate.question")

    def choose(self, level: str) -> None:
        app().choose_level(level)


class ReasonsScreen(KioskScreen):
    chosen: set[str]

    def on_pre_enter(self, *args: object) -> None:
        self.chosen = set()
        self.refresh()

    def refresh(self) -> None:
        a = app()
        grid = self.ids.reasons
        grid.clear_widgets()
        for code, name, name_en in a.kiosk.link.office.vote_reasons:  # the office's own list (state/office)
            selected = code in getattr(self, "chosen", set())
            label = name_en if a.lang == "en" and name_en else name
            button = BigButton(text=("\u2713 " if selected else "") + label, key=code,
                               font_size=a.u * T.BODY, bg=T.SELECTED if selected else T.BUTTON,
                               fg=T.PRIMARY_TEXT if selected else T.BUTTON_TEXT)
            button.bind(on_release=lambda b: self.toggle(b.key))
            grid.add_widget(button)

    def toggle(self, code: str) -> None:
        self.chosen ^= {code}
        self.refresh()

    def send(self, with_reasons: bool) -> None:
        app().send_vote(tuple(sorted(self.chosen)) if with_reasons else ())


class ThanksScreen(KioskScreen):
    pass


class CounterScreen(KioskScreen):
    counter_name = StringProperty("")
    heading = StringProperty("")
    number = StringProperty("")
    detail = StringProperty("")

    def refresh(self) -> None:
        a = app()
        state = a.kiosk.link.counter
        self.counter_name = (state.name if state and state.name else a.kiosk.settings.counter) or ""
        if state is None or state.status == "closed":
            self.heading, self.number, self.detail = a.tr("kiosk.counter.closed"), "", ""
        elif state.status == "paused":
            self.heading, self.number, self.detail = a.tr("kiosk.counter.paused"), "", ""
        elif state.serving:
            self.heading, self.number = a.tr("kiosk.counter.serving"), state.serving
            self.detail = state.serving_service or ""
        else:
            self.heading, self.number, self.detail = a.tr("kiosk.counter.idle"), "", a.tr("kiosk.counter.idle_hint")
