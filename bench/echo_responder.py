"""A raw MQTT echo: what a round trip through the broker costs with no server work at all.

Run as its own process, like the queue server, so the comparison is fair:
    python bench/echo_responder.py HOST PORT PREFIX
It answers every message on PREFIX/req/<device> on PREFIX/res/<device> with the same payload.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from motcua.client import disable_nagle
from motcua.credentials import password_for


def main() -> None:
    host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    # It stands in for the queue server, so it logs in as the server (password from MOTCUA_CREDENTIALS).
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="motcua-server")
    client.username_pw_set("motcua-server", password_for("motcua-server"))
    client.max_inflight_messages_set(1000)
    ready = threading.Event()

    def on_connect(c, userdata, flags, reason, properties):
        disable_nagle(c)  # as the queue server does, so the comparison is fair
        c.subscribe(f"{prefix}/req/+", qos=1)

    def on_subscribe(c, userdata, mid, reasons, properties):
        ready.set()
        print("ready", flush=True)

    def on_message(c, userdata, msg):
        device = msg.topic.rsplit("/", 1)[-1]
        c.publish(f"{prefix}/res/{device}", msg.payload, qos=1)

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect(host, port)
    client.loop_forever()


if __name__ == "__main__":
    main()
