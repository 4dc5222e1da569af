"""Kiosks, displays and the other devices: online or not, printer faults, issue limits per kiosk.

Presence (`status/<id>`, online / offline with the last will) and component states
(`state/device/<id>`) come from the server's snapshot; the page refreshes them by itself
(static/admin.js: the live stream for components, a small status poll for presence).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort

from motcua.protocol import BOUND_ROLES, DEVICE_ID_RE, DEVICE_STATES
from queue_server.config_edit import put_device, remove_device, set_issuing
from queue_server.web.admin.common import Form, bp, change_configuration, done, editors, page, t, viewers
from queue_server.web.support import json_response, office, private

# Devices the pages may add or change. Admin devices may do everything: only the file declares them.
WEB_ROLES = ("kiosk", "display", "voice", "counter", "rating")
PRESENCE = ("online", "offline", "unknown", "never")
COMPONENTS = ("printer", "scanner")  # the parts kiosks report (kiosk/printing, kiosk/scanning); others show their own name
ROLE_ORDER = (*WEB_ROLES, "admin")


def device_status() -> dict[str, dict[str, Any]]:
    """{device: {"presence": online|offline|unknown|never, "components": {name: {state, detail, at}}}} of every declared device."""
    server = office().server
    snapshot = server.current_snapshot()
    status = {d: {"presence": snapshot["presence"].get(d, "never"), "components": {}} for d in server.config.devices}
    for key, component in snapshot["devices"].items():
        device, _, name = key.partition("/")
        if device in status:
            status[device]["components"][name] = component
    return status


def status_text() -> dict[str, str]:
    """The words the page shows for each presence and component state (also handed to admin.js)."""
    return {**{f"presence.{p}": t(f"admin.presence.{p}") for p in PRESENCE},
            **{f"state.{s}": t(f"admin.device_state.{s}") for s in DEVICE_STATES},
            **{f"live.{s}": t(f"admin.devices.live_{s}") for s in ("live", "connecting", "offline", "polling")},
            **{f"component.{c}": t(f"admin.component.{c}") for c in COMPONENTS},
            "broker.ok": t("admin.devices.broker_ok"), "broker.down": t("admin.devices.broker_down")}


def _rows() -> list[dict[str, Any]]:
    config = office().config
    status = device_status()
    return [
        {
            "id": d.id, "role": d.role, "counter": config.counters[d.counter].name if d.counter in config.counters else "",
            "limits": config.issuing.for_device(d) if d.role == "kiosk" else None,
            "own_limits": d.tickets_per_minute is not None or d.tickets_per_hour is not None,
            "editable": d.role in WEB_ROLES, **status[d.id],
        }
        for d in sorted(config.devices.values(), key=lambda d: (ROLE_ORDER.index(d.role), d.id))
    ]


def _listing(form: Form | None = None, limits: Form | None = None, status: int = 200) -> Response:
    config = office().config
    return page("devices.html", status, rows=_rows(), form=form or Form({"role": "kiosk"}), roles=WEB_ROLES,
                counters=config.counters, text=status_text(), broker_connected=office().server.current_snapshot()["broker_connected"],
                limits=limits or Form({"per_minute": str(config.issuing.per_minute), "per_hour": str(config.issuing.per_hour)}))


@bp.get("/devices")
@viewers
def devices() -> Response:
    return _listing()


@bp.get("/devices/status.json")
@viewers
def devices_status() -> Response:
    server = office().server
    return private(json_response({"broker_connected": server.current_snapshot()["broker_connected"], "devices": device_status()}))


def _read(form: Form, new: bool) -> dict[str, Any] | None:
    device_id = form.required("id") if new else form.get("id")
    if new and device_id and not DEVICE_ID_RE.match(device_id):
        form.error("id", "admin.form.ident")
    role = form.get("role")
    if role not in WEB_ROLES:
        form.error("role", "admin.form.role")
    counter = form.get("counter") or None
    if role in BOUND_ROLES and counter not in office().config.counters:
        form.error("counter", "admin.form.device_counter")
    if role not in BOUND_ROLES:
        counter = None
    per_minute = per_hour = None
    if role == "kiosk":
        per_minute = form.whole_number("tickets_per_minute", 0, 10_000, required=False)
        per_hour = form.whole_number("tickets_per_hour", 0, 10_000, required=False)
    if not form.ok:
        return None
    return {"device_id": device_id, "role": role, "counter": counter, "tickets_per_minute": per_minute, "tickets_per_hour": per_hour}


def _form_of(device_id: str) -> Form:
    table = next((d for d in office().config.source.get("devices", []) if d.get("id") == device_id), None)
    if table is None or table.get("role") not in WEB_ROLES:
        abort(404)
    return Form({key: "" if value is None else str(value) for key, value in table.items()})


@bp.post("/devices")
@editors
def add_device() -> Response:
    form = Form.posted()
    fields = _read(form, new=True)
    if fields and change_configuration(lambda doc: put_device(doc, new=True, **fields), form, "devices", ("id", fields["device_id"])):
        return done("admin.devices")
    return _listing(form, status=400)


@bp.get("/devices/<device_id>")
@viewers
def device(device_id: str) -> Response:
    return page("device.html", form=_form_of(device_id), device_id=device_id, roles=WEB_ROLES, counters=office().config.counters)


@bp.post("/devices/<device_id>")
@editors
def save_device(device_id: str) -> Response:
    _form_of(device_id)
    form = Form.posted()
    form.values["id"] = device_id
    fields = _read(form, new=False)
    if fields and change_configuration(lambda doc: put_device(doc, **fields), form, "devices", ("id", device_id)):
        return done("admin.devices")
    return page("device.html", 400, form=form, device_id=device_id, roles=WEB_ROLES, counters=office().config.counters)


@bp.post("/devices/<device_id>/remove")
@editors
def delete_device(device_id: str) -> Response:
    form = _form_of(device_id)
    if change_configuration(lambda doc: remove_device(doc, device_id), form, "devices"):
        return done("admin.devices", "removed")
    return page("device.html", 409, form=form, device_id=device_id, roles=WEB_ROLES, counters=office().config.counters)


@bp.post("/devices/limits")
@editors
def save_limits() -> Response:
    limits = Form.posted()
    per_minute = limits.whole_number("per_minute", 0, 10_000)
    per_hour = limits.whole_number("per_hour", 0, 100_000)
    if limits.ok and change_configuration(lambda doc: set_issuing(doc, per_minute, per_hour), limits, "issuing"):
        return done("admin.devices")
    return _listing(limits=limits, status=400)
