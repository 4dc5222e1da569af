"""Dossier status: a scanned or typed receipt code, the server's answer in plain words, details after 4 digits.

The server (`/api/dossiers/lookup`) already words everything in Vietnamese and English; the kiosk
only picks the language and lays it out. Without the second factor the answer is what anyone may
see; with the last 4 digits of the applicant's ID card or phone it adds missing documents and history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kiosk.flows.outcome import Problem, offline
from kiosk.http_api import HttpApi, Unreachable

MAX_CODE_CHARS = 200  # a scanned lookup URL is longer than a code; the server parses both


@dataclass(frozen=True)
class DossierAnswer:
    dossier: dict[str, Any] | None = None
    problem: Problem | None = None
    attempts_left: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return bool(self.dossier and self.dossier.get("verified"))


def _refusal(body: Any) -> Problem:
    error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else "internal_error"
    vi, en = error.get("message"), error.get("message_en")
    if not isinstance(vi, str) or not vi:
        return Problem(code, "kiosk.error.generic")
    return Problem(code, f"kiosk.dossier.error.{code}", {}, (vi, en if isinstance(en, str) else vi))


def look_up(http: HttpApi, code: str, verify: str | None = None) -> DossierAnswer:
    code = code.strip()
    if not code:
        return DossierAnswer(problem=Problem("empty", "kiosk.dossier.empty"))
    if len(code) > MAX_CODE_CHARS:
        return DossierAnswer(problem=Problem("too_long", "kiosk.dossier.empty"))
    if verify is not None and not re.fullmatch(r"[0-9]{4}", verify):
        return DossierAnswer(problem=Problem("bad_verify", "kiosk.dossier.four_digits"))
    try:
        reply = http.dossier(code, verify)
    except Unreachable:
        return DossierAnswer(problem=offline())
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.ok and isinstance(body.get("dossier"), dict):
        return DossierAnswer(body["dossier"])
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    left = error.get("attempts_left") if isinstance(error.get("attempts_left"), int) else None
    return DossierAnswer(problem=_refusal(body), attempts_left=left)


def summary_lines(dossier: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label key, value) pairs the result screen shows, most important first; empty values left out."""
    en = lang == "en"
    procedure = dossier.get("procedure") if isinstance(dossier.get("procedure"), dict) else {}
    status = dossier.get("status_text_en" if en else "status_text") or dossier.get("status_text")
    timeliness = dossier.get("timeliness_text_en" if en else "timeliness_text") or dossier.get("timeliness_text")
    lines = [
        ("kiosk.dossier.status", status),
        ("kiosk.dossier.procedure", procedure.get("name") or procedure.get("code")),
        ("kiosk.dossier.received", dossier.get("received_text")),
        ("kiosk.dossier.due", dossier.get("due_text")),
        ("kiosk.dossier.timeliness", timeliness),
        ("kiosk.dossier.applicant", dossier.get("applicant_name") or dossier.get("applicant")),
    ]
    if dossier.get("verified"):
        missing = [str(d) for d in dossier.get("missing_documents") or []]
        if missing:
            lines.append(("kiosk.dossier.missing", "; ".join(missing)))
        if dossier.get("rejection_reason"):
            lines.append(("kiosk.dossier.rejection", dossier["rejection_reason"]))
        history = [f"{h.get('at_text', '')}: {h.get('status_text', '')}" for h in dossier.get("history") or [] if isinstance(h, dict)]
        if history:
            lines.append(("kiosk.dossier.history", "\n".join(history)))
    return [(k, str(v)) for k, v in lines if v]
