"""Fields of work (lĩnh vực) and their numbering: list, add, change, remove."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort

from motcua.protocol import DEVICE_ID_RE
from motcua.speech import prefix_conflicts
from queue_server.config_edit import put_service, remove_service
from queue_server.web.admin.common import Form, bp, change_configuration, done, editors, page, retained, viewers
from queue_server.web.support import office

_BLOCK = re.compile(r"^\s*\d{1,6}\s*-\s*\d{1,6}\s*$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")


def _numbering_text(service: Any) -> str:
    n = service.numbering
    return f"{n.format(n.first)}–{n.format(n.last)}"


def _rows() -> list[dict[str, Any]]:
    config = office().config
    queue = (retained("queue") or {}).get("services", {})
    return [
        {
            "code": s.code, "name": s.name, "name_en": s.name_en, "numbering": _numbering_text(s),
            "counters": [c.name for c in config.counters_serving(s.code)],
            "open": queue.get(s.code, {}).get("open", True), "waiting": queue.get(s.code, {}).get("waiting", 0),
        }
        for s in config.services.values()
    ]


def _form_of(code: str) -> Form:
    table = next((s for s in office().config.source.get("services", []) if s.get("code") == code), None)
    if table is None:
        abort(404)
    kind = "prefix" if "prefix" in table else "block"
    return Form({"code": code, "name": table.get("name", ""), "name_en": table.get("name_en", ""), "kind": kind,
                 "numbers": table.get("numbers", ""), "prefix": table.get("prefix", ""), "digits": str(table.get("digits", 3))})


def _listing(form: Form | None = None, status: int = 200) -> Response:
    config = office().config
    warnings, errors = prefix_conflicts({s.code: s.numbering.prefix for s in config.services.values() if s.numbering.prefix})
    return page("services.html", status, rows=_rows(), form=form or Form({"kind": "block", "digits": "3"}),
                prefix_warnings=warnings + errors)


@bp.get("/services")
@viewers
def services() -> Response:
    return _listing()


def _read(form: Form, new: bool) -> dict[str, Any] | None:
    code = form.required("code") if new else form.get("code")
    if new and code and not DEVICE_ID_RE.match(code):
        form.error("code", "admin.form.ident")
    name = form.required("name")
    fields: dict[str, Any] = {"code": code, "name": name, "name_en": form.get("name_en")}
    if form.get("kind") == "prefix":
        prefix = form.get("prefix").upper()
        if not _PREFIX.match(prefix):
            form.error("prefix", "admin.form.prefix")
        fields.update(prefix=prefix, digits=form.whole_number("digits", 2, 4))
    else:
        numbers = form.required("numbers")
        if numbers and not _BLOCK.match(numbers):
            form.error("numbers", "admin.form.block")
        fields["numbers"] = numbers.replace(" ", "")
    return fields if form.ok else None


@bp.post("/services")
@editors
def add_service() -> Response:
    form = Form.posted()
    fields = _read(form, new=True)
    if fields and change_configuration(lambda doc: put_service(doc, new=True, **fields), form, "services", ("code", fields["code"])):
        return done("admin.services")
    return _listing(form, 400)


@bp.get("/services/<code>")
@viewers
def service(code: str) -> Response:
    return page("service.html", form=_form_of(code), code=code)


@bp.post("/services/<code>")
@editors
def save_service(code: str) -> Response:
    _form_of(code)  # 404 for an unknown code
    form = Form.posted()
    form.values["code"] = code  # a code is an id (reports, topics): it never changes; remove and add instead
    fields = _read(form, new=False)
    if fields and change_configuration(lambda doc: put_service(doc, **fields), form, "services", ("code", code)):
        return done("admin.services")
    return page("service.html", 400, form=form, code=code)


@bp.post("/services/<code>/remove")
@editors
def delete_service(code: str) -> Response:
    form = _form_of(code)
    if change_configuration(lambda doc: remove_service(doc, code), form, "services"):
        return done("admin.services", "removed")
    return page("service.html", 409, form=form, code=code)
