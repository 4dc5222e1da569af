"""Every message a running server publishes is one of the contract's schemas, field for field."""

from __future__ import annotations

import threading

from motcua import protocol as p
from motcua.client import DeviceClient


def _schema_for(topics: p.Topics, topic: str) -> type[p.Schema] | None:
    relative = topic[len(topics.base) + 1:]
    for pattern, schema in {**p.RETAINED_SCHEMAS, **p.EVENT_SCHEMAS, "res/{device}": p.Reply}.items():
        head = pattern.split("{")[0]
        if relative == pattern or ("{" in pattern and relative.startswith(head) and "/" not in relative[len(head):]):
            return schema
    return None


def test_the_server_emits_only_declared_fields_and_devices_can_read_every_payload(start_server):
    server = start_server()
    url, office = server.broker_url, server.config.id
    seen: list[tuple[str, bytes]] = []
    lock = threading.Condition()

    def record(topic: str, payload: bytes) -> None:
        with lock:
            seen.append((topic, payload))
            lock.notify_all()

    class Recording(DeviceClient):
        """Replies, as each device receives them on its own res/ topic (the ACL lets nobody read another's)."""

        def request(self, op, **fields):
            reply = super().request(op, **fields)
            record(self.topics.res(self.device), p.dumps(reply))
            return reply

    with Recording(url, office, "console") as admin, Recording(url, office, "kiosk-01") as kiosk, \
            Recording(url, office, "quay-01") as counter, Recording(url, office, "danhgia-01") as rating:
        admin.subscribe(f"{admin.topics.base}/state/#", record)
        admin.subscribe(f"{admin.topics.base}/event/#", record)
        issued = kiosk.request("ticket.issue", service="HT", priority_group="elderly")
        assert issued["ok"]
        kiosk.request("ticket.issue", service="HT")
        assert counter.request("counter.sign_in", staff="nv01")["ok"]
        assert counter.request("counter.next")["ok"]
        assert counter.request("counter.recall")["ok"]
        assert counter.request("counter.finish")["ok"]
        assert rating.request("vote.counter", level="satisfied")["ok"]
        assert kiosk.request("device.status", component="printer", state="paper_low", detail="còn ít giấy")["ok"]
        assert admin.request("office.notice", text="Hôm nay tiếp nhận hồ sơ đến 16:30.")["ok"]
        assert admin.request("service.close", service="XD", reason="Cán bộ đi công tác")["ok"]
        assert not kiosk.request("ticket.issue", service="XD")["ok"]
        with lock:
            assert lock.wait_for(lambda: any(t.endswith("/state/office") and b"16:30" in pl for t, pl in seen), 5)

    checked: dict[type, int] = {}
    for topic, payload in seen:
        schema = _schema_for(server.topics, topic)
        assert schema is not None, f"{topic} has no schema in motcua/protocol.py"
        data = p.decode_json(payload, max_bytes=p.MAX_PAYLOAD_BYTES)
        assert p.undeclared_fields(schema, data) == [], f"{topic} emits fields its schema does not declare"
        assert schema.from_payload(data).to_payload() == data  # devices read back exactly what was sent
        checked[schema] = checked.get(schema, 0) + 1
    assert set(checked) >= {p.OfficeInfo, p.QueueState, p.CounterView, p.DeviceView, p.RecentCalls, p.CallEvent, p.Reply}


def test_the_checker_catches_an_undeclared_field():
    view = p.ClockState(server_time="2026-12-01T08:00:00+07:00", business_day="2026-12-01", timezone="Asia/Ho_Chi_Minh")
    payload = view.to_payload() | {"debug": 1}
    assert p.undeclared_fields(p.ClockState, payload) == ["debug"]
    nested = {"calls": [{**p.CallEvent("1", "HT", "x", "Q1", "Q", False, 1, "t", "a", "w", "e").to_payload(), "secret": "s"}]}
    assert p.undeclared_fields(p.RecentCalls, nested) == ["calls.0.secret"]


def test_a_device_reading_an_older_or_newer_payload_ignores_what_it_does_not_know():
    newer = {"counter": "Q1", "name": "Quầy 1", "spoken_name": "Quầy 1", "services": ["HT"], "status": "idle",
             "status_text": "Sẵn sàng", "field_from_2030": {"x": 1}}
    view = p.CounterView.from_payload(newer)
    assert view.counter == "Q1" and view.served_today == 0 and view.last_finished is None
