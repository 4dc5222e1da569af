"""The broker a server runs itself when it is given no --broker: Mosquitto, or the embedded one.

`auto` (the default) takes Debian's Mosquitto when it is installed and the embedded amqtt
broker otherwise, saying so in the log. Both get the same credentials and the same topic
rules, and both refuse anonymous clients, whatever address they listen on. The numbers
behind the choice are in docs/security.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from queue_server.broker import EmbeddedBroker
from queue_server.broker_acl import UserAccess
from queue_server.broker_mosquitto import SupervisedMosquitto, find_mosquitto
from queue_server.credentials import CredentialSet

log = logging.getLogger(__name__)

KINDS = ("auto", "mosquitto", "embedded")


class OwnBroker(Protocol):
    kind: str
    host: str
    port: int

    def start(self, timeout: float = ...) -> None: ...
    def stop(self, timeout: float = ...) -> None: ...
    @property
    def refusals(self) -> dict[str, int]: ...


def make_broker(kind: str, host: str, port: int, credentials: CredentialSet, rules: list[UserAccess],
                workdir: Path, max_connections: int) -> OwnBroker:
    """The broker of kind `kind` (see KINDS), not started yet."""
    if kind not in KINDS:
        raise ValueError(f"broker kind {kind!r}: use one of {', '.join(KINDS)}")
    if kind == "auto":
        kind = "mosquitto" if find_mosquitto() else "embedded"
        if kind == "embedded":
            log.warning("Mosquitto is not installed (apt-get install mosquitto); using the embedded broker, "
                        "which is slower and bigger (docs/security.md)")
    if kind == "mosquitto":
        return SupervisedMosquitto(host, port, workdir, credentials.password_file, credentials.acl_file, max_connections)
    return EmbeddedBroker(host, port, credentials.password_file, rules, max_connections)
