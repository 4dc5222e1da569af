"""The office's booking page and the appointments API (issue 20; docs/appointments.md).

Pages (no account, no script needed; forms post to the same origin only):
    GET  /booking                     the office page: book a slot, take today's number, find a booking
    GET  /booking/slots?service=&day= the slots of a field on a day, and the booking form
    POST /booking                     book -> /booking/<code>
    GET  /booking/<code>, /b/<code>   the booking, its code and QR; cancel, reschedule
    POST /booking/number              today's number from a phone -> /t/<public token>#v=<vote token>
    GET  /booking/staff/load          the day's booked load per hour (signed-in staff)

A signed-in official who books on these pages books for a caller: the booking's channel is
`official` and it names them. The counter page includes the load panel.

JSON (bodies application/json only):
    GET  /api/appointments/slots?service=&day=          free places (public)
    POST /api/appointments/bookings                     book (an integrator's bearer token, or a signed-in official)
    GET  /api/appointments/bookings/<code>              a booking (the code is its key)
    POST /api/appointments/bookings/<code>/cancel | /reschedule {slot_start}
    GET  /api/appointments/day?day=                     the day's bookings (bearer token or signed-in staff)
    GET  /api/appointments/load?day=                    the booked load per hour (bearer token or signed-in staff)
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from motcua import i18n
from motcua import protocol as p
from queue_server.appointments import bookings, db
from queue_server.appointments.bookings import BookingRefused
from queue_server.appointments.desk import PHONE_DEVICE
from queue_server.appointments.holders import Holder, HolderKey, normalise_id, normalise_phone
from queue_server.appointments.slots import booking_days, capacity, seconds_left_today
from queue_server.dossiers import sources
from queue_server.dossiers.ratelimit import TokenBucket
from queue_server.store import write_transaction
from queue_server.web.auth import add_home_link, current_staff, requires
from queue_server.web.errors import ApiError
from queue_server.web.pages import render_page
from queue_server.web.qr import qr_svg
from queue_server.web.support import get_db, json_body, json_response, office, private

bp = Blueprint("booking", __name__)
add_home_link("booking.load_page", "booking.staff.load_link")
add_home_link("booking.index", "booking.staff.book_link")

MAX_BODY_BYTES = 4096
POSTS_PER_MINUTE, POSTS_BURST = 10, 6  # bookings, numbers, cancellations per client address
LOOKUPS_PER_MINUTE, LOOKUPS_BURST, MISS_COST = 20, 10, 3.0  # a code that does not exist costs more: guessing runs dry
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Limits:
    def __init__(self, clock: Any) -> None:
        self.posts = TokenBucket(POSTS_PER_MINUTE, POSTS_BURST, clock)
        self.lookups = TokenBucket(LOOKUPS_PER_MINUTE, LOOKUPS_BURST, clock)


@bp.record_once
def _setup(state: Any) -> None:
    ctx = state.app.extensions["motcua"]
    db.connect(ctx.db_path).close()  # migrate once, before the first request opens its own connection
    state.app.extensions["motcua.booking"] = _Limits(ctx.clock)


def _limits() -> _Limits:
    return current_app.extensions["motcua.booking"]


def lang() -> str:
    chosen = request.args.get("lang") or request.form.get("lang")
    return chosen if chosen in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def translator(language: str) -> Any:
    return lambda key, **params: i18n.text(key, language, **params)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A page of this area: the office's name, the language, no caching (codes are keys), our CSP."""
    language = lang()
    config = office().config
    keep = {"lang": language} if language != i18n.DEFAULT_LANGUAGE else {}
    other = "en" if language == "vi" else "vi"
    args = {**request.args.to_dict(), "lang": other}
    html = render_template(
        template, t=translator(language), lang=language, office_name=config.name, hours=config.hours_text(),
        here=lambda endpoint, **values: url_for(endpoint, **values, **keep), other_lang=other,
        lang_url=f"{request.path}?{urlencode(args)}", code_text=p.format_booking_code,
        remote_grace=config.rules.remote_grace_minutes, **context)
    response = private(Response(html, status, mimetype="text/html"))  # the CSP and the other headers: queue_server/web/auth.py
    response.headers["Referrer-Policy"] = "no-referrer"  # a booking's URL holds its code
    return response


def _take(bucket: TokenBucket) -> None:
    wait = bucket.take(request.remote_addr or "?")
    if wait:
        raise BookingRefused("rate_limited", 429, seconds=int(wait))


