"""Simulated citizens and officials for `motcua demo`, talking the real contract over MQTT."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

import click

from motcua.client import DeviceClient, RequestTimeout


def start_traffic(config: Any, broker: Any, stop: threading.Event, device: str = "console") -> threading.Thread:
    thread = threading.Thread(target=_run, args=(config, broker, stop, device), name="demo-traffic", daemon=True)
    thread.start()
    return thread


def _run(config: Any, broker: Any, stop: threading.Event, device: str) -> None:
    rng = random.Random()
    client = DeviceClient(broker, config.id, device, config.topic_prefix).connect()

    def show_call(topic: str, payload: bytes) -> None:
        call = json.loads(payload)
        click.echo(f"[loa] {call['announce']}", err=True)

    client.subscribe(client.topics.event_call, show_call)
    try:
        for index, counter in enumerate(config.counters):
            client.request("counter.sign_in", counter=counter, staff=f"can-bo-{index + 1:02d}")
        services = list(config.services)
        counters = list(config.counters)
        while not stop.wait(rng.uniform(1.0, 3.0)):
            if rng.random() < 0.6:
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
