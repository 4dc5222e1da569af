"""Codes typed on a terminal, one a line (`--simulate`, and a technician trying the flows over ssh)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TextIO

from kiosk.scanning.base import clean


class StdinScanner:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdin
        self._closed = False

    def codes(self) -> Iterator[str]:
        for line in self.stream:
            if self._closed:
                return
            code = clean(line)
            if code:
                yield code

    def close(self) -> None:
        self._closed = True  # a blocked readline cannot be interrupted; the next line ends the loop
