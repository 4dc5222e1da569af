"""Staff sign-in for every page: sessions, CSRF, roles and security headers (issue 16).

The API other page authors use (docs/web.md, "Pages for staff"); these names stay:

    @requires("administrator")               a view for these roles; @requires() any signed-in account
    current_staff() -> StaffMember | None    who is signed in on this request
    acting_device("admin")                   a Device for QueueServer.request that records the person
    acting_device("counter", "Q1")           (Device(id="web-Q1", role="counter", counter="Q1", staff=...))
    record(work)                             run work(db, now) -> (result, audit events) in the worker
    CSRF_FIELD, CSRF_HEADER                  "csrf_token" in forms, "X-CSRF-Token" on fetch/XHR calls
    templates: csrf_field(), csrf_token(), current_staff(); layout "staff/layout.html"
    endpoints: auth.login (/dang-nhap), auth.logout (POST /dang-xuat), auth.home (/nhan-vien),
               auth.password (/doi-mat-khau), auth.setup (/thiet-lap/<token>)
    add_home_link(endpoint, label_key, *roles)   a link on the staff home page

Sessions are server-side rows (queue_server/staff/store.py): the cookie holds a random token
and the database its SHA-256, so logout and a disabled account end a session at once, and no
secret key has to exist. A session ends after SESSION_IDLE of inactivity or SESSION_MAX in
all, on the server's clock. Every non-GET request that carries a session cookie must carry
the session's CSRF token (form field or header); the login and setup forms, which come
before a session, use a double-submit cookie. Every response gets the security headers.
"""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils
from flask import Blueprint, Response, current_app, g, make_response, redirect, request, url_for
from markupsafe import Markup, escape

from queue_server.config import Device
from queue_server.dossiers.ratelimit import TokenBucket
from queue_server.engine import events as e
from queue_server.staff import accounts
from queue_server.staff.model import ADMINISTRATOR, StaffError, StaffMember, clean_name
from queue_server.staff.passwords import hash_secret, needs_rehash, verify_secret
from queue_server.staff.setup import SETUP_PATH, discard_setup_token, issue_setup_token, setup_token_valid, setup_url
from queue_server.staff.store import SessionRecord, StaffStore, token_hash
from queue_server.store import open_connection
from queue_server.web.errors import ApiError
from queue_server.web.pages import render_page
from queue_server.web.support import get_db, office

__all__ = [
    "CSRF_FIELD", "CSRF_HEADER", "SESSION_COOKIE", "acting_device", "add_home_link", "bp", "current_staff",
    "record", "requires",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "motcua_staff"
LOGIN_COOKIE = "motcua_login"  # the double-submit CSRF token of the login and setup forms
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=12)  # a working day; then sign in again
TOUCH_EVERY = timedelta(minutes=1)  # how often activity is written down (not on every request)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Login attempts (each costs an argon2 verification): per account, 5 at once then 1 a minute;
# per address, 20 at once then 10 a minute (a shared office PC is one address).
ACCOUNT_ATTEMPTS = (1.0, 5)
ADDRESS_ATTEMPTS = (10.0, 20)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,  # a view may set its own (procedure forms do)
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

bp = Blueprint("auth", __name__)
EXTENSION = "motcua.auth"


@dataclass(frozen=True)
class HomeLink:
    endpoint: str
    label_key: str
    roles: tuple[str, ...]


@dataclass
class AuthState:
    by_account: TokenBucket
    by_address: TokenBucket
    links: list[HomeLink]


_LINKS: list[HomeLink] = []  # added by other areas at import (add_home_link)


def add_home_link(endpoint: str, label_key: str, *roles: str) -> None:
    """Show a link to `endpoint` on the staff home page for these roles (none: everyone signed in)."""
    if not any(link.endpoint == endpoint for link in _LINKS):
        _LINKS.append(HomeLink(endpoint, label_key, roles))


def _auth() -> AuthState:
    return current_app.extensions[EXTENSION]


