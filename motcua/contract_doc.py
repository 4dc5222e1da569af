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
    if origin is dict:
        return f"object of {_type_name(get_args(tp)[1])}"
    if isinstance(tp, type) and issubclass(tp, p.Schema):
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    return {str: "text", bool: "true/false", int: "integer", typing.Any: "any"}.get(tp, str(tp))  # type: ignore[arg-type]


def _nullable(tp: object) -> bool:
    return get_origin(tp) in (typing.Union, types.UnionType) and type(None) in get_args(tp)


def _schemas() -> list[type]:
    """Every outbound schema, in the order a reader meets them (topics first, then the parts)."""
    order: list[type] = []

    def visit(cls: type) -> None:
        if cls in order:
            return
        order.append(cls)
        for tp in typing.get_type_hints(cls).values():
            for inner in (tp, *get_args(tp), *(a for arg in get_args(tp) for a in get_args(arg))):
                if isinstance(inner, type) and issubclass(inner, p.Schema):
                    visit(inner)

    for cls in (*p.RETAINED_SCHEMAS.values(), *p.EVENT_SCHEMAS.values(), p.Reply):
        visit(cls)
    return order


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
        f"Contract version {p.CONTRACT_VERSION}.{p.CONTRACT_MINOR}. Generated from `motcua/protocol.py` by `motcua contract`; do not edit by hand.",
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
        f"| `{t.state_calls}` | server -> all | 1 / retained |",
        f"| `{t.state_clock}` | server -> all | 1 / retained, every {p.CLOCK_SECONDS} s |",
        f"| `{t.event_call}` | server -> all | 1 / no |",
        f"| `{t.status('{device}')}` | device -> all | 1 / retained, `{p.ONLINE}` / `{p.OFFLINE}` (last will) |",
        f"| `{t.state_device('{device}')}` | server -> all | 1 / retained |",
        "",
        f"Device ids, office ids and counter ids match `{p.DEVICE_ID_RE.pattern}`. Payloads are UTF-8 JSON objects of at most "
        f"{p.MAX_PAYLOAD_BYTES // 1024} KiB. Request ids are texts of 1-{p.MAX_ID_LENGTH} printable characters chosen by the device; "
        "a re-sent id gets the first reply. Unknown keys are ignored. `?` marks an optional field.",
        "",
        *_connecting(t),
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
        "A device with role `counter` or `rating` is bound to one counter by the office configuration: its `counter` field may "
        "be left out and, if given, must be its own. An `admin` device must name the counter.",
        "",
        "## Outbound payloads",
        "",
        "What the server publishes. Every field is present in every payload (`null` when it has no value; nullable fields are "
        "marked `?`). Read them ignoring keys you do not know: minor versions add fields.",
        "",
        "| topic | payload |",
        "| --- | --- |",
    ]
    for topic, cls in {**p.RETAINED_SCHEMAS, **p.EVENT_SCHEMAS, "res/{device}": p.Reply}.items():
        lines.append(f"| `{topic}` | {_type_name(cls)} |")
    for cls in _schemas():
        hints = typing.get_type_hints(cls)
        doc = " ".join((cls.__doc__ or "").split())
        lines += ["", f"### {cls.__name__}", ""] + ([doc, ""] if doc and not doc.startswith(cls.__name__ + "(") else [])
        lines += ["| field | type |", "| --- | --- |"]
        for f in dataclasses.fields(cls):
            lines.append(f"| `{f.name}`{'?' if _nullable(hints[f.name]) else ''} | {_type_name(hints[f.name])} |")
    lines += [
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


def _connecting(t: p.Topics) -> list[str]:
    """For device makers: logging in, client ids, what the broker lets a device do, Nagle."""
    device = "{device}"
    return [
        "## Connecting: credential, client id, TCP_NODELAY",
        "",
        f"- **Every device has its own broker credential.** The user name is the device id; the password is generated "
        f"by `motcua devices credentials` into `devices/{device}.toml` (`[credentials]`, one line `{device} = \"secret\"`). "
        "Keep it in a file only the device program can read (mode 0600), or in the environment (`MOTCUA_CREDENTIALS` names "
        "the file, `MOTCUA_BROKER_PASSWORD` holds the password). Never put it in a URL or on a command line: `ps` shows those "
        "to every user of the box.",
        "- Connect with MQTT 3.1.1. A missing or wrong password, or no user name, is answered with CONNACK 5 (not authorized).",
        "- **The client id is the user name.** Use the device id as client id: the office broker replaces any other with the "
        "user name (Mosquitto's `use_username_as_clientid`, the same rule in the embedded broker). So nobody can take over "
        "another device's or the server's session, and one credential gives one connection: a second program connecting "
        "with the same credential closes the first one's connection.",
        f"- What the broker lets a device do: publish on `{t.req(device)}` and `{t.status(device)}`; subscribe to "
        f"`{t.res(device)}`, `{t.base}/state/#`, `{t.base}/event/#` and `{t.all_status}`. Nothing else. With MQTT 3.1.1 a "
        "publish the broker denies is dropped without an error, and a denied subscription is refused (SUBACK 0x80, embedded "
        "broker) or granted but never delivers (Mosquitto 2.0.11): if nothing ever comes, check the topic.",
        "- A retained message reaches only subscriptions that match it, on both brokers; still, dispatch every message by "
        "its topic.",
        "- **Set `TCP_NODELAY` on the device's socket.** Measured: a stock paho client against a stock Mosquitto sees "
        "44-88 ms request/reply round trips (Nagle's algorithm waiting for the peer's delayed ACK) until the device sets "
        "`TCP_NODELAY`; then about 1-2 ms. The office broker sets it on its side (`set_tcp_nodelay true`); the device must "
        "set it on its own (`motcua.client.disable_nagle` does it for paho).",
        "- Keep-alive of 60 s or less; on a lost connection reconnect with a growing delay (1-5 s), subscribe again, and "
        "publish `online` again.",
        "",
    ]
