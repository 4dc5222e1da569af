"""bootstrap() wires the whole office; with a FakeLink and a FakeClock it runs with no broker at all."""

from __future__ import annotations

import json
import urllib.request

from bench.support import free_port
from motcua import protocol as p
from motcua.clock import FakeClock
from queue_server.bootstrap import bootstrap
from queue_server.config import Device
from queue_server.mqtt_link import FakeLink
from queue_server.server import ServerOptions
from tests.staff_support import seed_data_dir


def test_an_office_runs_on_fakes_requests_answered_state_published_and_served_over_http(tmp_path, config):
    clock = FakeClock()
    seed_data_dir(tmp_path / "data", config)  # the test officials have accounts, as in a real office
    options = ServerOptions(data_dir=tmp_path / "data", http_listen=("127.0.0.1", free_port()))
    server = bootstrap(config, options, clock=clock, link=FakeLink)
    try:
        link = server.link
        assert isinstance(link, FakeLink)
        link.deliver("kiosk-01", p.dumps({"id": "k1", "op": "ticket.issue", "service": "HT"}))
        reply = p.Reply.from_payload(json.loads(link.wait_for(server.topics.res("kiosk-01"))))
        assert reply.ok and reply.ticket is not None and reply.ticket.number == "1001"
        queue = p.QueueState.from_payload(json.loads(link.wait_for(server.topics.state_queue)))
        assert queue.business_day == config.business_day(clock.now())
        page = Device(id="web-Q1", role="counter", counter="Q1")
        assert server.request(page, "counter.sign_in", staff="nv01")["ok"]
        assert server.request(page, "counter.next")["ticket"]["number"] == "1001"
        host, port = options.http_listen
        health = json.loads(urllib.request.urlopen(f"http://{host}:{port}/health", timeout=10).read())
        state = json.loads(urllib.request.urlopen(f"http://{host}:{port}/api/state", timeout=10).read())
        assert health["ok"] is True and state["issued_today"] == 1
    finally:
        server.stop()
