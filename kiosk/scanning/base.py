"""What every scanner backend shares: the Scanner interface and a queue of scanned lines."""

from __future__ import annotations

import contextlib
import queue
import unicodedata
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

MAX_LINE = 4096  # a receipt URL is a few hundred characters; the rest of a runaway line is dropped
TERMINATORS = "\r\n\t"  # scanners end a code with Enter (CR, LF or both) or Tab, as configured


@runtime_checkable
class Scanner(Protocol):
    """Yields each scanned code as text, as the scanner sent it (the server's API parses and refuses garbage)."""

    def codes(self) -> Iterator[str]: ...

    def close(self) -> None: ...


def clean(line: str) -> str:
    """A scanned line without its terminator and control characters, NFC, at most MAX_LINE characters.

    Controls inside (GS between GS1 fields, stray ESC) go; anything else stays for the API to judge."""
    line = "".join(ch for ch in line[:MAX_LINE] if unicodedata.category(ch) != "Cc")
    return unicodedata.normalize("NFC", line.strip())


class LineSplitter:
    """Characters in, complete lines out: CR, LF, CR LF and Tab end a line; empty lines are skipped."""

    def __init__(self) -> None:
        self._current: list[str] = []
        self._length = 0

    def feed(self, text: str) -> list[str]:
        lines: list[str] = []
        for ch in text:
            if ch in TERMINATORS:
                line = clean("".join(self._current))
                self._current, self._length = [], 0
                if line:
                    lines.append(line)
            elif self._length < MAX_LINE:
                self._current.append(ch)
                self._length += 1
        return lines


_CLOSED = object()


class QueueScanner:
    """Codes pushed by another thread (the app's key handler, a reader thread, a test) come out of codes()."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=256)  # a stuck consumer must not grow memory
        self._closed = False

    def push(self, code: str) -> None:
        code = clean(code)
        if code and not self._closed:
            # Nobody is reading when full: a code scanned now would be answered far too late anyway.
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(code)

    def codes(self) -> Iterator[str]:
        while True:
            item = self._queue.get()
            if item is _CLOSED:
                self._queue.put(_CLOSED)  # every other reader stops too
                return
            yield item  # type: ignore[misc]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._queue.put_nowait(_CLOSED)
            except queue.Full:
                self._queue.get_nowait()
                self._queue.put_nowait(_CLOSED)
