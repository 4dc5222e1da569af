"""The embedded MQTT broker (amqtt), for boxes where Debian's Mosquitto cannot be installed.

It runs on its own asyncio loop in a background thread, with the fixes of
queue_server.broker_amqtt: logins from the office's password file (anonymous clients are
always refused), the topic rules of queue_server.broker_acl, client ids bound to users,
retained messages only to matching subscriptions, and a connection limit that is logged
and counted. Its state is in memory only: retained messages are gone after a restart,
which is why the server republishes all retained state whenever it (re)connects.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from pathlib import Path

from queue_server.broker_acl import UserAccess

# amqtt logs a warning for every refused or broken connection, which a stranger can cause at
# will; the broker's own refusals are reported, rate-limited, by broker_amqtt.
for _name in ("amqtt", "transitions"):
    logging.getLogger(_name).setLevel(logging.ERROR)

DEFAULT_MAX_CONNECTIONS = 500


class BrokerStartError(OSError):
    """The broker could not listen (most often: the port is taken, e.g. by Mosquitto)."""


def cannot_listen(host: str, port: int, why: object) -> BrokerStartError:
    """The one message for a broker that cannot listen, whichever broker it is."""
    return BrokerStartError(
        f"the MQTT broker cannot listen on {host}:{port} ({why}); "
        "is another broker (Mosquitto) running there? Use --mqtt-listen with another port, "
        "or --broker to use that broker"
    )


class EmbeddedBroker:
    """An amqtt broker listening on host:port, started and stopped from any thread."""

    kind = "embedded"

    def __init__(self, host: str, port: int, password_file: Path, rules: list[UserAccess],
                 max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self.host, self.port = host, port
        self.password_file = password_file
        self.rules = rules
        self.max_connections = max_connections
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None

    def _config(self) -> dict:
        from queue_server.broker_amqtt import plugin_config

        listener = {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": self.max_connections}
        return {"listeners": {"default": listener}, "plugins": plugin_config(self.password_file, self.rules)}

    @property
    def refusals(self) -> dict[str, int]:
        """Connections refused since start, by reason (`login`, `connection_limit`)."""
        return dict(self._broker.refusals.counts) if self._broker is not None else {}

    def start(self, timeout: float = 10.0) -> None:
        started: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="embedded-broker", daemon=True)
        self._thread.start()
        try:
            started.result(timeout=timeout)
        except Exception as exc:
            raise cannot_listen(self.host, self.port, exc.__cause__ or exc) from None

    def _run(self, started: Future[None]) -> None:
        from queue_server.broker_amqtt import SafeBroker  # imported here: only the embedded mode pays for amqtt

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            self._broker = SafeBroker(self._config(), loop=loop)
            await self._broker.start()

        quiet = logging.getLogger("amqtt.broker")
        quiet.setLevel(logging.CRITICAL)  # a failed start is reported by start(), without amqtt's traceback
        try:
            loop.run_until_complete(boot())
        except Exception as exc:  # e.g. the port is taken: tell the caller, not a log nobody reads
            self._loop = self._broker = None
            started.set_exception(exc)
            loop.close()
            return
        finally:
            quiet.setLevel(logging.ERROR)
        started.set_result(None)
        loop.run_forever()
        loop.close()

    def call(self, coroutine_function, timeout: float = 10.0):
        """Run `coroutine_function(amqtt_broker)` on the broker's loop and return its result."""
        assert self._loop is not None and self._broker is not None, "broker not running"
        return asyncio.run_coroutine_threadsafe(coroutine_function(self._broker), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None or self._broker is None:
            return
        loop = self._loop
        asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop).result(timeout=timeout)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread:
            self._thread.join(timeout)
        self._loop = self._broker = None
