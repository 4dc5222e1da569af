"""A device's broker credential, read from a file or the environment, never from a command line.

`motcua devices credentials` writes one small TOML file per device (and the office's master
copy with every user); each box is given only its own file:

    [credentials]
    kiosk-01 = "..."

A program finds its password in this order (first match wins): the file given in code or
with `--credentials FILE`, the file named by MOTCUA_CREDENTIALS, the password itself in
MOTCUA_BROKER_PASSWORD. A command line is readable by every local user (`ps`,
/proc/PID/cmdline) and lands in shell histories, so `motcua.broker_url` refuses a password
there. The broker user name of a device is its device id.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

CREDENTIALS_ENV = "MOTCUA_CREDENTIALS"
PASSWORD_ENV = "MOTCUA_BROKER_PASSWORD"
TABLE = "credentials"
HOW_TO_GIVE = (
    f"give it in a credentials file (--credentials FILE, or the file named by {CREDENTIALS_ENV}) "
    f"or in the environment variable {PASSWORD_ENV}"
)

log = logging.getLogger(__name__)


class CredentialsError(ValueError):
    """A credentials file that cannot be read, or that has no entry for the user asked for."""


def read(path: str | Path) -> dict[str, str]:
    """Every user -> password of a credentials file (one device's file has one entry)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(f"credentials file {path} not found") from None
    except PermissionError:
        raise CredentialsError(f"credentials file {path} is not readable by this user") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        # The parser's message quotes the line, which may hold a secret: say only where.
        raise CredentialsError(f"credentials file {path} is not valid TOML") from None
    table = raw.get(TABLE)
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in table.items()):
        raise CredentialsError(f'credentials file {path} needs a [{TABLE}] table of user = "password" lines')
    mode = path.stat().st_mode
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        log.warning("credentials file %s is readable by every user on this machine; chmod 600 it", path)
    return dict(table)


def render(passwords: Mapping[str, str], comment: str) -> str:
    """The text of a credentials file; `read` parses it back."""
    lines = [f"# {line}" if line else "#" for line in comment.splitlines()]
    lines += ["", f"[{TABLE}]"]
    lines += [f'{user} = "{secret}"' for user, secret in passwords.items()]
    return "\n".join(lines) + "\n"


def password_for(user: str, path: str | Path | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The broker password of `user`, from `path`, else MOTCUA_CREDENTIALS, else MOTCUA_BROKER_PASSWORD; None if none is set."""
    env = os.environ if env is None else env
    source = path or env.get(CREDENTIALS_ENV)
    if source:
        passwords = read(source)
        if user not in passwords:
            raise CredentialsError(f"credentials file {source} has no password for {user!r} (it has: {', '.join(passwords) or 'none'})")
        return passwords[user]
    return env.get(PASSWORD_ENV) or None
