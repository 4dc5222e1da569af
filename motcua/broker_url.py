"""Parse broker URLs: mqtt://user@host:port, or mqtts:// for TLS. Passwords come from a credentials file, not the URL.

With mqtts:// the broker's certificate is checked against the CA file named by MOTCUA_BROKER_CA
(the office's own CA, docs/technician.md), else the system's trusted CAs; the host name or
address in the URL must be in the certificate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from motcua.credentials import HOW_TO_GIVE

CA_ENV = "MOTCUA_BROKER_CA"


class PasswordInURLError(ValueError):
    """A broker URL with a password: it would show in `ps` and the shell history."""


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None  # set in code (from a credentials file), never parsed from a command line
    tls: bool = False
    ca_file: str | None = None  # None: the system's trusted CAs

    def __str__(self) -> str:
        auth = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{auth}{self.host}:{self.port}"

    def __repr__(self) -> str:  # a password must not reach a log through a repr either
        return f"BrokerURL({self})"


def parse_broker_url(url: str) -> BrokerURL:
    """mqtt://[user@]host[:port] or mqtts://...; a password in the URL is refused with what to do instead."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp", "mqtts", "ssl"):
        raise ValueError(f"broker URL must start with mqtt:// or mqtts:// (got {parts.scheme}://)")
    tls = parts.scheme in ("mqtts", "ssl")
    if parts.password is not None:
        raise PasswordInURLError(
            "a password in the broker URL would be readable in `ps` and the shell history; "
            f"write mqtt://{parts.username or 'USER'}@{parts.hostname}:{parts.port or 1883} and {HOW_TO_GIVE}"
        )
    if not parts.hostname:
        raise ValueError(f"broker URL has no host: {url!r}")
    return BrokerURL(host=parts.hostname, port=parts.port or (8883 if tls else 1883),
                     username=unquote(parts.username) if parts.username else None,
                     tls=tls, ca_file=(os.environ.get(CA_ENV) or None) if tls else None)


def apply_tls(client: object, url: BrokerURL) -> None:
    """Make a paho client verify the broker's certificate (mqtts:// URLs); nothing for mqtt://."""
    if url.tls:
        client.tls_set(ca_certs=url.ca_file)  # type: ignore[attr-defined]  # paho: CERT_REQUIRED, host name checked


def parse_listen(address: str, default_port: int) -> tuple[str, int]:
    """'0.0.0.0:1883', ':8080' or '127.0.0.1' -> (host, port)."""
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
    return host or "127.0.0.1", int(port) if port else default_port