def _same_origin() -> None:
    """Forms post only from this office's own pages: a cross-site form cannot book or cancel."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        allowed = site in ("same-origin", "none")
    else:  # older browsers: Origin, if they send one
        origin = request.headers.get("Origin")
        allowed = origin is None or urlsplit(origin).netloc == request.host
    if not allowed:
        raise BookingRefused("cross_site", 403)


def _now() -> datetime:
    return office().clock.now()


def _key() -> HolderKey:
    return HolderKey.beside(office().db_path)


def _parse_start(value: Any) -> datetime | None:
    """A slot's start: ISO 8601 with its offset, or the office's local time without one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        return None
    return start if start.tzinfo else start.replace(tzinfo=office().config.tz)


def _parse_day(value: Any) -> date | None:
    if not isinstance(value, str) or not _DAY.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def holder_from(data: Any) -> tuple[Holder, str | None]:
    """(the holder the limits count, the phone for SMS if asked) from a form or a JSON body."""
    phone = str(data.get("phone") or "").strip()
    id_number = str(data.get("id_number") or "").strip()
    if not phone and not id_number:
        raise BookingRefused("need_holder", 400)
    if phone and not normalise_phone(phone):
        raise BookingRefused("bad_phone", 400)
    if id_number and not normalise_id(id_number):
        raise BookingRefused("bad_id", 400)
    sms = data.get("sms") in (True, "1", "on", "true")
    if sms and not phone:
        raise BookingRefused("sms_needs_phone", 400)
    holder = Holder.of(phone, id_number)
    assert holder is not None
    return holder, normalise_phone(phone) if sms else None


def _code_or_refuse(raw: str) -> str:
    code = p.parse_booking_code(raw or "")
    if code is None:
        raise BookingRefused("bad_code", 400)
    return code


def _found(code: str) -> bookings.Booking:
    """A booking by code, with guessing charged to the asking address."""
    _take(_limits().lookups)
    booking = bookings.find(get_db(), code)
    if booking is None:
        _limits().lookups.charge(request.remote_addr or "?", MISS_COST - 1)
        raise BookingRefused("not_found", 404)
    return booking


def _message(error: BookingRefused) -> str:
    return i18n.text(error.key, lang(), **error.params)


# --- the citizen's pages ------------------------------------------------------------------------


def _fields_for_booking() -> list[Any]:
    config = office().config
    return [s for s in config.services.values() if config.appointments.offers(s.code) and capacity(config, s.code) > 0]


def _fields_for_numbers() -> list[dict[str, Any]]:
    """Fields one may take today's number for now, with their current wait (from the live snapshot)."""
    config, now = office().config, _now()
    if not config.is_open(now) or not config.phone_queue.enabled:
        return []
    left = seconds_left_today(config, now)
    queue = office().server.current_snapshot().get("queue", {}).get("services", {})
    out = []
    for code, service in config.services.items():
        info = queue.get(code, {})
        if not config.phone_queue.offers(code) or not info.get("open", True):
            continue
        wait = info.get("estimated_wait_seconds")
        out.append({"code": code, "name": service.name, "waiting": info.get("waiting", 0),
                    "wait_minutes": info.get("estimated_wait_minutes"),
                    "full": left is not None and wait is not None and wait > left})
    return out


def _index(status: int = 200, error: str | None = None, form: dict[str, Any] | None = None) -> Response:
    return page("booking/index.html", status, services=_fields_for_booking(), numbers=_fields_for_numbers(),
                error=error, form=form or {}, rid=uuid.uuid4().hex)


@bp.errorhandler(BookingRefused)
def _refused(error: BookingRefused) -> Any:
    if request.path.startswith("/api/"):
        api = ApiError(error.status, error.code, error.key, {}, {}, **error.params)
        headers = {"Retry-After": str(error.params["seconds"])} if "seconds" in error.params else {}
        return json_response(api.body(), error.status, {"Cache-Control": "no-store", **headers})
    return page("booking/problem.html", error.status, error=_message(error))


@bp.get("/booking")
def index() -> Response:
    return _index()


@bp.get("/booking/slots")
def slots_page() -> Response:
    return _slots(request.args.get("service", ""), request.args.get("day"))


def _slots(service: str, day_text: str | None, code: str | None = None, status: int = 200, error: str | None = None,
           form: dict[str, Any] | None = None) -> Response:
    config, now = office().config, _now()
    spec = config.services.get(service)
    if spec is None or not config.appointments.offers(service):
        raise BookingRefused("not_offered", 404, service_name=spec.name if spec else service)
    days = booking_days(config, service, now)
    day = _parse_day(day_text) if day_text else None
    if day not in days:
        day = days[0] if days else None
    places = bookings.free_places(get_db(), config, service, day, now) if day else []
    return page("booking/slots.html", status, service=spec, days=days, day=day, places=places, code=code, error=error,
                form=form or {}, tz=config.tz)


