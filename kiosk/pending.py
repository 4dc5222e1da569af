"""The ticket request in flight (a number, or a booking checked in), kept on disk until its ticket is printed.

The request id is chosen and written down *before* the request is sent. A kiosk that crashes or
times out re-sends that same id, and the server answers with the same ticket (promise 2): the
citizen gets one number, never two. The file is replaced atomically (a crash of the process leaves
the old record or the new one, the page cache keeps it); the fsync that makes it survive a power
cut runs alongside the request (`sync()`), because under disk load it can take longer than the
whole round trip and the number must not wait for it.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class PendingIssue:
    request_id: str
    service: str
    priority_group: str | None = None
    created_at: float = field(default_factory=time.time)  # wall clock: it must survive a restart
    reply: dict[str, Any] | None = None  # the ok reply once it came: printing is what is left
    booking: str | None = None  # a booking being checked in (booking.check_in): its code; service is ""

    @property
    def op(self) -> str:
        return "booking.check_in" if self.booking else "ticket.issue"

    def fields(self) -> dict[str, Any]:
        if self.booking:
            return {"code": self.booking}
        out: dict[str, Any] = {"service": self.service, "priority": self.priority_group is not None}
        if self.priority_group:
            out["priority_group"] = self.priority_group
        return out


def new_request_id(device: str) -> str:
    # The server keys replies by (device, id); the device prefix only makes logs easier to read.
    return f"{device}-{uuid.uuid4().hex[:20]}"


class PendingStore:
    """One pending ticket request per kiosk (a kiosk serves one citizen at a time)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / "pending-ticket.json"

    def load(self) -> PendingIssue | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return PendingIssue(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            log.warning("unreadable pending ticket request %s (%s): dropped", self.path, exc)
            self.clear()
            return None

    def save(self, pending: PendingIssue, sync: bool = True) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(asdict(pending), f, ensure_ascii=False)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, self.path)
        if sync:
            _fsync_dir(self.path.parent)

    def sync(self) -> None:
        """Make the saved record survive a power cut (file, then the directory entry of the rename)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(self.path.parent)

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(self.path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
