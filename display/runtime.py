"""What every waiting-room device program shares: connecting until the broker answers, and reporting
its state with `device.status` without ever blocking the work (a report waits in the background)."""

from __future__ import annotations

import logging
import threading

from motcua.client import DeviceClient, RequestTimeout

log = logging.getLogger(__name__)

MAX_DETAIL = 200  # the contract's limit on a text field


def close_client(client: DeviceClient) -> None:
    """Say "offline" and disconnect; DeviceClient.close raises when the broker was never reached."""
    try:
        client.close()
    except RuntimeError:  # paho: "the client is not currently connected"
        client.client.loop_stop()


def connect_until_stopped(client: DeviceClient, stopping: threading.Event, retry_seconds: float = 3.0) -> bool:
    """Connect, retrying while the broker is down (a display box may boot before the server's box)."""
    while not stopping.is_set():
        try:
            client.connect(timeout=10)
            return True
        except (OSError, RequestTimeout) as exc:
            log.warning("MQTT broker %s not reachable (%s); retrying in %g s", client.url, exc, retry_seconds)
            stopping.wait(retry_seconds)
    return False


class StatusReporter:
    """Sends the latest (state, detail) of one component as `device.status`, re-sending until the
    server has it. Only the latest matters: a state that changed twice while the broker was away
    is reported once, as it is now."""

    def __init__(self, client: DeviceClient, component: str, retry_seconds: float = 5.0) -> None:
        self.client = client
        self.component = component
        self.retry_seconds = retry_seconds
        self.sent: tuple[str, str | None] | None = None
        self._wanted: tuple[str, str | None] | None = None
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"status-{component}", daemon=True)
        self._thread.start()

    def report(self, state: str, detail: str | None = None) -> None:
        clean = None
        if detail:
            clean = "".join(ch if ch.isprintable() else " " for ch in detail).strip()[:MAX_DETAIL] or None
        with self._changed:
            self._wanted = (state, clean)
            self._changed.notify_all()

    def wait_sent(self, state: str, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.sent is not None and self.sent[0] == state, timeout)

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join(1)  # a request in flight is harmless: the thread is a daemon

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or (self._wanted is not None and self._wanted != self.sent))
                if self._stopping:
                    return
                wanted = self._wanted
            assert wanted is not None
            state, detail = wanted
            fields = {"state": state, "component": self.component}
            if detail:
                fields["detail"] = detail
            if not self.client.client.is_connected():  # paho reconnects by itself; ask again in a moment
                with self._changed:
                    self._changed.wait(1.0)
                continue
            try:
                reply = self.client.request("device.status", timeout=5, retries=0, **fields)
            except (RequestTimeout, OSError):
                with self._changed:
                    self._changed.wait(self.retry_seconds)
                continue
            if not reply.get("ok"):
                log.warning("the server refused our device.status: %s", reply.get("error", {}).get("message"))
            with self._changed:
                self.sent = wanted
                self._changed.notify_all()