@bp.record_once
def _prepare(state: Any) -> None:
    app = state.app
    ctx = app.extensions["motcua"]
    clock = ctx.server.clock
    app.extensions[EXTENSION] = AuthState(TokenBucket(*ACCOUNT_ATTEMPTS, clock), TokenBucket(*ADDRESS_ATTEMPTS, clock), _LINKS)
    app.jinja_env.globals.update(csrf_field=csrf_field, csrf_token=csrf_token, current_staff=current_staff)
    db = sqlite_utils.Database(open_connection(ctx.db_path))
    try:
        staff = StaffStore(db).migrate()
        if staff.active_administrators() == 0:
            _announce_setup_link(ctx, clock.now())
    finally:
        db.close()


def _announce_setup_link(ctx: Any, now: datetime) -> None:
    """Shown once, on the console (the journal under systemd): never through logging, which may be shipped elsewhere."""
    token = issue_setup_token(Path(ctx.db_path).parent, now)
    listen = getattr(getattr(ctx.server, "options", None), "http_listen", None) or ("127.0.0.1", 8080)
    print(
        f"motcua: this office has no administrator yet. Open this one-time link within 24 hours to create one:\n"
        f"  {setup_url(listen[0], listen[1], token)}\n"
        f"  (or run `motcua staff add ID --role administrator` on this box)",
        file=sys.stderr, flush=True,
    )


# --- who is signed in ------------------------------------------------------------------


def current_staff() -> StaffMember | None:
    """The signed-in account of this request, or None (looked up once per request)."""
    if "staff_loaded" not in g:
        g.staff_loaded = True
        g.staff, g.staff_session = _load_session()
    return g.staff


def _session() -> SessionRecord | None:
    current_staff()
    return g.staff_session


def _load_session() -> tuple[StaffMember | None, SessionRecord | None]:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 128:
        return None, None
    hashed = token_hash(token)
    store = StaffStore(get_db())
    found = store.session(hashed)
    if found is None:
        g.session_ended = True
        return None, None
    now = office().clock.now()
    member = store.get(found.staff)
    if now - found.created_at > SESSION_MAX or now - found.seen_at > SESSION_IDLE or member is None or not member.active:
        from queue_server.store import write_transaction

        with write_transaction(store.db):
            store.drop_session(hashed)
        g.session_ended = True
        return None, None
    if now - found.seen_at >= TOUCH_EVERY:
        store.touch_session(hashed, now)
    return member, found


