"""What the office worker's inbox carries: small typed messages instead of tagged tuples.

The MQTT link puts device requests and presence in it; the web pages put local requests
(a counter page acting for its counter) and wait for their reply; the server puts
republish and stop. One worker thread takes them in batches (group commit).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
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
class Record:
    """Work on the office database that goes with audit events (a login, an account change), run by
    the worker so that the events table keeps one writer: `work(db, now) -> (result, events)`."""

    work: Callable[[Any, datetime], tuple[Any, list[Any]]]
    device: str | None = None
    reply: Future[Any] = field(default_factory=Future, compare=False)


@dataclass(frozen=True)
class Presence:
    device: str
    payload: bytes


@dataclass(frozen=True)
class Republish:
    """The broker link (re)connected: publish every retained topic again."""


@dataclass(frozen=True)
class Call:
    """Run `fn(office)` in the worker (the only thread that may read the engine's state) and hand
    back its result: a phone page's first view of its ticket, for one."""

    fn: Callable[[Any], Any]
    result: Future[Any] = field(default_factory=Future, compare=False)


@dataclass(frozen=True)
class Stop:
    pass


Message = DeviceRequest | LocalRequest | Record | Presence | Republish | Call | Stop
