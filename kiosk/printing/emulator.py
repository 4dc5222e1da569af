"""A printer emulator on a pty or a loopback TCP port: it answers DLE EOT like a real printer in a chosen
state and keeps every byte it was sent. Tests and benchmarks drive the real serial and network
backends against it; a technician can try a kiosk's serial path with no printer:

    python -m kiosk.printing.emulator            # prints the pty path; give it as [printer] port
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty

from kiosk.printing import status as dle

GS_V0 = b"\x1dv0"


class EscposSink:
    """The printer's side of the link: finds DLE EOT queries in the byte stream (not inside image data,
    whose length the GS v 0 header gives) and answers them for the current state."""

    def __init__(self, state: str = "ok", answers: bool = True) -> None:
        self.state = state
        self.answers = answers  # False: a printer whose link is one-way (never answers)
        self.received = bytearray()  # everything but the status queries
        self.queries: list[int] = []
        self._pending = b""
        self._skip = 0  # image bytes still to come
        self.changed = threading.Condition()

    def feed(self, data: bytes) -> bytes:
        """Bytes arrived; returns the answers to send back."""
        replies = bytearray()
        buffer = self._pending + data
        self._pending = b""
        i = 0
        while i < len(buffer):
            if self._skip:
                take = min(self._skip, len(buffer) - i)
                self.received += buffer[i:i + take]
                self._skip -= take
                i += take
                continue
            if buffer[i] == 0x10:
                if len(buffer) - i < 3:
                    self._pending = buffer[i:]
                    break
                if buffer[i + 1] == 0x04:
                    n = buffer[i + 2]
                    self.queries.append(n)
                    if self.answers:
                        replies.append(dle.reply_for(self.state, n))
                    i += 3
                    continue
            if buffer[i] == 0x1D and buffer[i:i + 3] == GS_V0[:len(buffer) - i]:
                if len(buffer) - i < 8:
                    self._pending = buffer[i:]
                    break
                header = buffer[i:i + 8]
                self._skip = (header[4] | header[5] << 8) * (header[6] | header[7] << 8)
                self.received += header
                i += 8
                continue
            self.received.append(buffer[i])
            i += 1
        with self.changed:
            self.changed.notify_all()
        return bytes(replies)

    def wait_for(self, data: bytes, timeout: float = 5.0) -> bool:
        """Wait until `data` has been received (a condition with a timeout, not a sleep)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while data not in self.received:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True


class PtyPrinter(EscposSink):
    """A serial printer on a pseudo-terminal; `path` is the device the kiosk opens."""

    def __init__(self, state: str = "ok", answers: bool = True) -> None:
        super().__init__(state, answers)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: bytes pass as on a real wire
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-printer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:
                continue
            replies = self.feed(data)
            if replies:
                os.write(self._master, replies)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> PtyPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TcpPrinter(EscposSink):
    """A network printer on 127.0.0.1 (port 0: a free one), one connection at a time like most printers."""

    def __init__(self, state: str = "ok", answers: bool = True, port: int = 0) -> None:
        super().__init__(state, answers)
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.05)
        self.host, self.port = self._server.getsockname()[:2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tcp-printer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.05)
                while not self._stop.is_set():
                    try:
                        data = conn.recv(65536)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    replies = self.feed(data)
                    if replies:
                        conn.sendall(replies)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()

    def __enter__(self) -> TcpPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    import sys

    state = sys.argv[1] if len(sys.argv) > 1 else "ok"
    with PtyPrinter(state) as printer:
        print(f"printer emulator ({state}) on {printer.path}; Ctrl+C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        print(f"received {len(printer.received)} bytes, {len(printer.queries)} status queries")


if __name__ == "__main__":
    main()
