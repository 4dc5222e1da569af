"""The live hub: the snapshot of retained state, ordered fan-out, what never reaches a browser."""

from __future__ import annotations

import json
import threading

import pytest

from queue_server.live import LiveHub, TopicFilter, local_name, snapshot_json, sse_frame
from queue_server.office import Outbound

BASE = "motcua/o1"


def out(rest: str, payload: dict, retain: bool = True) -> Outbound:
    return Outbound(f"{BASE}/{rest}", payload, retain=retain)


def test_topics_are_named_as_pages_think_of_them_and_replies_never_enter():
    assert local_name(BASE, f"{BASE}/state/queue") == "queue"
    assert local_name(BASE, f"{BASE}/state/counter/Q1") == "counter/Q1"
    assert local_name(BASE, f"{BASE}/event/call") == "event/call"
    for private in ("res/kiosk-01", "req/kiosk-01", "status/tv-01"):
        assert local_name(BASE, f"{BASE}/{private}") is None
    assert local_name(BASE, "motcua/other-office/state/queue") is None


def test_the_snapshot_keeps_the_last_payload_of_each_retained_topic_only():
    hub = LiveHub(BASE)
    hub.publish([out("state/queue", {"n": 1}), out("state/counter/Q1", {"t": "1001"})])
    hub.publish([out("state/queue", {"n": 2}), out("event/call", {"number": "1001"}, retain=False),
                 out("res/kiosk-01", {"vote_token": "secret"}, retain=False)])
    snap = hub.snapshot()
    assert {k: json.loads(c.data) for k, c in snap["topics"].items()} == {"queue": {"n": 2}, "counter/Q1": {"t": "1001"}}
    assert snap["seq"] == 4 and snap["events"] == []  # no `after`: no events
    assert [json.loads(c.data) for c in hub.snapshot(after=0)["events"]] == [{"number": "1001"}]
    assert b"secret" not in snapshot_json(snap["boot"], snap["seq"], snap["topics"], hub.snapshot(after=0)["events"])


def test_an_unchanged_republish_is_not_a_change():
    hub = LiveHub(BASE)
    seen = []
    hub.subscribe(seen.append)
    hub.publish([out("state/queue", {"n": 1})])
    hub.publish([out("state/queue", {"n": 1})])  # the worker republishes everything after a broker reconnect
    assert [c.seq for c in seen] == [1]


def test_subscribers_get_the_snapshot_and_then_every_change_in_order_across_threads():
    hub = LiveHub(BASE)
    hub.publish([out("state/queue", {"n": 0})])
    seen: list[int] = []
    start: dict = {}

    def publisher():
        for n in range(1, 501):
            hub.publish([out("state/queue", {"n": n})])

    thread = threading.Thread(target=publisher)
    thread.start()
    _, start = hub.subscribe(lambda c: seen.append(json.loads(c.data)["n"]))
    thread.join()
    first = json.loads(start["queue"].data)["n"]
    assert seen == list(range(first + 1, 501))  # nothing lost or repeated between the snapshot and the changes


def test_topic_filters_exact_prefix_and_everything():
    wanted = TopicFilter.parse("queue,counter/*,event/call")
    assert wanted("queue") and wanted("counter/Q1") and wanted("event/call")
    assert not wanted("office") and not wanted("counterfeit") and not wanted("device/kiosk-01")
    assert TopicFilter.parse("")("anything") and TopicFilter.parse("*")("office")
    with pytest.raises(ValueError):
        TopicFilter.parse(",".join(f"t{i}" for i in range(33)))
    with pytest.raises(ValueError):
        TopicFilter.parse("x" * 101)


def test_sse_frames_carry_event_id_and_data():
    assert sse_frame("change", b'{"a":1}', "b:3") == b'event: change\nid: b:3\ndata: {"a":1}\n\n'
