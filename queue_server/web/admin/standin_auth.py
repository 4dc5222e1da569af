"""STAND-IN for queue_server/web/auth.py (the staff branch), deleted once that lands.

The names its docstring promises: `requires(*roles)`, `current_staff()`, `acting_device(role)`,
template globals `csrf_field()` / `csrf_token()`, CSRF checked on every POST with a session,
login at `auth.login` (/dang-nhap, fields `login` and `password`). Accounts: `STAFF`, filled by tests.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, abort, redirect, request, session, url_for
from markupsafe import Markup, escape

from queue_server.config import Device

STAFF: dict[str, tuple[str, str]] = {}  # login -> (password, role)
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    role: str


def current_staff() -> StaffMember | None:
    who = session.get("standin_staff")
    return StaffMember(*who) if who else None


def csrf_token() -> str:
    if "standin_csrf" not in session:
        session["standin_csrf"] = secrets.token_urlsafe(16)
    return session["standin_csrf"]


def csrf_field() -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


def requires(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None:
                return redirect(url_for("auth.login", next=request.path))
            if roles and staff.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return guarded
    return decorate


def acting_device(role: str, counter: str | None = None) -> Device:
    return Device(id=f"web-{counter}" if counter else f"web-{role}", role=role, counter=counter)


bp = Blueprint("auth", __name__)


@bp.record_once
def _prepare(state: Any) -> None:
    state.app.secret_key = state.app.secret_key or secrets.token_bytes(32)
    state.app.jinja_env.globals.update(csrf_field=csrf_field, csrf_token=csrf_token, current_staff=current_staff)


@bp.before_app_request
def _check_csrf() -> Any:
    if request.method != "POST" or request.endpoint == "auth.login" or "standin_staff" not in session:
        return None
    if not secrets.compare_digest(request.form.get(CSRF_FIELD, ""), session.get("standin_csrf", "-")):
        abort(403)
    return None


@bp.route("/dang-nhap", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        user = request.form.get("login", "")
        if user in STAFF and STAFF[user][0] == request.form.get("password", ""):
            session["standin_staff"] = (user, user, STAFF[user][1])
            return redirect(request.args.get("next") or "/admin")
    return ('<form method="post"><input name="login"><input name="password" type="password">'
            '<button type="submit">Đăng nhập</button></form>')


@bp.post("/dang-xuat")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))
