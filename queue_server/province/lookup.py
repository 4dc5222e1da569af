"""Dossier status anywhere in the province.

At the hub: a code is looked up in every office's public records and rendered with the same
public view an office gives (queue_server.dossiers.lookup.public_view), so a kiosk shows it
the same way. The hub holds no second factor (no digits leave an office), so it never shows
the private details: for those the citizen asks the office that holds the dossier.

At the office: a lookup that finds nothing locally asks the hub ([province] hub_url) and
says so when the hub cannot be reached.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from motcua import i18n
from motcua import protocol as p
from queue_server.config import Counter, OfficeConfig, ProvinceLink
from queue_server.dossiers.lookup import LookupRefused, code_or_refuse, public_view
from queue_server.dossiers.model import Dossier, Due

MAX_ANSWER_BYTES = 256 * 1024


class HubUnreachable(Exception):
    """The hub did not answer (network, timeout, server error)."""


def _office_view(office: str, name: str, counter: str | None, counter_name: str | None, tz: ZoneInfo) -> OfficeConfig:
    """Just enough of an office's configuration for public_view: its time zone and the return counter's name."""
    counters = {counter: Counter(counter, counter_name or counter, ())} if counter else {}
    return OfficeConfig(id=office, name=name, services={}, counters=counters, devices={}, timezone=str(tz))


def _dossier(row: dict[str, Any]) -> Dossier:
    return Dossier(
        code=row["code"], updated_at=row["updated_at"], status=row["status"], status_at=row["status_at"],
        procedure_code=row["procedure_code"], procedure_name=row["procedure_name"], received_at=row["received_at"],
        due=Due(row["due_at"]) if row["due_at"] else None, applicant_name=row["applicant"], id_last4=None,
        phone_last4=None, return_counter=row["return_counter"], return_service=row["return_service"],
        late=row["source_late"], source="province", finished_at=row["finished_at"],
    )


def hub_answer(rows: list[dict[str, Any]], raw_code: object, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The hub's answer for rows from hubdb.find_dossiers (most recent first); raises LookupRefused."""
    if not rows:
        raise LookupRefused.worded(404, "not_found", "province.lookup.not_found")
    matches = []
    for row in rows:
        name = row["office_name"] or row["office"]
        config = _office_view(row["office"], name, row["return_counter"], row["return_counter_name"], tz)
        view = public_view(_dossier(row), config, now)
        vi, en = i18n.pair("province.lookup.found_at", office_name=name)
        matches.append({"dossier": view, "found_at": {"office": row["office"], "name": name, "text": vi, "text_en": en}})
    return {"ok": True, "source": "province", **matches[0], "matches": matches}


def ask_hub(link: ProvinceLink, raw_code: object) -> dict[str, Any]:
    """The hub's answer for a code this office does not hold; LookupRefused if the hub has none either."""
    code = code_or_refuse(raw_code)
    url = f"{link.hub_url}/api/dossiers/{urllib.parse.quote(code, safe='')}"
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "motcua-office"})
    try:
        with urllib.request.urlopen(request, timeout=link.lookup_timeout_seconds) as response:
            body = p.decode_json_value(response.read(MAX_ANSWER_BYTES), MAX_ANSWER_BYTES)  # bounded depth too
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise LookupRefused.worded(404, "not_found", "province.lookup.not_found", extra={"province": "not_found"}) from None
        if exc.code == 429:
            retry = int(exc.headers.get("Retry-After", "60") or 60)
            raise LookupRefused.worded(429, "rate_limited", "dossier.lookup.rate_limited", retry_after=retry, seconds=retry) from None
        raise HubUnreachable(f"hub answered HTTP {exc.code}") from None
    except (OSError, ValueError, p.ProtocolError) as exc:  # URLError, timeouts and refused connections are OSErrors
        raise HubUnreachable(str(exc)) from None
    if not isinstance(body, dict) or body.get("ok") is not True or not isinstance(body.get("dossier"), dict):
        raise HubUnreachable("the hub's answer is not a dossier")
    return body


def unreachable() -> LookupRefused:
    return LookupRefused.worded(404, "not_found", "province.lookup.unreachable", extra={"province": "unreachable"})


def province_fallback(link: ProvinceLink, raw_code: object) -> dict[str, Any]:
    """What an office answers for a code it does not hold: the hub's record, or a refusal that says why."""
    try:
        return ask_hub(link, raw_code)
    except HubUnreachable:
        raise unreachable() from None
