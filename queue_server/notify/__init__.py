"""SMS to citizens through a pluggable gateway (issue 20; docs/phone.md).

    base.py           the Gateway interface; LogGateway (the default: writes the message to the log) and
                      FakeGateway (keeps what it was asked to send, for tests and --simulate)
    modem.py          a GSM/4G modem on a serial port, driven by AT commands (PDU mode for Vietnamese)
    modem_emulator.py a modem that answers AT commands on a pty, for tests and trying without a SIM
    http_gateway.py   an SMS provider's HTTP API, with a bearer token read from a file
    outbox.py         the sending thread: the worker never waits for a gateway

What is sent and when is the appointments desk's decision (queue_server/appointments/moments.py).
"""

from __future__ import annotations

from queue_server.config import NotificationSettings
from queue_server.notify.base import FakeGateway, Gateway, GatewayError, LogGateway

__all__ = ["FakeGateway", "Gateway", "GatewayError", "LogGateway", "make_gateway"]


def make_gateway(settings: NotificationSettings) -> Gateway:
    """The gateway `[notifications] gateway` names, configured from its table."""
    if settings.gateway == "modem":
        from queue_server.notify.modem import ModemGateway

        m = settings.modem
        return ModemGateway(m.port, baudrate=m.baudrate, encoding=m.encoding, timeout=m.timeout_seconds)
    if settings.gateway == "http":
        from queue_server.notify.http_gateway import HttpGateway

        h = settings.http
        return HttpGateway(h.url, token_file=h.token_file, to_field=h.to_field, text_field=h.text_field, timeout=h.timeout_seconds)
    return LogGateway()
