"""Simulated citizens and officials for `motcua demo`, talking the real contract over MQTT."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

import click

from motcua.client import DeviceClient, RequestTimeout


def start_traffic(config: Any, broker: Any, stop: threading.Event, device: str = "console", leave: str | None = None) -> threading.Thread:
    """Simulate kiosks and officials; the counter `leave` is left to the person trying the demo."""
    thread = threading.Thread(target=_run, args=(config, broker, stop, device, leave), name="demo-traffic", daemon=True)
    thread.start()
    return thread


def _run(config: Any, broker: Any, stop: threading.Event, device: str, leave: str | None) -> None:
    rng = random.Random()
    client = DeviceClient(broker, config.id, device, config.topic_prefix).connect()

    def show_call(topic: str, payload: bytes) -> None:
        call = json.loads(payload)
        click.echo(f"[loa] {call['announce']}", err=True)

    client.subscribe(client.topics.event_call, show_call)
    try:
        counters = [c for c in config.counters if c != leave]
        for index, counter in enumerate(counters):
            client.request("counter.sign_in", counter=counter, staff=f"can-bo-{index + 1:02d}")
        services = list(config.services)
        while not stop.wait(rng.uniform(1.0, 3.0)):
            if rng.random() < 0.45:  # a little less often than calls, so queues stay short
                priority = rng.random() < 0.15
                reply = client.request("ticket.issue", service=rng.choice(services), priority=priority)
                if reply["ok"]:
                    t = reply["ticket"]
                    click.echo(f"[kiosk] số {t['number']} - {t['service_name']} (chờ trước: {t['ahead']})", err=True)
            else:
                client.request("counter.next", counter=rng.choice(counters))
    except RequestTimeout as exc:
        click.echo(f"[demo] traffic stopped: {exc}", err=True)
    finally:
        client.close()
