"""Nightly backups with rotation, and restoring one (`motcua backup --rotate`, `motcua restore`).

A running server is detected through SQLite's own lock: in WAL mode every open connection holds
a shared POSIX lock on the "DMS" byte of the `-shm` file (offset 128, see SQLite's os_unix.c), so
if an exclusive lock on that byte cannot be had, some process has the database open. This needs
no pid file the server could leave behind after a crash, and a crashed server holds no lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from queue_server.store import StoreError, backup

BACKUP_NAME = re.compile(r"^motcua-\d{8}-\d{6}\.db$")
_DMS_OFFSET = 128  # WALINDEX_LOCK_OFFSET (120) + SQLITE_SHM_NLOCK (8)


def in_use(db: str | Path) -> bool:
    """True while another process has the database open (the server holds it as long as it runs)."""
    shm = Path(f"{db}-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _DMS_OFFSET)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _DMS_OFFSET)
        return False
    finally:
        os.close(fd)


def rotate(source: str | Path, directory: str | Path, keep: int, now: datetime | None = None) -> tuple[Path, int, list[Path]]:
    """A new backup `motcua-YYYYmmdd-HHMMSS.db` in `directory`; only the newest `keep` such files stay.

    Returns (new file, pages, removed files). Files of other names (a copy taken by hand, the
    installer's pre-upgrade backups) are never removed.
    """
    if keep < 1:
        raise StoreError("--keep must be at least 1")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    dest = directory / f"motcua-{stamp}.db"
    tmp = directory / f".{dest.name}.partial"
    tmp.unlink(missing_ok=True)
    pages = backup(source, tmp)
    os.chmod(tmp, 0o640)
    os.replace(tmp, dest)  # a half-written backup never carries a backup's name
    ours = sorted(p for p in directory.iterdir() if BACKUP_NAME.match(p.name))
    removed = ours[:-keep]
    for old in removed:
        old.unlink()
    return dest, pages, removed


def newest(directory: str | Path) -> Path | None:
    """The most recent backup file (rotated or pre-upgrade) in `directory`, by modification time."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    files = [p for p in directory.iterdir() if p.suffix == ".db" and p.is_file()]
    return max(files, key=lambda p: p.stat().st_mtime, default=None)


def check(path: str | Path) -> int:
    """Raise StoreError unless `path` is a sound office database; returns its schema version."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise StoreError(f"{path} failed its integrity check: {'; '.join(result[:5])}")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "events" not in tables:
                raise StoreError(f"{path} is not a Một Cửa office database (no events table)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() if "meta" in tables else None
            return int(row[0]) if row else 0
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable SQLite database: {exc}") from None


def restore(backup_file: str | Path, db: str | Path, force: bool = False) -> Path | None:
    """Put `backup_file` in place of `db`; the database it replaces is kept beside it. Returns that copy's path.

    Refused while the server has the database open, unless `force` (the server must then be
    restarted at once: it still holds the old file).
    """
    check(backup_file)
    db = Path(db)
    if in_use(db) and not force:
        raise StoreError(f"{db} is open by a running server: stop it first (systemctl stop motcua-server), or --force")
    db.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    if db.exists():
        kept = db.with_name(f"{db.name}.before-restore-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
        os.replace(db, kept)
        # A -wal left by the old database belongs to it: replaying it over the restored file would corrupt it.
        for suffix in ("-wal", "-shm"):
            side = Path(f"{db}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{kept}{suffix}"))
    tmp = db.with_name(f".{db.name}.restoring")
    shutil.copyfile(backup_file, tmp)
    os.chmod(tmp, 0o640)
    # The server's user must own it (a technician restores as root): the old file's owner, else the directory's.
    st = (kept or db.parent).stat()
    os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, db)
    check(db)
    return kept
