"""A refusal or a failure as the screens show it: a catalog key with its parameters, or the server's words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.payloads import error_of
from motcua import i18n


@dataclass(frozen=True)
class Problem:
    """What went wrong, for a citizen. `key` is a kiosk catalog entry; `server_text` the server's (vi, en)."""

    code: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    server_text: tuple[str, str] | None = None

    def text(self, lang: str) -> str:
        if self.key in i18n.catalog(lang):
            return i18n.text(self.key, lang, **self.params)
        if self.server_text:
            vi, en = self.server_text
            return (en if lang == "en" else vi) or vi
        return i18n.text("kiosk.error.generic", lang)


OFFLINE = "offline"


def offline() -> Problem:
    return Problem(OFFLINE, "kiosk.error.offline")


def refused(reply: dict[str, Any]) -> Problem:
    """A refused request: the kiosk's own wording for the codes a citizen meets, else the server's text."""
    code, params, vi, en = error_of(reply)
    return Problem(code, f"kiosk.error.{code}", dict(params), (vi, en))
