"""The first administrator of a new office: a one-time setup link, never a default password.

When the server starts with HTTP and no active administrator, it writes the SHA-256 of a new
random token to `<data>/staff-setup.json` (mode 0600, expiring) and prints the link once on its
console (the journal under systemd). Whoever opens it first creates the administrator; the
file is then removed. Each start without an administrator replaces the token; `motcua staff
setup-link` makes a new one without a restart, and `motcua staff add --role administrator`
skips the link altogether.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

SETUP_FILE = "staff-setup.json"
SETUP_HOURS = 24
SETUP_PATH = "/thiet-lap/"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_setup_token(data_dir: Path, now: datetime, hours: float = SETUP_HOURS) -> str:
    """A new token (the old one stops working); only its digest is written down."""
    token = secrets.token_urlsafe(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SETUP_FILE
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"sha256": _digest(token), "expires_at": (now + timedelta(hours=hours)).isoformat()}, out)
    os.replace(temporary, path)
    return token


def setup_token_valid(data_dir: Path, token: str, now: datetime) -> bool:
    try:
        saved = json.loads((data_dir / SETUP_FILE).read_text(encoding="utf-8"))
        expires = datetime.fromisoformat(saved["expires_at"])
        return secrets.compare_digest(saved["sha256"], _digest(token)) and now < expires
    except (OSError, ValueError, KeyError, TypeError):
        return False


def discard_setup_token(data_dir: Path) -> None:
    (data_dir / SETUP_FILE).unlink(missing_ok=True)


def setup_url(host: str, port: int, token: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        import socket

        host = socket.gethostname()
    return f"http://{host}:{port}{SETUP_PATH}{token}"
