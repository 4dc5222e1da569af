"""An SMS provider's HTTP API: one JSON POST per message, authenticated with a bearer token.

The token is read from `token_file` (chmod 600, e.g. /etc/motcua/sms-token), never from the office
configuration: configurations travel in the event log and exports. Phones are sent as the citizen
typed them, normalised (0912345678).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from queue_server.notify.base import GatewayError


class HttpGateway:
    name = "http"

    def __init__(self, url: str, token_file: str = "", to_field: str = "to", text_field: str = "text", timeout: float = 10.0) -> None:
        self.url, self.token_file, self.to_field, self.text_field, self.timeout = url, token_file, to_field, text_field, timeout

    def _token(self) -> str | None:
        if not self.token_file:
            return None
        try:
            return Path(self.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise GatewayError(f"cannot read the provider's token from {self.token_file}: {exc.strerror}") from None

    def send(self, phone: str, text: str) -> None:
        body = json.dumps({self.to_field: phone, self.text_field: text}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"the SMS provider answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"cannot reach the SMS provider: {getattr(exc, 'reason', exc)}") from None

    def close(self) -> None:
        pass
