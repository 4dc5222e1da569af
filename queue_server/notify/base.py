"""The gateway interface, the log-only gateway (the default) and a fake that keeps what it was asked."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

log = logging.getLogger("motcua.sms")


class GatewayError(Exception):
    """The message could not be handed over (modem gone, provider refused); the text says why."""


class Gateway(Protocol):
    """Sends one SMS. `send` raises GatewayError when the message was not accepted."""

    name: str

    def send(self, phone: str, text: str) -> None: ...

    def close(self) -> None: ...


def masked(phone: str) -> str:
    """A phone number as logs show it: only its last 3 digits."""
    return "…" + phone[-3:]


class LogGateway:
    """Writes each message to the log instead of sending it: an office without a modem or provider."""

    name = "log"

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", masked(phone), text)

    def close(self) -> None:
        pass


class FakeGateway:
    """Keeps (phone, text) of every message; `fail_next(n)` makes the next n sends fail."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self._failures = 0
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._failures = count

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            if self._failures:
                self._failures -= 1
                raise GatewayError("fake failure")
            self.sent.append((phone, text))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        """Wait until at least `count` messages were sent; returns them (TimeoutError if not in time)."""
        with self._lock:
            if not self.changed.wait_for(lambda: len(self.sent) >= count, timeout):
                raise TimeoutError(f"{len(self.sent)} of {count} messages sent")
            return list(self.sent)

    def close(self) -> None:
        pass
