"""The first page: how the office stands now, the notice line, the configuration export."""

from __future__ import annotations

from flask import Response

from queue_server.config_export import to_toml
from queue_server.web.admin.common import Form, act, bp, done, editors, local_now, next_reset, office_info, page, retained, viewers
from queue_server.web.admin.devices import device_status
from queue_server.web.support import office

NOTICE_MAX = 500  # the contract's limit (motcua.protocol.OfficeNotice)


def _page(notice: Form | None = None, status: int = 200) -> Response:
    config = office().config
    now = local_now()
    info = office_info()
    queue = retained("queue") or {}
    counters = [retained(f"counter/{c}") or {} for c in config.counters]
    devices = device_status()
    problems = []  # what needs someone: a device gone, a printer out of paper
    for device, s in devices.items():
        if s["presence"] == "offline":
            problems.append({"device": device, "component": None, "state": "offline", "detail": None})
        for name, component in s["components"].items():
            if component["state"] not in ("ok", "unknown"):
                problems.append({"device": device, "component": name, "state": component["state"], "detail": component["detail"]})
    return page(
        "overview.html", status,
        notice=notice or Form({"text": (info.notice if info else None) or ""}), notice_max=NOTICE_MAX,
        business_day=queue.get("business_day") or (info.business_day if info else None), next_reset=next_reset(now),
        holiday=config.holiday_on(now), is_open=config.is_open(now), hours_text=config.hours_text(),
        waiting=queue.get("total_waiting", 0), open_counters=sum(1 for c in counters if c.get("status") not in (None, "closed")),
        counter_count=len(config.counters), service_count=len(config.services),
        online=sum(1 for s in devices.values() if s["presence"] == "online"), device_count=len(devices), problems=problems,
    )


@bp.get("")
@viewers
def overview() -> Response:
    return _page()


@bp.post("/notice")
@editors
def set_notice() -> Response:
    """The notice line of TVs and LED boards (`office.notice`); empty clears it."""
    form = Form.posted()
    text = form.get("text")
    if len(text) > NOTICE_MAX:
        form.error("text", "admin.form.too_long", limit=NOTICE_MAX)
        return _page(form, 400)
    reply = act("office.notice", text=text or None)
    if not reply["ok"]:
        form.errors["text"] = reply["error"]["message"]
        return _page(form, 400)
    return done("admin.overview", "notice")


@bp.get("/config.toml")
@viewers
def export() -> Response:
    """The configuration in force as a TOML file (the seed format: `motcua config import` reads it back)."""
    config = office().config
    text = to_toml(config.source, "the admin page")
    name = f"{config.id}-{local_now():%Y-%m-%d}.toml"
    return Response(text, mimetype="application/toml", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
