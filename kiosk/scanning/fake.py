"""A scanner for tests and demos: `scan("...")` is a code read."""

from __future__ import annotations

from kiosk.scanning.base import QueueScanner


class FakeScanner(QueueScanner):
    def scan(self, text: str) -> None:
        """As if `text` had been scanned (terminators and controls are cleaned like a real scan)."""
        self.push(text)
