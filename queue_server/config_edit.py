"""Edits of the office configuration document, as the admin pages make them: pure, one copy per edit.

The document is the whole configuration table (`OfficeConfig.source`, the TOML file's content).
Each function returns a changed deep copy and never touches the one in force; the caller sends
it to the engine (`office.configure`), which validates it with the same validator as the file
and refuses what today's tickets still use. Checks here are only those the validator cannot
word for an office manager (a counter left with no field, a device left without its counter);
`EditError` names the form field and a catalog key (`admin.edit.*`).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from queue_server.config import WEEKDAYS

# "services[2].name: ...", "hours.mon: ...", "[issuing]: ...", "services[2]: give either ..."
_DETAIL_KEY = re.compile(r"^\[?(?P<section>[a-z_]+)(?:\[(?P<index>\d+)\])?\]?(?:\.(?P<field>[a-z_]+))?\s*:")


class EditError(ValueError):
    """An edit that cannot be made; `field` is the form field it concerns, `key` its catalog message."""

    def __init__(self, field: str, key: str, **params: Any) -> None:
        super().__init__(field, key, params)
        self.field, self.key, self.params = field, key, params


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(document)


def position(document: dict[str, Any], section: str, key: str, value: str) -> int | None:
    """The index in an array of tables ([[services]], [[counters]], [[devices]]) of the one whose `key` is `value`."""
    return next((i for i, t in enumerate(document.get(section) or []) if isinstance(t, dict) and t.get(key) == value), None)


def _put(document: dict[str, Any], section: str, key: str, value: str, new: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the copy, the table to fill in it): a new table appended, or the existing one."""
    out = _copy(document)
    tables = out.setdefault(section, [])
    index = position(out, section, key, value)
    if new and index is not None:
        raise EditError(key, "admin.edit.duplicate", value=value)
    if not new and index is None:
        raise EditError(key, "admin.edit.unknown", value=value)
    if index is None:
        tables.append({key: value})
        return out, tables[-1]
    return out, tables[index]


def _set_or_drop(table: dict[str, Any], key: str, value: Any) -> None:
    """An empty text or a None leaves the key out (the validator's default applies)."""
    if value is None or value == "":
        table.pop(key, None)
    else:
        table[key] = value


# --- fields of work and their numbering ------------------------------------------------


def put_service(document: dict[str, Any], code: str, name: str, name_en: str = "", numbers: str | None = None,
                prefix: str | None = None, digits: int = 3, new: bool = False) -> dict[str, Any]:
    """Add (`new`) or change a field of work; numbering is a block (`numbers="1001-1999"`) or a prefix with digits."""
    out, table = _put(document, "services", "code", code, new)
    table["name"] = name
    _set_or_drop(table, "name_en", name_en)
    if prefix:
        table.pop("numbers", None)
        table["prefix"], table["digits"] = prefix, digits
    else:
        table.pop("prefix", None)
        table.pop("digits", None)
        table["numbers"] = numbers
    return out


def remove_service(document: dict[str, Any], code: str) -> dict[str, Any]:
    """Remove a field of work and take it off every counter; refused if a counter serves only it."""
    out = _copy(document)
    index = position(out, "services", "code", code)
    if index is None:
        raise EditError("code", "admin.edit.unknown", value=code)
    alone = [c.get("name", c.get("id")) for c in out.get("counters", []) if c.get("services") == [code]]
    if alone:
        raise EditError("code", "admin.edit.service_only_at", counters=", ".join(alone))
    del out["services"][index]
    for counter in out.get("counters", []):
        if code in (counter.get("services") or []):
            counter["services"] = [s for s in counter["services"] if s != code]
    return out


# --- counters -------------------------------------------------------------------------


def put_counter(document: dict[str, Any], counter_id: str, name: str, services: list[str], spoken_name: str = "",
                priority_only: bool = False, new: bool = False) -> dict[str, Any]:
    """Add or change a counter: its name on screens, what the loudspeaker calls it, the fields it serves."""
    if not services:
        raise EditError("services", "admin.edit.no_services")
    out, table = _put(document, "counters", "id", counter_id, new)
    table["name"] = name
    table["services"] = list(services)
    _set_or_drop(table, "spoken_name", spoken_name)
    if priority_only:
        table["priority_only"] = True
    else:
        table.pop("priority_only", None)
    return out


