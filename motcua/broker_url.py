"""Parse broker URLs: mqtt://user:pass@host:port."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        auth = f"{self.username}:***@" if self.username else ""
        return f"mqtt://{auth}{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerURL:
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"broker URL must start with mqtt://, got {url!r}")
    if not parts.hostname:
        raise ValueError(f"broker URL has no host: {url!r}")
    return BrokerURL(
        host=parts.hostname,
        port=parts.port or 1883,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def parse_listen(address: str, default_port: int) -> tuple[str, int]:
    """'0.0.0.0:1883', ':8080' or '127.0.0.1' -> (host, port)."""
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
    return host or "127.0.0.1", int(port) if port else default_port