@bp.post("/booking")
def book_page() -> Any:
    _same_origin()
    form = request.form
    service = form.get("service", "")
    try:
        _take(_limits().posts)
        start = _parse_start(form.get("slot"))
        if start is None:
            raise BookingRefused("bad_slot", 400)
        holder, sms = holder_from(form)
        official = _signed_in_official()  # an official booking for a caller on the phone
        booking = bookings.book(get_db(), office().config, _key(), service, start, holder, _now(),
                                channel="official" if official else "web", source=official, sms_phone=sms)
    except BookingRefused as error:
        if error.code in ("not_offered", "unknown_service", "cross_site"):
            raise
        return _slots(service, form.get("day"), status=error.status, error=_message(error), form=dict(form))
    return redirect(_booking_url(booking.code), 303)


def _booking_url(code: str) -> str:
    return url_for("booking.booking_page", code=code, **({"lang": lang()} if lang() != i18n.DEFAULT_LANGUAGE else {}))


@bp.get("/b/<code>")
def short_link(code: str) -> Any:
    """What the booking's QR code opens."""
    return redirect(url_for("booking.booking_page", code=_code_or_refuse(code)), 302)


@bp.get("/booking/find")
def find_page() -> Any:
    return redirect(_booking_url(_code_or_refuse(request.args.get("code", ""))), 303)


@bp.get("/booking/<code>")
def booking_page(code: str) -> Response:
    booking = _found(_code_or_refuse(code))
    config, now = office().config, _now()
    qr_text = p.booking_qr_url(request.url_root, booking.code)
    return page("booking/booking.html", booking=booking.as_dict(config, now), qr=qr_svg(qr_text, p.format_booking_code(booking.code)),
                start=booking.slot_at.astimezone(config.tz), end=booking.slot_end().astimezone(config.tz),
                changeable=booking.status == bookings.BOOKED and not booking.missed(config, now) and booking.slot_at > now,
                early_minutes=config.appointments.early_minutes, grace_minutes=config.appointments.grace_minutes)


@bp.post("/booking/<code>/cancel")
def cancel_page(code: str) -> Any:
    _same_origin()
    _take(_limits().posts)
    booking = _found(_code_or_refuse(code))
    bookings.cancel(get_db(), office().config, booking.code, _now())
    return redirect(_booking_url(booking.code), 303)


@bp.get("/booking/<code>/reschedule")
def reschedule_form(code: str) -> Response:
    booking = _found(_code_or_refuse(code))
    return _slots(booking.service, request.args.get("day"), code=booking.code)


@bp.post("/booking/<code>/reschedule")
def reschedule_page(code: str) -> Any:
    _same_origin()
    booking = _found(_code_or_refuse(code))
    try:
        _take(_limits().posts)
        start = _parse_start(request.form.get("slot"))
        if start is None:
            raise BookingRefused("bad_slot", 400)
        bookings.reschedule(get_db(), office().config, booking.code, start, _now())
    except BookingRefused as error:
        if error.code in ("past", "used", "cancelled"):
            raise
        return _slots(booking.service, request.form.get("day"), code=booking.code, status=error.status, error=_message(error))
    return redirect(_booking_url(booking.code), 303)


@bp.post("/booking/number")
def take_number() -> Any:
    """Today's number from a phone: the engine issues it (remote), the page goes to the ticket's own page."""
    _same_origin()
    form = request.form
    try:
        _take(_limits().posts)
        phone = normalise_phone(form.get("phone", ""))
        if phone is None:
            raise BookingRefused("bad_phone" if form.get("phone") else "phone_needed", 400)
    except BookingRefused as error:
        return _index(error.status, _message(error), dict(form))
    rid = form.get("rid", "")
    rid = rid if re.fullmatch(r"[0-9a-f]{32}", rid) else uuid.uuid4().hex  # a re-submitted form gets the same number
    server = office().server
    holder = _key().hash(Holder("phone", phone))
    reply = server.request(PHONE_DEVICE, "ticket.take_remote", request_id=f"take-{rid}", service=form.get("service", ""), holder=holder)
    if not reply.get("ok"):
        error = reply["error"]
        return _index(409, error["message_en"] if lang() == "en" else error["message"], dict(form))
    ticket = reply["ticket"]
    if form.get("sms"):
        tid = f"{ticket['business_day']}/{ticket['number']}"
        with write_transaction(get_db()) as database:
            database.execute("INSERT OR IGNORE INTO ticket_contacts (ticket_id, business_day, phone) VALUES (?, ?, ?)",
                             [tid, ticket["business_day"], phone])
        desk = server.appointments
        server.in_worker(lambda o: desk.add_contact(o, ticket["business_day"], ticket["number"], phone))
    return redirect(f"/t/{ticket['public_token']}#v={ticket['vote_token']}", 303)


