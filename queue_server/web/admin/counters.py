"""Counters: their names on screens, what the loudspeaker calls them, the fields they serve."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from motcua.protocol import DEVICE_ID_RE
from motcua.speech import counter_phrase
from queue_server.config_edit import put_counter, remove_counter
from queue_server.web.admin.common import Form, bp, change_configuration, done, editors, page, retained, viewers
from queue_server.web.support import office


def _rows() -> list[dict[str, Any]]:
    config = office().config
    rows = []
    for c in config.counters.values():
        live = retained(f"counter/{c.id}") or {}
        rows.append({
            "id": c.id, "name": c.name, "spoken": counter_phrase(c.id, c.name, c.spoken_name), "spoken_set": bool(c.spoken_name),
            "services": [config.services[s].name for s in c.services if s in config.services], "priority_only": c.priority_only,
            "status": live.get("status", "closed"), "status_text": live.get("status_text", ""), "staff": live.get("staff"),
            "devices": [d.id for d in config.devices.values() if d.counter == c.id],
        })
    return rows


def _form_of(counter_id: str) -> Form:
    table = next((c for c in office().config.source.get("counters", []) if c.get("id") == counter_id), None)
    if table is None:
        abort(404)
    return Form({"id": counter_id, "name": table.get("name", ""), "spoken_name": table.get("spoken_name", ""),
                 "services": list(table.get("services", [])), "priority_only": bool(table.get("priority_only"))})


def _posted(counter_id: str | None = None) -> Form:
    form = Form.posted()
    if counter_id is not None:
        form.values["id"] = counter_id  # ids are in topics and reports: they never change
    form.values["services"] = request.form.getlist("services")
    form.values["priority_only"] = request.form.get("priority_only") == "on"
    return form


def _read(form: Form, new: bool) -> dict[str, Any] | None:
    counter_id = form.required("id") if new else form.get("id")
    if new and counter_id and not DEVICE_ID_RE.match(counter_id):
        form.error("id", "admin.form.ident")
    name = form.required("name")
    services = [s for s in form.get("services", []) if s in office().config.services]
    if not services:
        form.error("services", "admin.edit.no_services")
    if not form.ok:
        return None
    return {"counter_id": counter_id, "name": name, "services": services, "spoken_name": form.get("spoken_name"),
            "priority_only": form.get("priority_only", False)}


def _listing(form: Form | None = None, status: int = 200) -> Response:
    return page("counters.html", status, rows=_rows(), form=form or Form({"services": []}), services=office().config.services)


@bp.get("/counters")
@viewers
def counters() -> Response:
    return _listing()


@bp.post("/counters")
@editors
def add_counter() -> Response:
    form = _posted()
    fields = _read(form, new=True)
    if fields and change_configuration(lambda doc: put_counter(doc, new=True, **fields), form, "counters", ("id", fields["counter_id"])):
        return done("admin.counters")
    return _listing(form, 400)


@bp.get("/counters/<counter_id>")
@viewers
def counter(counter_id: str) -> Response:
    return page("counter.html", form=_form_of(counter_id), counter_id=counter_id, services=office().config.services)


@bp.post("/counters/<counter_id>")
@editors
def save_counter(counter_id: str) -> Response:
    _form_of(counter_id)
    form = _posted(counter_id)
    fields = _read(form, new=False)
    if fields and change_configuration(lambda doc: put_counter(doc, **fields), form, "counters", ("id", counter_id)):
        return done("admin.counters")
    return page("counter.html", 400, form=form, counter_id=counter_id, services=office().config.services)


@bp.post("/counters/<counter_id>/remove")
@editors
def delete_counter(counter_id: str) -> Response:
    form = _form_of(counter_id)
    if change_configuration(lambda doc: remove_counter(doc, counter_id), form, "counters"):
        return done("admin.counters", "removed")
    return page("counter.html", 409, form=form, counter_id=counter_id, services=office().config.services)
