"""What the office worker's inbox carries: small typed messages instead of tagged tuples.

The MQTT link puts device requests and presence in it; the web pages put local requests
(a counter page acting for its counter) and wait for their reply; the server puts
republish and stop. One worker thread takes them in batches (group commit).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from queue_server.config import Device


@dataclass(frozen=True)
class DeviceRequest:
    """A request a device published on its `req/` topic; answered on its `res/` topic."""

    device: str
    payload: bytes


@dataclass(frozen=True)
class LocalRequest:
    """A request from inside the server process (a web page acting as `device`), answered
    through `reply` instead of MQTT. Goes through the same authorisation and engine."""

    device: Device
    payload: bytes
    reply: Future[dict[str, Any]] = field(default_factory=Future, compare=False)


@dataclass(frozen=True)
class Presence:
    device: str
    payload: bytes


@dataclass(frozen=True)
class Republish:
    """The broker link (re)connected: publish every retained topic again."""


@dataclass(frozen=True)
class Stop:
    pass


Message = DeviceRequest | LocalRequest | Presence | Republish | Stop