def requires(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view only for signed-in staff of these roles (no roles: any active account).

    Pages send a stranger to the login page and come back after; JSON under /api/ answers
    401 `not_signed_in` or 403 `forbidden` in the one error shape."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None:
                if request.path.startswith("/api/"):
                    raise ApiError(401, "not_signed_in", "staff.error.not_signed_in")
                ended = {"expired": 1} if g.get("session_ended") else {}
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?"), **ended))
            if roles and staff.role not in roles:
                if request.path.startswith("/api/"):
                    raise ApiError(403, "forbidden", "staff.error.forbidden")
                return message_page("staff.error.forbidden", 403)
            return view(*args, **kwargs)

        guarded.required_roles = roles  # type: ignore[attr-defined]
        return guarded

    return decorate


def acting_device(role: str, counter: str | None = None) -> Device:
    """The Device a page acts as through QueueServer.request, carrying the signed-in person: the
    office records them (office.configure's `by`) and refuses counter work in someone else's name."""
    staff = current_staff()
    if staff is None:
        raise ApiError(401, "not_signed_in", "staff.error.not_signed_in")
    return Device(id=f"web-{counter}" if counter else f"web-{role}", role=role, counter=counter, staff=staff.id)


def record(work: Callable[[Any, datetime], tuple[Any, list[e.Event]]]) -> Any:
    """Run work(db, now) -> (result, audit events) in the server's worker, committed together."""
    return office().server.record(work, device="web")


def client_address() -> str | None:
    return (request.remote_addr or "")[:64] or None


# --- CSRF -------------------------------------------------------------------------------


def csrf_token() -> str:
    """The token this page's forms and XHR calls must send back: the session's, or before a
    session the login cookie's (set on the response if new)."""
    session = _session()
    if session is not None:
        return session.csrf
    token = request.cookies.get(LOGIN_COOKIE) or g.get("new_login_token")
    if not token or len(token) > 128:
        token = g.new_login_token = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


def _sent_token() -> str:
    return request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""


@bp.before_app_request
def _check_csrf() -> Any:
    if request.method in SAFE_METHODS:
        return None
    if request.endpoint in ("auth.login", "auth.setup"):
        expected = request.cookies.get(LOGIN_COOKIE) or ""
    elif SESSION_COOKIE in request.cookies:
        session = _session()
        if session is None:
            return None  # no valid session: nobody to act for, and the view refuses strangers
        expected = session.csrf
    else:
        return None
    if expected and secrets.compare_digest(_sent_token().encode(), expected.encode()):
        return None
    log.warning("refused %s %s from %s: missing or wrong CSRF token", request.method, request.path, client_address())
    if request.path.startswith("/api/"):
        raise ApiError(403, "csrf_failed", "staff.error.csrf")
    return message_page("staff.error.csrf", 403)


@bp.after_app_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if g.get("new_login_token"):
        response.set_cookie(LOGIN_COOKIE, g.new_login_token, httponly=True, samesite="Strict", secure=request.is_secure)
    if g.get("staff") is not None or request.endpoint in ("auth.login", "auth.setup"):
        response.headers["Cache-Control"] = "no-store"  # nobody's page stays in a shared browser's cache
    if g.get("session_ended") and request.cookies.get(SESSION_COOKIE) and g.get("staff") is None:
        response.delete_cookie(SESSION_COOKIE)
    return response


# --- pages ------------------------------------------------------------------------------


def message_page(key: str, status: int, **params: Any) -> Response:
    return make_response(render_page("staff/message.html", message_key=key, params=params), status)


def _safe_next(target: str | None) -> str | None:
    """Only a path of this server: never another site (an open redirect after login)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _start_session(member: StaffMember, password: str | None, stored: str | None) -> Response:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    address = client_address()
    rehash = hash_secret(password) if password and stored and needs_rehash(stored) else None

    def work(db: Any, now: datetime) -> tuple[None, list[e.Event]]:
        store = StaffStore(db)
        store.drop_stale_sessions(now - SESSION_MAX, now - SESSION_IDLE)
        store.add_session(SessionRecord(token_hash(token), member.id, csrf, now, now, address))
        if rehash:
            store.set_password_hash(member.id, rehash, now)
        return None, [e.StaffLoggedIn(at=now, staff=member.id, address=address)]

    record(work)
    response = redirect(_safe_next(request.values.get("next")) or url_for("auth.home"))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure)
    response.delete_cookie(LOGIN_COOKIE)
    return response


def _login_form(status: int = 200, error_key: str | None = None, **params: Any) -> Response:
    notice = "staff.login.expired" if g.get("session_ended") or request.args.get("expired") else None
    page = render_page("staff/login.html", error_key=error_key, error_params=params, notice_key=notice,
                       login=request.form.get("login", "")[:40], next=_safe_next(request.values.get("next")) or "")
    response = make_response(page, status)
    if "retry_after_seconds" in params:
        response.headers["Retry-After"] = str(params["retry_after_seconds"])
    return response


@bp.route("/dang-nhap", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return _login_form()
    login_name = (request.form.get("login") or "").strip().lower()[:64]
    password = request.form.get("password") or ""
    throttle = _auth()
    address = client_address() or "?"
    wait = max(throttle.by_address.take(address), throttle.by_account.take(login_name))
    if wait:
        minutes = max(1, int(wait + 59) // 60)
        log.warning("login attempts throttled for %s from %s", login_name or "(empty)", address)
        return _login_form(429, "staff.login.throttled", minutes=minutes, retry_after_seconds=int(wait))
    store = StaffStore(get_db())
    member = store.get(login_name) if login_name else None
    stored = store.password_hash(member.id) if member else None
    matches = verify_secret(stored, password[:1024])
    if matches and member is not None and member.active:
        return _start_session(member, password, stored)
    reason = "unknown_account" if member is None else "disabled" if not member.active else "no_password" if not stored else "bad_password"
    staff_id = member.id if member else None  # never the typed text of an unknown login: it may be a password
    address = client_address()
    record(lambda db, now: (None, [e.StaffLoginFailed(at=now, staff=staff_id, address=address, reason=reason)]))
    return _login_form(401, "staff.login.failed")


@bp.post("/dang-xuat")
def logout() -> Any:
    session, staff = _session(), current_staff()
    if session is not None and staff is not None:
        address = client_address()

        def work(db: Any, now: datetime) -> tuple[None, list[e.Event]]:
            StaffStore(db).drop_session(session.token_hash)
            return None, [e.StaffLoggedOut(at=now, staff=staff.id, address=address)]

        record(work)
    response = redirect(url_for("auth.login"))
    response.delete_cookie(SESSION_COOKIE)
    return response


@bp.get("/nhan-vien")
@requires()
def home() -> Any:
    staff = current_staff()
    assert staff is not None
    links = [link for link in _auth().links if (not link.roles or staff.role in link.roles) and link.endpoint in current_app.view_functions]
    counters = [(cid, office().config.counters[cid].name) for cid in staff.counters if cid in office().config.counters]
    return render_page("staff/home.html", links=links, counters=counters, url_endpoints=current_app.view_functions)


@bp.route("/doi-mat-khau", methods=["GET", "POST"])
@requires()
def password() -> Any:
    staff, session = current_staff(), _session()
    assert staff is not None and session is not None
    if request.method == "GET":
        return render_page("staff/password.html")
    store = StaffStore(get_db())
    if not verify_secret(store.password_hash(staff.id), (request.form.get("current") or "")[:1024]):
        return make_response(render_page("staff/password.html", error_key="staff.password.wrong_current"), 400)
    new = request.form.get("new") or ""
    if new != (request.form.get("again") or ""):
        return make_response(render_page("staff/password.html", error_key="staff.password.mismatch"), 400)
    try:
        change = accounts.new_password(staff.id, new)
        record(lambda db, now: change.apply(db, now, by=staff.id, keep_session=session.token_hash))
    except StaffError as exc:
        return make_response(render_page("staff/password.html", error_key=f"staff.error.{exc.code}", error_params=exc.params), 400)
    return render_page("staff/message.html", message_key="staff.password.changed", params={}, back=url_for("auth.home"))


@bp.route(f"{SETUP_PATH}<token>", methods=["GET", "POST"])
def setup(token: str) -> Any:
    """The first administrator, from the one-time link printed at the first start."""
    data_dir = Path(office().db_path).parent
    now = office().clock.now()
    if len(token) > 128 or not setup_token_valid(data_dir, token, now) or StaffStore(get_db()).active_administrators():
        return message_page("staff.setup.invalid", 404)
    if request.method == "GET":
        return _setup_form()
    form = request.form
    if (form.get("password") or "") != (form.get("again") or ""):
        return _setup_form(400, "staff.password.mismatch")
    try:
        change = accounts.new_account(form.get("login") or "", form.get("name") or "", ADMINISTRATOR, [], form.get("password") or "",
                                      office().config.counters)
        member = record(lambda db, now: change.apply(db, now, by="setup"))
    except StaffError as exc:
        return _setup_form(400, f"staff.error.{exc.code}", **exc.params)
    discard_setup_token(data_dir)
    return _start_session(member, None, None)


def _setup_form(status: int = 200, error_key: str | None = None, **params: Any) -> Response:
    form = request.form
    page = render_page("staff/setup.html", error_key=error_key, error_params=params, login=(form.get("login") or "")[:40],
                       name=clean_or_empty(form.get("name")))
    response = make_response(page, status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


def clean_or_empty(value: str | None) -> str:
    try:
        return clean_name(value or "")
    except StaffError:
        return ""
