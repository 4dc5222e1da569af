"""Pages act through the same engine and authorisation as MQTT devices (QueueServer.request)."""

from __future__ import annotations

import json
import threading

from motcua.client import DeviceClient
from queue_server.config import Device


def test_a_page_acting_for_its_counter_calls_through_the_engine_and_displays_hear_it(start_server):
    server = start_server()
    page = Device(id="web-Q1", role="counter", counter="Q1")
    calls: list[dict] = []
    heard = threading.Event()
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "tv-01") as tv:
        tv.subscribe(tv.topics.event_call, lambda t, p: (calls.append(json.loads(p)), heard.set()))
        assert kiosk.request("ticket.issue", service="HT")["ok"]
        assert server.request(page, "counter.sign_in", staff="nv-lan")["ok"]
        called = server.request(page, "counter.next", request_id="page-1")
        assert called["ok"] and called["ticket"]["number"] == "1001" and called["ticket"]["vote_token"] is None
        assert server.request(page, "counter.next", request_id="page-1") == called  # a re-submitted form acts once
        assert heard.wait(5) and calls[0]["counter"] == "Q1"
    # Bound to Q1: another counter is refused, whatever the page asks.
    refused = server.request(page, "counter.next", counter="Q2")
    assert refused["error"]["code"] == "not_authorized"
    events = [e for e in server.store.events_after(0) if e.type == "TicketCalled"]
    assert len(events) == 1 and events[0].device == "web-Q1" and events[0].data["staff"] == "nv-lan"
