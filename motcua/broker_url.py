"""Parse broker URLs: mqtt://user@host:port. Passwords come from a credentials file, not the URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from motcua.credentials import HOW_TO_GIVE


class PasswordInURLError(ValueError):
    """A broker URL with a password: it would show in `ps` and the shell history."""


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None  # set in code (from a credentials file), never parsed from a command line

    def __str__(self) -> str:
        auth = f"{self.username}@" if self.username else ""
        return f"mqtt://{auth}{self.host}:{self.port}"

    def __repr__(self) -> str:  # a password must not reach a log through a repr either
        return f"BrokerURL({self})"


def parse_broker_url(url: str) -> BrokerURL:
    """mqtt://[user@]host[:port]; a password in the URL is refused with what to do instead."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"broker URL must start with mqtt:// (got {parts.scheme}://)")
    if parts.password is not None:
        raise PasswordInURLError(
            "a password in the broker URL would be readable in `ps` and the shell history; "
            f"write mqtt://{parts.username or 'USER'}@{parts.hostname}:{parts.port or 1883} and {HOW_TO_GIVE}"
        )
    if not parts.hostname:
        raise ValueError(f"broker URL has no host: {url!r}")
    return BrokerURL(host=parts.hostname, port=parts.port or 1883, username=unquote(parts.username) if parts.username else None)


def parse_listen(address: str, default_port: int) -> tuple[str, int]:
    """'0.0.0.0:1883', ':8080' or '127.0.0.1' -> (host, port)."""
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
    return host or "127.0.0.1", int(port) if port else default_port
