"""Render the MQTT contract reference (docs/mqtt-contract.md) from protocol.py and the catalogs.

`motcua contract` prints it; tests/unit/test_contract_doc.py fails when the committed
page differs, so the page cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import get_args, get_origin

from motcua import i18n
from motcua import protocol as p


def _type_name(tp: object) -> str:
    origin = get_origin(tp)
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _type_name(inner[0])
    if origin is list:
        return f"list of {_type_name(get_args(tp)[0])}"
    return {str: "text", bool: "true/false", int: "integer"}.get(tp, str(tp))  # type: ignore[arg-type]


def _fields(cls: type) -> str:
    hints = typing.get_type_hints(cls)
    parts = []
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        parts.append(f"`{f.name}`{'' if required else '?'}: {_type_name(hints[f.name])}")
    return "; ".join(parts) or "none"


def render() -> str:
    t = p.Topics("{office}", "{prefix}")
    lines = [
        f"Contract version {p.CONTRACT_VERSION}. Generated from `motcua/protocol.py` by `motcua contract`; do not edit by hand.",
        "",
        "## Topics",
        "",
        "| topic | direction | QoS / retained |",
        "| --- | --- | --- |",
        f"| `{t.req('{device}')}` | device -> server | 1 / no |",
        f"| `{t.res('{device}')}` | server -> device | 1 / no |",
        f"| `{t.state_office}` | server -> all | 1 / retained |",
        f"| `{t.state_queue}` | server -> all | 1 / retained |",
        f"| `{t.state_counter('{counter}')}` | server -> all | 1 / retained |",
        f"| `{t.event_call}` | server -> all | 1 / no |",
        f"| `{t.status('{device}')}` | device -> all | 1 / retained, `{p.ONLINE}` / `{p.OFFLINE}` (last will) |",
        f"| `{t.state_device('{device}')}` | server -> all | 1 / retained |",
        "",
        f"Device ids, office ids and counter ids match `{p.DEVICE_ID_RE.pattern}`. Payloads are UTF-8 JSON objects of at most "
        f"{p.MAX_PAYLOAD_BYTES // 1024} KiB. Request ids are texts of 1-{p.MAX_ID_LENGTH} printable characters chosen by the device; "
        "a re-sent id gets the first reply. Unknown keys are ignored. `?` marks an optional field.",
        "",
        "## Operations",
        "",
        "| op | fields | roles that may send it |",
        "| --- | --- | --- |",
    ]
    for op, cls in p.OPS.items():
        roles = ", ".join(role for role in p.ROLES if op in p.ROLE_OPS[role])
        lines.append(f"| `{op}` | {_fields(cls)} | {roles} |")
    lines += [
        "",
        "A device with role `counter` is bound to one counter by the office configuration: its `counter` field may be left out "
        "and, if given, must be its own. An `admin` device must name the counter.",
        "",
        "## Error codes",
        "",
        "| code | Vietnamese message | English message |",
        "| --- | --- | --- |",
    ]
    for code in p.ERROR_CODES:
        vi = i18n.catalog("vi")[f"error.{code}"].replace("|", "\\|")
        en = i18n.catalog("en")[f"error.{code}"].replace("|", "\\|")
        lines.append(f"| `{code}` | {vi} | {en} |")
    return "\n".join(lines) + "\n"
