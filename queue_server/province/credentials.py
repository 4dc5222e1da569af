"""A broker credential from a file or the environment, never from the command line.

The file is TOML: `username = "..."` and `password = "..."`, readable only by its service
user. Environment: MOTCUA_<PREFIX>_USERNAME and MOTCUA_<PREFIX>_PASSWORD (e.g. from a
systemd EnvironmentFile). A command line shows in `ps` to every user of the box.
"""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class CredentialError(ValueError):
    """No usable credential."""


@dataclass(frozen=True)
class Credential:
    username: str
    password: str

    def __repr__(self) -> str:  # never print the password, even in a traceback
        return f"Credential(username={self.username!r}, password=***)"


def load_credential(path: str | Path | None, env_prefix: str) -> Credential:
    """From `path` if given, else from MOTCUA_<env_prefix>_USERNAME / _PASSWORD."""
    if path:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CredentialError(f"{path}: credential file not found") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CredentialError(f"{path}: cannot read the credential file: {exc}") from None
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            log.warning("%s is readable by other users; chmod 600 it", path)
        username, password = raw.get("username"), raw.get("password")
        where = str(path)
    else:
        username = os.environ.get(f"MOTCUA_{env_prefix}_USERNAME")
        password = os.environ.get(f"MOTCUA_{env_prefix}_PASSWORD")
        where = f"MOTCUA_{env_prefix}_USERNAME / MOTCUA_{env_prefix}_PASSWORD"
    if not isinstance(username, str) or not username or not isinstance(password, str) or not password:
        raise CredentialError(f"{where}: needs a username and a password (the central cluster accepts no anonymous client)")
    return Credential(username, password)
