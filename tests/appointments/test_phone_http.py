"""Today's number from the phone page, and the ticket on the phone: its own view on the live stream (nobody
else's), the polling answer, the vote with the link's token, gone at the day's end."""

from __future__ import annotations

import json
from datetime import timedelta

from motcua.client import DeviceClient
from queue_server.appointments import db as tables
from queue_server.inbox import Republish
from tests.appointments.http_support import api, call, form
from tests.appointments.support import office
from tests.live_client import LiveStream

CONFIG = office(office={**office().source["office"], "issue_outside_hours": True})


def take(server, phone="0912345678", service="HT", sms=True, rid="a" * 32):
    fields = {"service": service, "phone": phone, "rid": rid, **({"sms": "1"} if sms else {})}
    return form(server, "/booking/number", fields)


def tokens(reply):
    assert reply.status == 303, reply.text
    path, _, fragment = reply.location.partition("#")
    assert path.startswith("/t/") and fragment.startswith("v=")
    return path[3:], fragment[2:]


def stream(server, topics):
    host, port = server.options.http_listen
    return LiveStream(host, port, topics=topics)


def test_a_number_taken_on_the_page_opens_its_own_ticket_page(server):
    public, vote = tokens(take(server))
    assert len(public) >= 22 and len(vote) >= 22 and public != vote
    page = call(server, "GET", f"/t/{public}")
    assert page.status == 200 and ">1001<" in page.text and "Bạn chưa xác nhận có mặt" in page.text
    assert '<svg class="qr"' in page.text and vote not in page.text  # the vote token stays in the phone's fragment
    assert "<script>" not in page.text and page.headers["Cache-Control"] == "no-store"
    view = api(server, "GET", f"/api/ticket/{public}").json["ticket"]
    assert view["number"] == "1001" and view["phase"] == "absent" and view["remote"] and "public_token" not in view
    database = tables.open_db(server.db_path)
    try:
        assert database.execute("SELECT ticket_id, phone FROM ticket_contacts").fetchall() == [("2026-11-23/1001", "0912345678")]
    finally:
        database.close()
    assert tokens(take(server)) == (public, vote)  # the same form sent again: the same number, not a second one
    again = take(server, rid="b" * 32)
    assert again.status == 409 and "Mỗi số điện thoại chỉ được lấy 1 số thứ tự từ xa trong một ngày." in again.text


def test_an_unknown_ticket_is_a_clear_404(server):
    assert call(server, "GET", "/t/AAAAAAAAAAAAAAAAAAAAAA").status == 404
    assert api(server, "GET", "/api/ticket/AAAAAAAAAAAAAAAAAAAAAA").json["error"]["code"] == "unknown_ticket"


def test_the_phone_follows_only_its_own_ticket_live_from_check_in_to_the_call(server):
    public, _ = tokens(take(server))
    other, _ = tokens(take(server, phone="0987654321", rid="c" * 32))
    api(server, "GET", f"/api/ticket/{other}")  # someone else follows their own ticket too
    assert call(server, "GET", f"/t/{public}").status == 200  # the page follows its ticket when it loads
    mine = stream(server, f"ticket/{public}")
    everything = stream(server, "*")
    prefix = stream(server, "ticket/*")
    try:
        first = mine.until(lambda e: e.event == "snapshot")
        assert list(first.data["topics"]) == [f"ticket/{public}"] and first.data["topics"][f"ticket/{public}"]["arrived"] is False
        for s in (everything, prefix):
            snapshot = s.until(lambda e: e.event == "snapshot").data["topics"]
            assert not [t for t in snapshot if t.startswith("ticket/")]
        polled = api(server, "GET", "/api/live/snapshot?topics=*").json["topics"]
        assert not [t for t in polled if t.startswith("ticket/")]
        assert list(api(server, "GET", f"/api/live/snapshot?topics=ticket/{public}").json["topics"]) == [f"ticket/{public}"]
        with DeviceClient(server.broker_url, server.config.id, "kiosk-01") as kiosk, \
                DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
            assert kiosk.request("ticket.arrive", public_token=public)["ok"]  # the kiosk scanned the phone's code
            arrived = mine.until(lambda e: e.event == "change" and e.data["payload"]["arrived"])
            assert arrived.data["topic"] == f"ticket/{public}" and arrived.data["payload"]["ahead"] == 0
            counter.request("counter.sign_in", staff="nv01")
            assert counter.request("counter.next")["ticket"]["number"] == "1001"
        call_change = mine.until(lambda e: e.event == "change" and e.data["payload"]["status"] == "called")
        assert call_change.data["payload"]["counter_name"] == "Quầy 1" and call_change.data["payload"]["counter_phrase"] == "quầy số 1"
        seen = everything.until(lambda e: e.event == "change" and e.data["topic"] == "event/call")
        assert seen.data["payload"]["number"] == "1001"
    finally:
        for s in (mine, everything, prefix):
            s.close()


def test_after_service_the_holder_votes_once_with_the_token_from_the_link(server):
    public, vote = tokens(take(server, sms=False))
    early = api(server, "POST", f"/api/ticket/{public}/vote", {"token": vote, "level": "very_satisfied"})
    assert early.status == 409 and early.json["error"]["code"] == "vote_not_allowed"
    with DeviceClient(server.broker_url, server.config.id, "quay-01") as counter:
        counter.request("counter.sign_in", staff="nv01")
        counter.request("counter.call", number="1001")  # called directly: the official saw the holder
        counter.request("counter.finish")
    assert api(server, "POST", f"/api/ticket/{public}/vote", {"token": vote, "level": "satisfied"}).json == {"ok": True}
    again = api(server, "POST", f"/api/ticket/{public}/vote", {"token": vote, "level": "satisfied"})
    assert again.status == 409 and again.json["error"]["code"] == "already_voted"
    assert api(server, "GET", f"/api/ticket/{public}").json["ticket"]["voted"] is True
    assert api(server, "POST", f"/api/ticket/{public}/vote", {"level": "satisfied"}).status == 400
    [voted] = [e for e in server.store.events_after(0) if e.type == "VoteSubmitted"]
    assert voted.device == "web-phone" and voted.data["level"] == "satisfied" and voted.data["staff"] == "nv01"


def test_at_the_days_end_the_ticket_leaves_the_stream(server, clock):
    public, _ = tokens(take(server, sms=False))
    call(server, "GET", f"/t/{public}")
    mine = stream(server, f"ticket/{public}")
    try:
        assert mine.until(lambda e: e.event == "snapshot").data["topics"]
        clock.advance(timedelta(days=1).total_seconds())
        server.inbox.put(Republish())  # the worker ticks (as every 15 s): the business day rolls over
        gone = mine.until(lambda e: e.event == "change" and e.data["topic"] == f"ticket/{public}", timeout=20)
        assert gone.data["payload"] is None
    finally:
        mine.close()
    assert call(server, "GET", f"/t/{public}").status == 404
    assert json.loads(call(server, "GET", f"/api/live/snapshot?topics=ticket/{public}").text)["topics"] == {}
