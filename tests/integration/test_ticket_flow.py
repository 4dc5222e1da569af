"""A ticket's life over the real contract: kiosk issues, counter calls, display hears."""

from __future__ import annotations

import json
import threading

from motcua.client import DeviceClient


def test_issued_ticket_is_called_and_announced_to_displays(start_server):
    server = start_server()
    url = server.broker_url
    heard: list[dict] = []
    got_call = threading.Event()
    with DeviceClient(url, server.config.id, "tv-01") as tv, DeviceClient(url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(url, server.config.id, "quay-01") as counter:
        tv.subscribe(tv.topics.event_call, lambda t, p: (heard.append(json.loads(p)), got_call.set()))
        issued = kiosk.request("ticket.issue", service="HT")
        assert issued["ok"], issued
        assert issued["ticket"]["number"] == "1001"
        assert counter.request("counter.sign_in", staff="nv-lan")["ok"]
        called = counter.request("counter.next")
        assert called["ok"] and called["ticket"]["number"] == "1001"
        assert got_call.wait(5)
    assert heard[0]["number"] == "1001"
    assert heard[0]["counter"] == "Q1"
    assert heard[0]["announce"] == "Xin mời công dân có số thứ tự 1001, đến Quầy 1."
    # The legacy field for devices that build no sentence (the voice box builds its own: display/voice).
    assert heard[0]["announce_words"] == "Xin mời công dân có số thứ tự một nghìn không trăm linh một, đến Quầy một."
