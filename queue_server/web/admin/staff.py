"""Staff accounts and the counters each official may use, through queue_server/staff (checked and hashed
here, applied with its audit event by the server's worker: `accounts` + `auth.record`)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from queue_server.staff import ROLES, StaffError, StaffStore, accounts
from queue_server.web.admin.common import Form, bp, done, editors, page, viewers
from queue_server.web.auth import current_staff, record
from queue_server.web.support import get_db, office

# Where a refusal of queue_server/staff belongs in the form.
ERROR_FIELDS = {"bad_id": "id", "exists": "id", "bad_name": "name", "bad_role": "role", "unknown_counters": "counters",
                "weak_password": "password", "last_administrator": "role"}


def _rows() -> list[dict[str, Any]]:
    counters = office().config.counters
    return [{"member": m, "counters": [counters[c].name if c in counters else c for c in m.counters]} for m in StaffStore(get_db()).all()]


def _posted(staff_id: str | None = None) -> Form:
    form = Form.posted()
    if staff_id is not None:
        form.values["id"] = staff_id  # ids are in the event log and the reports: they never change
    form.values["counters"] = request.form.getlist("counters")
    form.values["active"] = request.form.get("active") == "on"
    return form


def _refused(form: Form, error: StaffError) -> None:
    form.errors[ERROR_FIELDS.get(error.code, "id")] = error.message


def _passwords(form: Form, required: bool) -> str | None:
    password = request.form.get("password") or ""  # never stripped, never kept in the form
    form.values.pop("password", None)
    form.values.pop("again", None)
    if not password and not required:
        return None
    if password != (request.form.get("again") or ""):
        form.error("again", "admin.staff.mismatch")
    return password


def _listing(form: Form | None = None, status: int = 200) -> Response:
    return page("staff.html", status, rows=_rows(), roles=ROLES, counters=office().config.counters,
                form=form or Form({"role": "official", "counters": [], "active": True}))


@bp.get("/staff")
@viewers
def staff() -> Response:
    return _listing()


@bp.post("/staff")
@editors
def add_staff() -> Response:
    form = _posted()
    password = _passwords(form, required=True)
    if form.ok:
        me = current_staff()
        try:
            change = accounts.new_account(form.get("id"), form.get("name"), form.get("role"), form.get("counters"), password or "",
                                          office().config.counters)
            record(lambda db, now: change.apply(db, now, by=me.id))
            return done("admin.staff")
        except StaffError as error:
            _refused(form, error)
    return _listing(form, 400)


def _member_form(staff_id: str) -> Form:
    member = StaffStore(get_db()).get(staff_id)
    if member is None:
        abort(404)
    return Form({"id": member.id, "name": member.name, "role": member.role, "counters": list(member.counters), "active": member.active})


def _member_page(form: Form, staff_id: str, status: int = 200) -> Response:
    me = current_staff()
    return page("staff_member.html", status, form=form, staff_id=staff_id, roles=ROLES, counters=office().config.counters,
                yourself=me is not None and me.id == staff_id)


@bp.get("/staff/<staff_id>")
@viewers
def staff_member(staff_id: str) -> Response:
    return _member_page(_member_form(staff_id), staff_id)


@bp.post("/staff/<staff_id>")
@editors
def save_staff(staff_id: str) -> Response:
    _member_form(staff_id)
    form = _posted(staff_id)
    password = _passwords(form, required=False)
    if form.ok:
        me = current_staff()
        try:
            change = accounts.edit_account(staff_id, office().config.counters, name=form.get("name"), role=form.get("role"),
                                           counters=form.get("counters"), active=form.get("active"), password=password)
            record(lambda db, now: change.apply(db, now, by=me.id))
            return done("admin.staff")
        except StaffError as error:
            _refused(form, error)
    return _member_page(form, staff_id, 400)
