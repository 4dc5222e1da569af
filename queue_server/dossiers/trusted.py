"""Browsers that proved the second factor once: they keep their own budget of wrong tries.

After the right digits, the answer sets a cookie for that dossier (HMAC-signed with a secret
kept in the office database). A browser that shows it is counted apart from every other
client and never by the dossier's lifetime ceiling, so strangers who spend that ceiling
cannot shut the owner's own phone out (OWASP's "device cookies"). The cookie says nothing
about the citizen; it is useless for any other dossier and for a stranger, who lacks it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import sqlite_utils

COOKIE_PREFIX = "motcua_dv_"
COOKIE_PATH = "/api/dossiers"
MAX_AGE_SECONDS = 180 * 24 * 3600  # longer than a dossier stays open
_SECRET_KEY = "dossiers.trusted_secret"
_VALUE_RE = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{64})$")


def _secret(db: sqlite_utils.Database) -> bytes:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [_SECRET_KEY]).fetchone()
    if row:
        return bytes.fromhex(row[0])
    fresh = secrets.token_hex(32)
    db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [_SECRET_KEY, fresh])  # a racing thread may win
    return bytes.fromhex(db.execute("SELECT value FROM meta WHERE key = ?", [_SECRET_KEY]).fetchone()[0])


def cookie_name(code: str) -> str:
    return COOKIE_PREFIX + hashlib.sha256(code.encode()).hexdigest()[:16]


def _mac(secret: bytes, code: str, nonce: str) -> str:
    return hmac.new(secret, f"{code}\n{nonce}".encode(), hashlib.sha256).hexdigest()


def issue(db: sqlite_utils.Database, code: str) -> str:
    """A new cookie value for a browser that just gave the right digits for `code`."""
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_mac(_secret(db), code, nonce)}"


def check(db: sqlite_utils.Database, code: str, value: str | None) -> str | None:
    """The browser's id if `value` is a genuine cookie for `code`, else None."""
    match = _VALUE_RE.match(value or "")
    if not match:
        return None
    nonce, mac = match.groups()
    return nonce if hmac.compare_digest(mac, _mac(_secret(db), code, nonce)) else None
