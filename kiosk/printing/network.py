"""A printer on the LAN, raw TCP port 9100 (the port Epson, Xprinter and most Ethernet models listen on)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from kiosk.printing.base import EscposPrinter

if TYPE_CHECKING:
    from escpos.escpos import Escpos


class NetworkPrinter(EscposPrinter):
    """python-escpos `Network`; status bytes come back on the same connection."""

    def describe(self) -> str:
        return f"tcp:{self.settings.host}:{self.settings.tcp_port}"

    def _connect(self) -> Escpos:
        from escpos.printer import Network

        printer = Network(host=self.settings.host, port=self.settings.tcp_port, timeout=self.settings.timeout,
                          profile=self.settings.model)
        printer.open()
        printer.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a 3-byte query must not wait for Nagle
        return printer

    def _socket(self) -> socket.socket:
        assert self._escpos is not None
        return self._escpos.device

    def _read_byte(self, timeout: float) -> int | None:
        sock = self._socket()
        sock.settimeout(timeout)
        try:
            data = sock.recv(1)
        except TimeoutError:
            return None
        finally:
            sock.settimeout(self.settings.timeout)
        if not data:
            raise ConnectionResetError("the printer closed the connection")
        return data[0]

    def _discard_input(self) -> None:
        sock = self._socket()
        sock.setblocking(False)
        try:
            while sock.recv(64):
                pass
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(self.settings.timeout)
