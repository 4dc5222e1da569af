"""Broker credentials for every device of an office, generated from its configuration.

One directory holds everything (`motcua devices credentials --out DIR`, or the server's
`DATA/credentials` when it runs its own broker):

    secrets.toml          every user's secret: the office's master copy (0600)
    devices/<user>.toml   one file per user, to copy onto that box only (0600)
    mosquitto.passwd      PBKDF2-SHA512 hashes in Mosquitto's `$7$` format (0600, or 0640 with --group)
    mosquitto.acl         what each user may publish and read (same mode)

Both brokers read the same password file: Debian's Mosquitto natively, the embedded
broker through queue_server.broker_amqtt. Running it again is idempotent: existing secrets
(and their hashes, byte for byte) are kept, new devices get one, removed devices lose
theirs. Secrets are written only to these files, never to a log or the terminal.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from motcua import credentials as device_credentials
from queue_server import mosquitto_acl
from queue_server.broker_acl import SERVER_USER, access_rules
from queue_server.config import OfficeConfig

SECRETS_FILE = "secrets.toml"
DEVICES_DIR = "devices"
PASSWORD_FILE = "mosquitto.passwd"
ACL_FILE = "mosquitto.acl"
# Mosquitto's own default (mosquitto_passwd 2.0). The secrets are 192-bit random strings,
# not words a person chose, so a slow hash would add nothing but connection cost.
PBKDF2_ITERATIONS = 101
_SALT_BYTES = 12  # as mosquitto_passwd


class CredentialsError(ValueError):
    """The credentials directory cannot be written or read as asked."""


def hash_password(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """Mosquitto's `$7$iterations$salt$hash` (PBKDF2-HMAC-SHA512, 64-byte key), as mosquitto_passwd writes it."""
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """True if `password` matches a `$7$` hash; any other or malformed hash is False."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    try:
        salt, key = base64.b64decode(parts[3], validate=True), base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    iterations = int(parts[2])
    if not 1 <= iterations <= 1_000_000:
        return False
    return hmac.compare_digest(hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(key)), key)


def read_password_file(path: Path) -> dict[str, str]:
    """user -> hash of a Mosquitto password file (comments and blank lines skipped)."""
    users: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and ":" in line:
            user, _, hashed = line.partition(":")
            users[user] = hashed
    return users


@dataclass(frozen=True)
class CredentialSet:
    """The generated files of one office; `passwords` stays out of repr so it cannot reach a log."""

    directory: Path
    passwords: dict[str, str] = field(repr=False)

    @property
    def secrets_file(self) -> Path:
        return self.directory / SECRETS_FILE

    @property
    def password_file(self) -> Path:
        return self.directory / PASSWORD_FILE

    @property
    def acl_file(self) -> Path:
        return self.directory / ACL_FILE

    def device_file(self, user: str) -> Path:
        return self.directory / DEVICES_DIR / f"{user}.toml"

    @property
    def server_password(self) -> str:
        return self.passwords[SERVER_USER]


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    rotated: tuple[str, ...]
    kept: tuple[str, ...]

    def summary(self) -> str:
        parts = [f"{len(self.kept)} kept"]
        for what, users in (("new", self.added), ("rotated", self.rotated), ("removed", self.removed)):
            if users:
                parts.append(f"{len(users)} {what} ({', '.join(users)})")
        return ", ".join(parts)


def load(directory: str | Path) -> CredentialSet:
    """Read a generated directory without changing it."""
    directory = Path(directory)
    try:
        return CredentialSet(directory, device_credentials.read(directory / SECRETS_FILE))
    except device_credentials.CredentialsError as exc:
        raise CredentialsError(f"{exc}; generate it with `motcua devices credentials --out {directory}`") from None


def ensure(config: OfficeConfig, directory: str | Path, rotate: Iterable[str] = (), group: str | None = None) -> tuple[CredentialSet, Changes]:
    """Create or update the credentials of every user of `config` in `directory`."""
    directory = Path(directory)
    users = [rule.user for rule in access_rules(config)]  # the server's user first, then every device
    rotate = set(rotate)
    unknown = rotate - set(users)
    if unknown:
        raise CredentialsError(f"cannot rotate {', '.join(sorted(unknown))}: not a user of office {config.id} (users: {', '.join(users)})")
    gid = _group_id(group)
    old = _old_passwords(directory)
    passwords = {user: old[user] if user in old and user not in rotate else _new_secret() for user in users}
    changes = Changes(
        added=tuple(u for u in users if u not in old),
        removed=tuple(u for u in old if u not in passwords),
        rotated=tuple(u for u in users if u in old and u in rotate),
        kept=tuple(u for u in users if u in old and u not in rotate),
    )
    _make_dir(directory, 0o700 if gid is None else 0o750, gid)
    _make_dir(directory / DEVICES_DIR, 0o700, None)
    office = f"office {config.id} ({config.name})"
    _write(directory / SECRETS_FILE, device_credentials.render(
        passwords, f"Broker credentials of every device of {office}.\nGenerated by `motcua devices credentials`. "
                   "Secret: keep it 0600, copy only a device's own file (devices/) to that device."), 0o600)
    for user, secret in passwords.items():
        _write(directory / DEVICES_DIR / f"{user}.toml", device_credentials.render(
            {user: secret}, f"Broker credential of {user}, {office}.\nSecret: copy it to that box only "
                            f"(e.g. /etc/motcua/credentials.toml, mode 0600) and point --credentials or {device_credentials.CREDENTIALS_ENV} at it."), 0o600)
    for stale in (directory / DEVICES_DIR).glob("*.toml"):
        if stale.stem not in passwords:
            stale.unlink()
    broker_mode = 0o600 if gid is None else 0o640
    _write(directory / PASSWORD_FILE, _password_file(passwords, _old_hashes(directory)), broker_mode, gid)
    _write(directory / ACL_FILE, mosquitto_acl.render(config), broker_mode, gid)
    return CredentialSet(directory, passwords), changes


def _new_secret() -> str:
    return secrets.token_urlsafe(24)  # 192 bits; URL-safe characters need no quoting in TOML or shells


def _old_passwords(directory: Path) -> dict[str, str]:
    path = directory / SECRETS_FILE
    if not path.exists():
        return {}
    try:
        return device_credentials.read(path)
    except device_credentials.CredentialsError as exc:
        raise CredentialsError(f"{exc}; fix or remove it (every device then needs its new credential)") from None


def _old_hashes(directory: Path) -> dict[str, str]:
    path = directory / PASSWORD_FILE
    return read_password_file(path) if path.exists() else {}


def _password_file(passwords: dict[str, str], old_hashes: dict[str, str]) -> str:
    # Keep a hash that still matches its secret, so running the command again changes no byte.
    lines = []
    for user, secret in passwords.items():
        hashed = old_hashes.get(user)
        lines.append(f"{user}:{hashed if hashed and verify_password(secret, hashed) else hash_password(secret)}")
    return "\n".join(lines) + "\n"


def _group_id(group: str | None) -> int | None:
    if group is None:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise CredentialsError(f"no group {group!r} on this machine (for Debian's Mosquitto: --group mosquitto, once it is installed)") from None


def _make_dir(path: Path, mode: int, gid: int | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    if gid is not None:
        os.chown(path, -1, gid)


def _write(path: Path, text: str, mode: int, gid: int | None = None) -> None:
    """Replace `path` atomically; the content is never readable with a wider mode, even for an instant."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        os.chmod(path, mode)
        if gid is not None:
            os.chown(path, -1, gid)
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, mode)
        if gid is not None:
            os.fchown(fd, -1, gid)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fd = -1
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd != -1:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
