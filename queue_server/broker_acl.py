"""Who may publish and read which topics: one definition for both brokers.

Rendered as a Mosquitto ACL file (queue_server.mosquitto_acl) and as the embedded broker's
topic plugin configuration (queue_server.broker_amqtt). Each device's broker user name is
its device id; the server's is SERVER_USER. A device may publish only its own requests and
presence and read only its own replies and the public state, events and presence; only the
server publishes state and events. The server still checks every operation against the
device's role: with MQTT 3.1.1 a denied publish is dropped without telling the client.
"""

from __future__ import annotations

from dataclasses import dataclass

from motcua import protocol as p
from queue_server.config import OfficeConfig

SERVER_USER = "motcua-server"
# A device with one of these ids would be granted the server's own req/ or status/ topics.
RESERVED_IDS = (SERVER_USER, p.SERVER_DEVICE_ID)


class AccessError(ValueError):
    """The configuration names a device the rules cannot give its own topics to."""


@dataclass(frozen=True)
class UserAccess:
    user: str
    comment: str
    publish: tuple[str, ...]
    read: tuple[str, ...]  # topic filters it may subscribe to (and so receive)


def access_rules(config: OfficeConfig, server_user: str = SERVER_USER) -> list[UserAccess]:
    """The server's user first, then one entry per device of the configuration."""
    t = p.Topics(config.id, config.topic_prefix)
    everything = f"{t.base}/#"
    rules = [UserAccess(server_user, "the queue server", (everything,), (everything,))]
    public = (f"{t.base}/state/#", f"{t.base}/event/#", t.all_status)
    for device in config.devices.values():
        if device.id in RESERVED_IDS or device.id == server_user:
            raise AccessError(f"device id {device.id!r} is reserved for the queue server; rename that device")
        where = f" at counter {device.counter}" if device.counter else ""
        rules.append(UserAccess(device.id, f"{device.role}{where}", (t.req(device.id), t.status(device.id)), (t.res(device.id), *public)))
    return rules
