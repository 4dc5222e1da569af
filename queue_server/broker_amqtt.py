"""amqtt 0.12.1 made safe for an office: logins from the password file, client ids bound to
users, retained messages only to matching subscriptions, a connection limit that says so.

Imported only when the embedded broker runs. What 0.12.1 does wrong, tried against it
(issues 14 and 23; the write-up for upstream is docs/amqtt-upstream.md):

1. It reads CONNECT and then deletes (clean session) or takes over (persistent session) the
   existing session of that client id *before* authenticating: one CONNECT with the
   server's client id, even with a wrong password, removed the server's subscriptions,
   and the server's connection stayed open receiving nothing, silently.
2. Any authenticated user could take any client id, so any device could kick another.
3. A persistent session taken over by a new connection was then marked disconnected by the
   old connection's clean-up, so the new connection got nothing either.
4. On connect it sends every retained message that matches *any client's* subscription,
   not the new client's own (MQTT 3.1.1 section 3.3.1.3): a device subscribed only to its
   `res/` topic received `status/queue_server` and `state/queue`.
5. Past `max_connections` a new connection waits on a semaphore forever, with no log line.

SafeBroker overrides the methods involved (one of them copied from 0.12.1 with the fix in
place, which is why amqtt is pinned to that version in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from amqtt.broker import Broker
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session
from amqtt.utils import format_client_message

from queue_server.broker_acl import UserAccess
from queue_server.credentials import read_password_file, verify_password

log = logging.getLogger("queue_server.broker")

# amqtt's own topic plugin. Its dataclass configuration takes only `acl` (subscriptions) and
# `publish_acl`; the `subscribe-acl` key of its documentation is refused there (RECIPES.md).
ACL_PLUGIN = "amqtt.plugins.topic_checking.TopicAccessControlListPlugin"
AUTH_PLUGIN = f"{__name__}.PasswordFileAuth"


def plugin_config(password_file: Path, rules: list[UserAccess]) -> dict:
    """The `plugins` section of an amqtt configuration for these users and rules."""
    return {
        AUTH_PLUGIN: {"password_file": str(password_file)},
        ACL_PLUGIN: {
            "acl": {rule.user: list(rule.read) for rule in rules},
            "publish_acl": {rule.user: list(rule.publish) for rule in rules},
        },
    }


class PasswordFileAuth(BaseAuthPlugin):
    """Logins checked against a Mosquitto password file (`$7$` hashes); nobody logs in without one.

    The file is read again when it changes, so regenerated credentials apply without a restart.
    """

    @dataclass
    class Config:
        password_file: str = ""

    def __init__(self, context) -> None:
        super().__init__(context)
        self._path = Path(self.config.password_file)
        self._stamp: tuple[int, int] | None = None
        self._hashes: dict[str, str] = {}
        self._reload()

    def _reload(self) -> None:
        stat = self._path.stat()  # a missing file stops the broker at start: better than an open one
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._hashes, self._stamp = read_password_file(self._path), stamp

    async def authenticate(self, *, session: Session) -> bool:
        if not session or not session.username or session.password is None:
            return False
        try:
            self._reload()
        except OSError:
            log.error("embedded MQTT broker: cannot read %s; refusing logins", self._path)
            return False
        hashed = self._hashes.get(session.username)
        password = session.password.decode() if isinstance(session.password, bytes) else session.password
        return bool(hashed) and verify_password(password, hashed)


class _Refusals:
    """Counts refusals by reason and logs them at most every few seconds (an attacker must not flood the log)."""

    EVERY_SECONDS = 10.0

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._logged_at: dict[str, float] = {}
        self._unlogged: Counter[str] = Counter()

    def note(self, reason: str, message: str) -> None:
        self.counts[reason] += 1
        self._unlogged[reason] += 1
        now = time.monotonic()
        if now - self._logged_at.get(reason, -1e9) >= self.EVERY_SECONDS:
            more = self._unlogged[reason] - 1
            log.warning("embedded MQTT broker: %s%s", message, f" (and {more} more since the last such line)" if more else "")
            self._logged_at[reason], self._unlogged[reason] = now, 0


class SafeBroker(Broker):
    """amqtt's Broker with the fixes listed in this module's docstring."""

    def __init__(self, *args, **kwargs) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the `acl` key, see ACL_PLUGIN
            super().__init__(*args, **kwargs)
        self.refusals = _Refusals()

    async def _client_connected(self, listener_name: str, reader, writer) -> None:
        server = self._servers.get(listener_name)
        if server is not None and 0 < server.max_connections <= server.conn_count:
            peer = writer.get_peer_info()
            self.refusals.note(
                "connection_limit",
                f"refused a connection from {peer[0] if peer else '?'}: {server.conn_count} connections "
                f"is the limit (--max-connections {server.max_connections})",
            )
            await writer.close()
            return
        await super()._client_connected(listener_name, reader, writer)

    async def _initialize_client_session(self, reader, writer, remote_address: str, remote_port: int):
        # Copied from amqtt 0.12.1 Broker._initialize_client_session; the two marked steps are new.
        try:
            handler, client_session = await BrokerProtocolHandler.init_from_connect(reader, writer, self.plugins_manager)
        # (Changed: at DEBUG, not WARNING/ERROR: any stranger on the LAN can cause these lines.)
        except AMQTTError as exc:
            self.logger.debug(f"[MQTT-3.1.0-1] {format_client_message(address=remote_address, port=remote_port)}:"
                              f" Can't read first packet as CONNECT: {exc}")
            raise AMQTTError(exc) from exc
        except MQTTError as exc:
            self.logger.debug(f"Invalid connection from {format_client_message(address=remote_address, port=remote_port)}")
            await writer.close()
            raise MQTTError(exc) from exc
        except NoDataError as exc:
            self.logger.debug(f"No data from {format_client_message(address=remote_address, port=remote_port)} : {exc}")
            raise AMQTTError(exc) from exc

        # New: authenticate before this CONNECT may touch anyone's session.
        if not await self._authenticate(client_session, None):
            who = f"as {client_session.username!r}" if client_session.username else "without a user name"
            self.refusals.note("login", f"refused a login {who} from {remote_address}")
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise AMQTTError(f"not authorized: {remote_address}")
        # New: the client id is the user name (Mosquitto's use_username_as_clientid), so a
        # device can only ever replace its own connection; the old one is closed first.
        client_session.client_id = client_session.username
        await self._close_previous_connection(client_session.client_id)

        if client_session.clean_session:
            await self._delete_session(client_session.client_id)
            client_session.parent = 0
        elif client_session.client_id in self._sessions:
            existing, _ = self._sessions[client_session.client_id]
            for name in ("will_flag", "will_message", "will_topic", "will_qos", "will_retain", "keep_alive", "username", "password"):
                setattr(existing, name, getattr(client_session, name))
            client_session = existing
            client_session.parent = 1
        else:
            client_session.parent = 0

        timeout_disconnect_delay = self.config.get("timeout-disconnect-delay", 0)
        if client_session.keep_alive > 0 and isinstance(timeout_disconnect_delay, int):
            client_session.keep_alive += timeout_disconnect_delay
        return handler, client_session

    async def _close_previous_connection(self, client_id: str, timeout: float = 5.0) -> None:
        """Close the connection a client id still has, and wait until its clean-up ran (fix 3)."""
        session, handler = self._sessions.get(client_id, (None, None))
        if session is None or handler is None or not session.transitions.is_connected():
            return
        session.will_flag = False  # the device is back, not gone: its will would mark it offline
        await handler.handle_connection_closed()
        deadline = time.monotonic() + timeout
        while session.transitions.is_connected() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int], session: Session) -> None:
        # Fix 4: amqtt calls this on connect for every filter any client holds.
        holders = self._subscriptions.get(subscription[0], ())
        if any(held.client_id == session.client_id for held, _ in holders):
            await super()._publish_retained_messages_for_subscription(subscription, session)
