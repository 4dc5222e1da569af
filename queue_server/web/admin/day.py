"""Today: which fields issue numbers, which counters are open, and when the business day resets.

The engine starts a new business day by itself at [office] day_reset (numbers restart, what
still waits expires, every counter closes). There is deliberately no "reset now" button: a
second reset in one day would issue the morning's numbers again. What an office needs at the
end of the day is to stop issuing (each field, or all at once, with the words the kiosk shows)
and to close the counters still open; both are here, and act through the engine at once.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from queue_server.web.admin.common import Form, act, bp, done, editors, local_now, next_reset, page, retained, viewers
from queue_server.web.support import office

REASON_MAX = 200  # the contract's text limit for a closing reason


def _counters() -> list[dict[str, Any]]:
    return [{"id": c.id, "name": c.name, **(retained(f"counter/{c.id}") or {"status": "closed"})} for c in office().config.counters.values()]


def _page(problems: list[str] | None = None, form: Form | None = None, status: int = 200) -> Response:
    config = office().config
    now = local_now()
    queue = retained("queue") or {}
    services = [{"code": code, **queue.get("services", {}).get(code, {"name": s.name, "open": True, "waiting": 0})}
                for code, s in config.services.items()]
    return page("day.html", status, services=services, counters=_counters(), business_day=queue.get("business_day"),
                next_reset=next_reset(now), holiday=config.holiday_on(now), is_open=config.is_open(now),
                problems=problems or [], form=form or Form(), reason_max=REASON_MAX)


@bp.get("/day")
@viewers
def day() -> Response:
    return _page()


def _reason(form: Form) -> str | None:
    reason = form.get("reason")
    if len(reason) > REASON_MAX:
        form.error("reason", "admin.form.too_long", limit=REASON_MAX)
    return reason or None


def _each(op: str, targets: list[str], key: str, **fields: Any) -> list[str]:
    """Ask the engine once per target; the refusals' messages (a counter still serving someone...)."""
    refusals = []
    for target in targets:
        reply = act(op, **{key: target}, **fields)
        if not reply["ok"]:
            refusals.append(reply["error"]["message"])
    return refusals


def _finish(refusals: list[str], what: str, form: Form | None = None) -> Response:
    return _page(refusals, form, 409) if refusals else done("admin.day", what)


@bp.post("/day/services/<code>/close")
@editors
def close_service(code: str) -> Response:
    form = Form.posted()
    reason = _reason(form)
    if not form.ok:
        return _page(form=form, status=400)
    return _finish(_each("service.close", [code], "service", reason=reason), "closed", form)


@bp.post("/day/services/<code>/open")
@editors
def open_service(code: str) -> Response:
    return _finish(_each("service.open", [code], "service"), "opened")


@bp.post("/day/services/close")
@editors
def close_all_services() -> Response:
    form = Form.posted()
    reason = _reason(form)
    if not form.ok:
        return _page(form=form, status=400)
    return _finish(_each("service.close", list(office().config.services), "service", reason=reason), "closed", form)


@bp.post("/day/services/open")
@editors
def open_all_services() -> Response:
    return _finish(_each("service.open", list(office().config.services), "service"), "opened")


@bp.post("/day/counters/<counter_id>/close")
@editors
def close_counter(counter_id: str) -> Response:
    return _finish(_each("counter.close", [counter_id], "counter"), "closed")


@bp.post("/day/counters/close")
@editors
def close_all_counters() -> Response:
    open_ones = [c["id"] for c in _counters() if c.get("status") != "closed"]
    return _finish(_each("counter.close", open_ones, "counter"), "closed")
