"""The one place that wires a running office: store, office, broker link, HTTP and clock.

`motcua server`, `motcua demo` and the simulator call `bootstrap()`; tests hand in fakes here
(a FakeClock, a FakeLink that needs no broker), as cosmicpython's bootstrap takes each
dependency with a production default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from motcua.clock import Clock
from queue_server.config import OfficeConfig
from queue_server.server import QueueServer, ServerOptions


def bootstrap(config: OfficeConfig, options: ServerOptions, *, clock: Clock | None = None,
              link: Callable[[QueueServer], Any] | None = None, start: bool = True) -> QueueServer:
    """A QueueServer for `config`, started unless `start=False`.

    clock: the system clock by default; `link`: a factory of the broker link (default: the
    server's broker and its paho link, queue_server/mqtt_link.py; `mqtt_link.FakeLink` for tests).
    """
    server = QueueServer(config, options, clock=clock, link_factory=link)
    if start:
        server.start()
    return server
