"""The live stream on a running server: snapshot first, each committed change, filters, resync, shutdown."""

from __future__ import annotations

import json
import time
import urllib.request

from motcua.client import DeviceClient
from tests.live_client import LiveStream


def stream(server, topics: str = "", **kw) -> LiveStream:
    host, port = server.options.http_listen
    return LiveStream(host, port, topics, **kw)


def get_json(server, path: str):
    host, port = server.options.http_listen
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as response:
        return response.status, response.headers, json.loads(response.read())


def test_a_page_gets_the_snapshot_then_each_change_a_call_makes(start_server):
    server = start_server()
    live = stream(server, "queue,counter/Q1,event/call")
    assert live.status == 200 and live.headers["Content-Type"].startswith("text/event-stream")
    assert live.headers["Cache-Control"] == "no-store"
    first = live.next()
    assert first.event == "snapshot" and first.id == f"{first.data['boot']}:{first.data['seq']}"
    assert set(first.data["topics"]) == {"queue", "counter/Q1"}  # only what the page follows
    assert first.data["topics"]["queue"]["total_waiting"] == 0
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        issued = kiosk.request("ticket.issue", service="HT")
        queued = live.until(lambda e: e.event == "change" and e.data["topic"] == "queue"
                            and e.data["payload"]["services"]["HT"]["waiting"] == 1)
        assert queued.data["payload"]["total_waiting"] == 1
        counter.request("counter.sign_in", counter="Q1", staff="nv01")
        counter.request("counter.next", counter="Q1")
        call = live.until(lambda e: e.data and e.data.get("topic") == "event/call")
        assert call.data["payload"]["number"] == issued["ticket"]["number"]
        assert call.data["payload"]["counter_name"] == "Quầy 1"
        state = live.until(lambda e: e.data.get("topic") == "counter/Q1" and e.data["payload"]["ticket"])
        assert state.data["payload"]["ticket"] == issued["ticket"]["number"]
    live.close()


def test_replies_and_their_tokens_never_reach_the_stream(start_server):
    server = start_server()
    live = stream(server)  # everything there is
    live.next()
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk:
        ticket = kiosk.request("ticket.issue", service="HT")["ticket"]
    seen = [live.until(lambda e: e.event == "change" and e.data["topic"] == "queue" and e.data["payload"]["total_waiting"] == 1)]
    text = json.dumps([e.data for e in seen]) + json.dumps(get_json(server, "/api/live/snapshot?after=0&boot=x")[2])
    assert ticket["vote_token"] not in text and ticket["public_token"] not in text
    live.close()


def test_polling_gets_the_same_snapshot_and_the_events_it_missed(start_server):
    server = start_server()
    _, headers, first = get_json(server, "/api/live/snapshot?topics=queue,event/call")
    assert headers["Cache-Control"] == "no-store" and set(first["topics"]) == {"queue"} and first["events"] == []
    with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
            DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        kiosk.request("ticket.issue", service="HT")
        counter.request("counter.sign_in", counter="Q1", staff="nv01")
        counter.request("counter.next", counter="Q1")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the hub is fed after the MQTT publish: wait for it, bounded
        _, _, later = get_json(server, f"/api/live/snapshot?topics=queue,event/call&boot={first['boot']}&after={first['seq']}")
        if later["events"]:
            break
    assert [e["topic"] for e in later["events"]] == ["event/call"]
    assert later["seq"] > first["seq"]
    _, _, other_boot = get_json(server, f"/api/live/snapshot?topics=event/call&boot=not-this-one&after={first['seq']}")
    assert other_boot["events"] == []  # a restarted server's sequence means nothing to the old one


def test_bad_stream_requests_get_the_json_error_shape(start_server):
    import http.client

    server = start_server()
    host, port = server.options.http_listen
    conn = http.client.HTTPConnection(host, port, timeout=10)
    for method, path, status, code in [("GET", "/api/live?topics=" + ",".join(["x"] * 40), 400, "bad_request"),
                                       ("POST", "/api/live", 405, "method_not_allowed")]:
        conn.request(method, path)
        reply = conn.getresponse()
        body = json.loads(reply.read())
        assert reply.status == status and body["ok"] is False and body["error"]["code"] == code
        assert body["error"]["message"] and body["error"]["message_en"]
    conn.close()


def test_a_restart_gives_a_new_boot_and_a_fresh_snapshot(start_server, tmp_path, config, credentials):
    from bench.support import free_port
    from queue_server.server import QueueServer, ServerOptions

    options = ServerOptions(data_dir=tmp_path / "d", mqtt_listen=("127.0.0.1", free_port()), http_listen=("127.0.0.1", free_port()),
                            credentials_dir=credentials.directory)
    first = QueueServer(config, options)
    first.start()
    live = LiveStream(*options.http_listen, "queue")
    boot = live.next().data["boot"]
    with DeviceClient(first.broker_url, config.id, "kiosk-01") as kiosk:
        kiosk.request("ticket.issue", service="HT")
    started = time.monotonic()
    first.stop()
    assert time.monotonic() - started < 5  # open streams do not hold the shutdown up
    try:
        while True:
            live.next()
    except (ConnectionError, OSError):
        pass  # the stream ended with the server
    second = QueueServer(config, options)
    second.start()
    try:
        again = LiveStream(*options.http_listen, "queue").next()
        assert again.event == "snapshot" and again.data["boot"] != boot
        assert again.data["topics"]["queue"]["total_waiting"] == 1  # from the database, before any new request
    finally:
        second.stop()


def test_metrics_count_the_pages_following_the_stream(start_server):
    server = start_server()
    streams = [stream(server, "queue") for _ in range(3)]
    for s in streams:
        s.next()
    host, port = server.options.http_listen
    text = urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10).read().decode()
    assert f'motcua_live_subscribers{{office="{server.config.id}"}} 3.0' in text
    for s in streams:
        s.close()
