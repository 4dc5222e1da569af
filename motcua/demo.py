"""Simulated citizens and officials for `motcua demo`, talking the real contract over MQTT.

Each simulated device logs in with its own credential (from the demo's generated
credentials file), as a real kiosk, counter keypad or voice caller does: kiosks issue
tickets, counter devices sign in and call at their own counter, the voice device prints
the calls. The `console` admin device is used only for what has no device of its own.
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

import click

from motcua.client import DeviceClient, RequestTimeout


def start_traffic(config: Any, broker: Any, stop: threading.Event, device: str = "console", leave: str | None = None,
                  credentials: str | Path | None = None, spare: set[str] | frozenset[str] = frozenset()) -> threading.Thread:
    """Simulate kiosks and officials; the counter `leave` and the devices `spare` (the kiosk app in a window:
    one connection per device) are left to the person trying the demo."""
    thread = threading.Thread(target=_run, args=(config, broker, stop, device, leave, credentials, spare), name="demo-traffic", daemon=True)
    thread.start()
    return thread


def _run(config: Any, broker: Any, stop: threading.Event, admin: str, leave: str | None, credentials: str | Path | None,
         spare: set[str] | frozenset[str] = frozenset()) -> None:
    rng = random.Random()
    clients: list[DeviceClient] = []

    def connect(device: str) -> DeviceClient:
        client = DeviceClient(broker, config.id, device, config.topic_prefix, credentials=credentials).connect()
        clients.append(client)
        return client

    try:
        devices = [d for d in config.devices.values() if d.id not in spare]
        # The admin device only where no device of the right role exists: the person trying the
        # demo acts as `console`, and a second connection with its credential would push this one off.
        admin_client: list[DeviceClient] = []

        def console() -> DeviceClient:
            if not admin_client:
                admin_client.append(connect(admin))
            return admin_client[0]

        kiosks = [connect(d.id) for d in devices if d.role == "kiosk"] or [console()]
        # Each counter is worked through its own keypad device when it has one (no `counter` field then).
        keypads = {d.counter: d.id for d in devices if d.role == "counter"}
        counters = {c: (connect(keypads[c]), None) if c in keypads else (console(), c) for c in config.counters if c != leave}
        voice = next((d.id for d in devices if d.role == "voice"), None)
        speaker = connect(voice) if voice else console()

        def show_call(topic: str, payload: bytes) -> None:
            call = json.loads(payload)
            click.echo(f"[loa] {call['announce']}", err=True)

        speaker.subscribe(speaker.topics.event_call, show_call)
        for index, (client, counter) in enumerate(counters.values()):
            client.request("counter.sign_in", staff=f"can-bo-{index + 1:02d}", **_at(counter))
        services = list(config.services)
        while not stop.wait(rng.uniform(1.0, 3.0)):
            if rng.random() < 0.45:  # a little less often than calls, so queues stay short
                priority = rng.random() < 0.15
                reply = rng.choice(kiosks).request("ticket.issue", service=rng.choice(services), priority=priority)
                if reply["ok"]:
                    t = reply["ticket"]
                    click.echo(f"[kiosk] số {t['number']} - {t['service_name']} (chờ trước: {t['ahead']})", err=True)
                else:  # said, not swallowed: a demo that stops issuing must say why
                    click.echo(f"[kiosk] {reply['error']['message']}", err=True)
            elif counters:
                client, counter = rng.choice(list(counters.values()))
                client.request("counter.next", **_at(counter))
    except (RequestTimeout, OSError, ValueError) as exc:
        click.echo(f"[demo] traffic stopped: {exc}", err=True)
    finally:
        for client in clients:
            client.close()


def _at(counter: str | None) -> dict[str, str]:
    return {"counter": counter} if counter else {}