@bp.get("/booking/staff/load")
@requires()
def load_page() -> Any:
    """The day's booked load per hour for officials (a page of its own; the counter page includes the panel)."""
    config, now = office().config, _now()
    day = _parse_day(request.args.get("day")) or now.astimezone(config.tz).date()
    return render_page("booking/staff/load.html", load=bookings.day_load(get_db(), config, day, now), day=day)


# --- JSON ------------------------------------------------------------------------------------------


def _signed_in_official() -> str | None:
    """The staff id of the person signed in on the staff pages (queue_server/web/auth.py), if any."""
    staff = current_staff()
    return staff.id if staff is not None and staff.active else None


def _caller() -> tuple[str, str]:
    """(channel, who) of an API call that books: a signed-in official, else an integrator's bearer token."""
    official = _signed_in_official()
    if official:
        return "official", official
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "booking.error.unauthorized", {"WWW-Authenticate": 'Bearer realm="motcua"'})
    source, problem = sources.authenticate(get_db(), token.strip(), table=db.SOURCES_TABLE)
    if source is None:
        code = problem or "unknown_token"
        raise ApiError(401, code, f"booking.error.{code}", {"WWW-Authenticate": 'Bearer realm="motcua", error="invalid_token"'})
    return "api", source


def _body() -> dict[str, Any]:
    data = json_body(MAX_BODY_BYTES, required=False)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BookingRefused("bad_body", 400)
    return data


def _answer(booking: bookings.Booking, status: int = 200) -> Response:
    config = office().config
    body = {"ok": True, "booking": booking.as_dict(config, _now()),
            "qr_text": p.booking_qr_url(request.url_root, booking.code),
            "page_url": url_for("booking.booking_page", code=booking.code, _external=True)}
    return private(json_response(body, status))


@bp.get("/api/appointments/slots")
def api_slots() -> Response:
    config, now = office().config, _now()
    service = request.args.get("service", "")
    if service not in config.services or not config.appointments.offers(service):
        raise BookingRefused("not_offered", 404, service_name=config.services[service].name if service in config.services else service)
    days = booking_days(config, service, now)
    day = _parse_day(request.args.get("day")) or (days[0] if days else None)
    places = bookings.free_places(get_db(), config, service, day, now) if day in days else []
    return json_response({
        "ok": True, "service": service, "day": day.isoformat() if day else None, "days": [d.isoformat() for d in days],
        "slots": [{"start": s.start.isoformat(timespec="minutes"), "end": s.end.isoformat(timespec="minutes"), "capacity": s.capacity,
                   "left": left} for s, left in places],
    })


@bp.post("/api/appointments/bookings")
def api_book() -> Response:
    channel, who = _caller()
    data = _body()
    start = _parse_start(data.get("slot_start"))
    if start is None:
        raise BookingRefused("bad_slot", 400)
    holder, sms = holder_from(data)
    now = _now()
    booking = bookings.book(get_db(), office().config, _key(), str(data.get("service") or ""), start, holder, now,
                            channel=channel, source=who, sms_phone=sms)
    if channel == "api":
        with write_transaction(get_db()):
            sources.touch(get_db(), who, now, table=db.SOURCES_TABLE)
    return _answer(booking, 201)


@bp.get("/api/appointments/bookings/<code>")
def api_booking(code: str) -> Response:
    return _answer(_found(_code_or_refuse(code)))


@bp.post("/api/appointments/bookings/<code>/cancel")
def api_cancel(code: str) -> Response:
    _body()  # JSON only, even when empty: no cross-site form reaches this
    _take(_limits().posts)
    booking = _found(_code_or_refuse(code))
    return _answer(bookings.cancel(get_db(), office().config, booking.code, _now()))


@bp.post("/api/appointments/bookings/<code>/reschedule")
def api_reschedule(code: str) -> Response:
    data = _body()
    _take(_limits().posts)
    booking = _found(_code_or_refuse(code))
    start = _parse_start(data.get("slot_start"))
    if start is None:
        raise BookingRefused("bad_slot", 400)
    return _answer(bookings.reschedule(get_db(), office().config, booking.code, start, _now()))


@bp.get("/api/appointments/day")
def api_day() -> Response:
    _caller()
    config, now = office().config, _now()
    day = _parse_day(request.args.get("day")) or now.astimezone(config.tz).date()
    rows = [b.as_dict(config, now) for b in bookings.day_bookings(get_db(), day.isoformat())]
    return private(json_response({"ok": True, "day": day.isoformat(), "bookings": rows}))


@bp.get("/api/appointments/load")
def api_load() -> Response:
    _caller()
    config, now = office().config, _now()
    day = _parse_day(request.args.get("day")) or now.astimezone(config.tz).date()
    return private(json_response({"ok": True, **bookings.day_load(get_db(), config, day, now)}))
