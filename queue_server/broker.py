"""The embedded MQTT broker (amqtt) so one command runs an office with nothing else installed.

It runs on its own asyncio loop in a background thread. Its state is in memory only:
retained messages are gone after a restart, which is why the server republishes all
retained state whenever it (re)connects. Production offices use Mosquitto instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future

for _name in ("amqtt", "transitions"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class BrokerStartError(OSError):
    """The embedded broker could not listen (most often: the port is taken, e.g. by Mosquitto)."""


class EmbeddedBroker:
    """An amqtt broker listening on host:port, started and stopped from any thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None

    def _config(self) -> dict:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}", "max_connections": 500}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

    def start(self, timeout: float = 10.0) -> None:
        started: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="embedded-broker", daemon=True)
        self._thread.start()
        try:
            started.result(timeout=timeout)
        except Exception as exc:
            raise BrokerStartError(
                f"the embedded MQTT broker cannot listen on {self.host}:{self.port} ({exc.__cause__ or exc}); "
                "is another broker (Mosquitto) running there? Use --mqtt-listen with another port, "
                "or --broker to use that broker"
            ) from None

    def _run(self, started: Future[None]) -> None:
        from amqtt.broker import Broker  # imported here: only the embedded mode pays for it

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            self._broker = Broker(self._config(), loop=loop)
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
            quiet.setLevel(logging.WARNING)
        started.set_result(None)
        loop.run_forever()
        loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None or self._broker is None:
            return
        loop = self._loop
        asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop).result(timeout=timeout)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread:
            self._thread.join(timeout)
        self._loop = self._broker = None
