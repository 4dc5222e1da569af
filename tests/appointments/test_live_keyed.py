"""The live hub's keyed topics: a phone's ticket reaches only a client naming it exactly; an empty retained
payload removes a topic (the snapshot stays valid JSON: a counter removed at run time once broke it)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from queue_server.live import LiveHub, TopicFilter, snapshot_json


@dataclass
class Item:
    topic: str
    data: bytes
    retain: bool = True

    def encoded(self) -> bytes:
        return self.data


BASE = "motcua/o"


def test_no_wildcard_reaches_a_keyed_topic_only_its_exact_name_does():
    for pattern in ("", "*", "ticket/*", "queue,ticket/*"):
        assert not TopicFilter.parse(pattern)("ticket/secret-token"), pattern
    assert TopicFilter.parse("ticket/secret-token")("ticket/secret-token")
    assert not TopicFilter.parse("ticket/secret-token")("ticket/other-token")
    assert TopicFilter.parse("*")("queue") and TopicFilter.parse("counter/*")("counter/Q1")


def test_snapshots_hold_keyed_topics_only_for_those_who_name_them():
    hub = LiveHub(BASE)
    hub.publish([Item(f"{BASE}/state/queue", b'{"q":1}'), Item(f"{BASE}/state/ticket/tok", b'{"number":"1001"}')])
    assert set(hub.snapshot(TopicFilter.parse("*"))["topics"]) == {"queue"}
    assert set(hub.snapshot(TopicFilter.parse("ticket/tok"))["topics"]) == {"ticket/tok"}


def test_an_empty_retained_payload_removes_the_topic_and_subscribers_are_told_with_null():
    hub = LiveHub(BASE)
    seen = []
    hub.subscribe(seen.append)
    hub.publish([Item(f"{BASE}/state/counter/Q9", b'{"counter":"Q9"}'), Item(f"{BASE}/state/queue", b"{}")])
    hub.publish([Item(f"{BASE}/state/counter/Q9", b"")])
    hub.publish([Item(f"{BASE}/state/counter/Q9", b"")])  # removing what is gone changes nothing
    snap = hub.snapshot()
    assert set(snap["topics"]) == {"queue"}
    json.loads(snapshot_json(snap["boot"], snap["seq"], snap["topics"]))  # still valid JSON
    removed = seen[-1]
    assert removed.topic == "counter/Q9" and removed.removed and json.loads(removed.as_json())["payload"] is None
    assert len(seen) == 3