def remove_counter(document: dict[str, Any], counter_id: str) -> dict[str, Any]:
    """Remove a counter; refused while devices are bound to it (remove or move them first)."""
    out = _copy(document)
    index = position(out, "counters", "id", counter_id)
    if index is None:
        raise EditError("id", "admin.edit.unknown", value=counter_id)
    bound = [d["id"] for d in out.get("devices", []) if d.get("counter") == counter_id]
    if bound:
        raise EditError("id", "admin.edit.counter_has_devices", devices=", ".join(bound))
    del out["counters"][index]
    return out


# --- devices and issue limits ---------------------------------------------------------------


def put_device(document: dict[str, Any], device_id: str, role: str, counter: str | None = None,
               tickets_per_minute: int | None = None, tickets_per_hour: int | None = None, new: bool = False) -> dict[str, Any]:
    """Add or change a device: its role, the counter it is bound to, a kiosk's own issue limits (None: the office's)."""
    out, table = _put(document, "devices", "id", device_id, new)
    table["role"] = role
    _set_or_drop(table, "counter", counter)
    _set_or_drop(table, "tickets_per_minute", tickets_per_minute)
    _set_or_drop(table, "tickets_per_hour", tickets_per_hour)
    return out


def remove_device(document: dict[str, Any], device_id: str) -> dict[str, Any]:
    out = _copy(document)
    index = position(out, "devices", "id", device_id)
    if index is None:
        raise EditError("id", "admin.edit.unknown", value=device_id)
    del out["devices"][index]
    return out


def set_issuing(document: dict[str, Any], per_minute: int, per_hour: int) -> dict[str, Any]:
    """The office's issue limits per kiosk ([issuing]); 0 turns one off."""
    out = _copy(document)
    out["issuing"] = {**(out.get("issuing") or {}), "per_minute": per_minute, "per_hour": per_hour}
    return out


# --- opening hours and holidays ---------------------------------------------------------


def set_hours(document: dict[str, Any], hours: dict[str, str], issue_outside_hours: bool) -> dict[str, Any]:
    """[hours] from one text per weekday ("07:00-11:30, 13:00-17:00"; empty: closed that day)."""
    out = _copy(document)
    out["hours"] = {day: hours[day].strip() for day in WEEKDAYS if hours.get(day, "").strip()}
    out.setdefault("office", {})["issue_outside_hours"] = issue_outside_hours
    return out


def add_holiday(document: dict[str, Any], first: str, last: str, name: str) -> dict[str, Any]:
    """One more [[holidays]] entry (dates as "YYYY-MM-DD"; `last` empty or equal: one day)."""
    out = _copy(document)
    entry = {"date": first, "name": name}
    if last and last != first:
        entry["until"] = last
    out.setdefault("holidays", []).append(entry)
    out["holidays"].sort(key=lambda h: str(h.get("date")))
    return out


def remove_holiday(document: dict[str, Any], first: str, name: str) -> dict[str, Any]:
    out = _copy(document)
    kept = [h for h in out.get("holidays", []) if not (h.get("date") == first and h.get("name") == name)]
    if len(kept) == len(out.get("holidays", [])):
        raise EditError("date", "admin.edit.unknown", value=first)
    if kept:
        out["holidays"] = kept
    else:
        out.pop("holidays", None)
    return out


# --- where a refusal points ---------------------------------------------------------------


def refused_field(detail: str, section: str, index: int | None = None) -> str | None:
    """The form field a validator message names ("services[2].name: ..." -> "name" for services, index 2).

    None when it names another part of the configuration (the form shows it on top)."""
    match = _DETAIL_KEY.match(detail or "")
    if match is None or match["section"] != section:
        return None
    if match["index"] is not None and index is not None and int(match["index"]) != index:
        return None
    if match["field"]:
        return match["field"]
    if section == "services":
        return "numbers"  # "services[2]: give either numbers = ... or prefix = ..."
    return section
