"""The one JSON error shape of every HTTP endpoint, framework-free (the ASGI stream uses it too).

    {"ok": false, "error": {"code": "...", "message": "<Vietnamese>", "message_en": "<English>", ...}}

`code` is stable (clients branch on it); the messages come from the catalogs
(motcua/i18n/*/web.json and each area's own file); extra keys (`retry_after_seconds`,
`attempts_left`, `reason`...) sit beside them.
"""

from __future__ import annotations

from typing import Any

from motcua import i18n


def error_body(code: str, message: str, message_en: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message, "message_en": message_en, **extra}}


class ApiError(Exception):
    """Raise from any view: rendered as the JSON error shape with `status` (and headers).

    Everything before the keyword arguments is positional-only, so catalog placeholders
    (`code`, `status`...) are free for the message.
    """

    def __init__(self, status: int, code: str, key: str, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None, /, **params: Any) -> None:
        self.status = status
        self.code = code
        self.message, self.message_en = i18n.pair(key, **params)
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(f"{code}: {self.message_en}")

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.message_en, **self.extra)


# Werkzeug's HTTP errors, worded for people; anything else falls back to web.error.http.
HTTP_ERROR_KEYS = {
    400: ("bad_request", "web.error.bad_request"),
    404: ("not_found", "web.error.not_found"),
    405: ("method_not_allowed", "web.error.method_not_allowed"),
    413: ("too_large", "web.error.too_large"),
    415: ("unsupported_media_type", "web.error.unsupported_media_type"),
    500: ("internal_error", "web.error.internal"),
}


def http_error(status: int) -> ApiError:
    code, key = HTTP_ERROR_KEYS.get(status, ("http_error", "web.error.http"))
    return ApiError(status, code, key, status=status)
