"""The sending thread: the worker hands messages over and never waits for a modem or a provider.

A message that fails is tried again after 2 and 10 seconds, then given up (logged, counted).
Once sent, its ticket's contact row records it (ticket_contacts.<kind>_sent_at), so a restart
does not send it twice.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from queue_server.appointments.moments import Message
from queue_server.config import NotificationSettings
from queue_server.dossiers.db import ts
from queue_server.notify import make_gateway
from queue_server.notify.base import Gateway, GatewayError, masked

log = logging.getLogger(__name__)
RETRY_SECONDS = (2.0, 10.0)


class Outbox:
    def __init__(self, db_path: str | Path | None, now: Callable[[], datetime], gateway: Gateway | None = None,
                 retry_seconds: tuple[float, ...] = RETRY_SECONDS) -> None:
        self.db_path = db_path
        self.now = now
        self.fixed = gateway  # tests hand one in; otherwise the configuration's
        self.retry_seconds = retry_seconds
        self.handed = 0  # messages put here (tests check what was decided, not only what arrived)
        self.sent = 0
        self.failed = 0
        self._queue: queue.Queue[tuple[Message, NotificationSettings] | None] = queue.Queue()
        self._stop = threading.Event()
        self._gateway: Gateway | None = None
        self._gateway_key: Any = None
        self._thread = threading.Thread(target=self._run, name="sms-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._thread.join(5)
        if self._gateway is not None:
            self._gateway.close()

    def put(self, message: Message, settings: NotificationSettings) -> None:
        self.handed += 1
        self._queue.put((message, settings))

    def pending(self) -> int:
        return self._queue.qsize()

    def _gateway_for(self, settings: NotificationSettings) -> Gateway:
        if self.fixed is not None:
            return self.fixed
        key = (settings.gateway, settings.modem, settings.http)
        if key != self._gateway_key:  # the office changed its gateway at run time
            if self._gateway is not None:
                self._gateway.close()
            self._gateway, self._gateway_key = make_gateway(settings), key
        assert self._gateway is not None
        return self._gateway

    def _run(self) -> None:
        db = None
        if self.db_path is not None:
            from queue_server.appointments.db import open_db

            db = open_db(self.db_path)
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                self._deliver(db, *item)
        finally:
            if db is not None:
                db.close()

    def _deliver(self, db: Any, message: Message, settings: NotificationSettings) -> None:
        for pause in (0.0, *self.retry_seconds):
            if pause and self._stop.wait(pause):
                return
            try:
                self._gateway_for(settings).send(message.phone, message.text)
            except GatewayError as exc:
                log.warning("SMS %s to %s not sent (%s)", message.kind, masked(message.phone), exc)
                continue
            except Exception:  # a gateway bug must not end the thread
                log.exception("SMS gateway failed")
                continue
            self.sent += 1
            if db is not None:
                column = "near_sent_at" if message.kind == "near" else "called_sent_at"
                db.execute(f"UPDATE ticket_contacts SET {column} = ? WHERE ticket_id = ?", [ts(self.now()), message.ticket_id])
            return
        self.failed += 1
        log.error("SMS %s to %s given up after %d tries", message.kind, masked(message.phone), 1 + len(self.retry_seconds))
