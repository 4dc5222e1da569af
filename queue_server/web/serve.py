"""The production server: uvicorn, in a thread of the server process, serving one ASGI app.

The ASGI app answers the live stream itself (asyncio: an idle page costs no thread) and
hands every other request to Flask through a2wsgi's WSGI adapter, which runs Flask in a
small thread pool. Why uvicorn and not waitress or werkzeug: docs/web.md (measured).
uvicorn installs no signal handlers outside the main thread; the server process keeps
its own (SIGTERM -> QueueServer.stop()).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from queue_server.web.stream import LIVE_PATH, LoopFanout, serve_stream

log = logging.getLogger(__name__)

WSGI_THREADS = 8  # Flask requests at once; each is short (a read on the request's own connection)
START_TIMEOUT = 15.0


def _input_terminated(app: Any) -> Any:
    """a2wsgi's body stream ends where the request ends; telling werkzeug so lets it read (and bound) a
    chunked body that announces no length, instead of treating it as empty."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.input_terminated"] = True
        return app(environ, start_response)

    return wrapped


def asgi_app(flask_app: Any, hub: Any, workers: int = WSGI_THREADS) -> Any:
    """The ASGI callable: /api/live natively, the rest to Flask."""
    from a2wsgi import WSGIMiddleware

    wsgi = WSGIMiddleware(_input_terminated(flask_app), workers=workers)
    fanouts: dict[asyncio.AbstractEventLoop, LoopFanout] = {}

    def fanout() -> LoopFanout:
        loop = asyncio.get_running_loop()
        if loop not in fanouts:
            fanouts[loop] = LoopFanout(hub, loop)
        return fanouts[loop]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    fanout()
                    await send({"type": "lifespan.startup.complete"})
                else:
                    for f in list(fanouts.values()):
                        f.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "http" and scope["path"] == LIVE_PATH:
            await serve_stream(fanout(), scope, receive, send)
            return
        await wsgi(scope, receive, send)

    app.close_streams = lambda: [f.loop.call_soon_threadsafe(f.close_all) for f in list(fanouts.values())]
    return app


class HttpServer:
    """uvicorn serving `app` from its own thread; `shutdown()` ends the streams, then the server."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        self.app = app
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
            timeout_graceful_shutdown=3, timeout_keep_alive=30, server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="http", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve())
        except BaseException as exc:  # reported by start(), the thread has no one else to tell
            self.error = exc

    def start(self) -> HttpServer:
        self.thread.start()
        waited = 0.0
        while not self.server.started and self.thread.is_alive() and waited < START_TIMEOUT:
            self.thread.join(0.01)
            waited += 0.01
        if not self.server.started:
            self.server.should_exit = True
            raise OSError(f"the HTTP server could not start on {self.server.config.host}:{self.server.config.port}"
                          f" (is the port taken?){': ' + str(self.error) if self.error else ''}")
        return self

    def shutdown(self) -> None:
        if not self.thread.is_alive():
            return  # stopped already (a server may be stopped twice: by its owner, then by a test's teardown)
        self.app.close_streams()  # otherwise uvicorn would wait for every open stream to end
        self.server.should_exit = True
        self.thread.join(10)


def serve(server: Any, host: str, port: int) -> HttpServer:
    """Serve the office's web app on host:port from a thread; returns the handle (call .shutdown())."""
    from queue_server.web import create_app

    return HttpServer(asgi_app(create_app(server), server.hub), host, port).start()
