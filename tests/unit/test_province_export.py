"""What may leave an office, the [province] and hub configuration, and what the hub accepts from the cluster."""

from __future__ import annotations

import json

import pytest

from queue_server.config import ConfigError, _province
from queue_server.province.board import build_board
from queue_server.province.export import province_event, scrub
from queue_server.province.hub import ChunkError, parse_chunk
from queue_server.province.hubconfig import HubConfigError, parse
from queue_server.province.topics import ProvinceTopics
from queue_server.store import StoredEvent


def test_a_ticket_event_leaves_without_its_tokens_or_request_id():
    event = StoredEvent(7, "e7", "xa-a", "TicketIssued", "2026-11-23T08:00:00+07:00", "2026-11-23", "kiosk-01", "r1",
                        {"ticket_id": "2026-11-23/1001", "number": "1001", "vote_token": "V", "public_token": "P",
                         "device": "kiosk-01"})
    out = province_event(event)
    assert out["data"] == {"ticket_id": "2026-11-23/1001", "number": "1001", "device": "kiosk-01"}
    assert "request_id" not in out and out["seq"] == 7


def test_private_keys_are_removed_at_any_depth():
    data = {"a": {"phone": "0912", "id_last4": "1234", "ok": 1}, "list": [{"cccd": "0010"}, {"x": "y"}], "reset_token": "t"}
    assert scrub(data) == {"a": {"ok": 1}, "list": [{}, {"x": "y"}]}


def test_the_province_link_refuses_a_password_in_the_office_file():
    with pytest.raises(ConfigError, match="credential"):
        _province({"brokers": ["mqtt://office:secret@nats-1:1883"]})
    with pytest.raises(ConfigError, match=r"province\.hub_urll"):
        _province({"hub_urll": "http://hub"})
    assert _province({"brokers": ["mqtt://n1:1883"], "hub_url": "http://hub:8090/"}).hub_url == "http://hub:8090"


def test_the_hub_configuration_refuses_a_database_password():
    with pytest.raises(HubConfigError, match="pgpass"):
        parse({"hub": {"database": "postgresql://u:pw@h/db", "brokers": ["mqtt://n1:1883"]}})
    with pytest.raises(HubConfigError, match=r"targets\.wait"):
        parse({"hub": {"database": "postgresql://u@h/db", "brokers": ["mqtt://n1:1883"]}, "targets": {"wait": 5}})


def _events(office: str, *seqs: int) -> bytes:
    return json.dumps({"events": [{"seq": s, "id": f"e{s}", "office": office, "type": "TicketIssued",
                                   "at": "2026-11-23T08:00:00+07:00", "business_day": "2026-11-23",
                                   "data": {"ticket_id": "t", "vote_token": "V"}} for s in seqs]}).encode()


def test_the_hub_takes_an_offices_events_only_under_its_own_topic():
    chunk = parse_chunk("events", "xa-a", _events("xa-a", 1, 2))
    assert [e["seq"] for e in chunk.events] == [1, 2] and "vote_token" not in chunk.events[0]["data"]
    with pytest.raises(ChunkError, match="only its own"):
        parse_chunk("events", "xa-a", _events("xa-b", 1))
    for bad in (b"[1]", b"{", b'{"events": []}', _events("xa-a", 0), b"x" * (2 * 1024 * 1024)):
        with pytest.raises(ChunkError):
            parse_chunk("events", "xa-a", bad)


def test_topics_parse_back_and_map_to_nats_subjects():
    t = ProvinceTopics("motcua-province")
    assert t.parse(t.events("xa-a")) == ("events", "xa-a")
    assert t.parse("motcua-province/events/xa-a/extra") is None and t.parse("other/events/xa-a") is None
    assert t.subject(t.all("ack")) == "motcua-province.ack.*"


def test_the_board_ranks_offices_meeting_both_targets_first():
    from datetime import UTC, datetime

    config = parse({"hub": {"database": "postgresql://u@h/db", "brokers": ["mqtt://n1:1883"]}})
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)

    def row(office, waited, wait_minutes, within, votes, satisfied):
        return {"office": office, "name": office, "position": 10, "local_seq": 12, "last_seen": now, "online": True,
                "rejected": 0, "conflicts": 0, "issued": waited, "served": waited, "waited": waited,
                "wait_seconds": waited * wait_minutes * 60, "within_target": within, "votes": votes, "satisfied": satisfied,
                "dossiers_on_time": 0, "dossiers_late": 0}

    board = build_board([row("slow", 10, 30, 2, 10, 10), row("good", 10, 10, 9, 20, 20), row("none", 0, 0, 0, 0, 0)], config, now)
    assert [o["office"] for o in board["offices"]] == ["good", "slow", "none"]
    good = board["offices"][0]
    assert good["targets_met"] == 2 and good["mean_wait_minutes"] == 10.0 and good["backlog"] == 2 and good["reachable"]


def test_the_commented_province_block_of_the_example_office_is_valid_once_uncommented():
    import re
    import tomllib

    from tests.conftest import EXAMPLE_CONFIG

    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    block = text[text.index("# [province]"):text.index("# Limits on the public dossier lookup")]
    lines = [re.sub(r"^# ?", "", line) for line in block.splitlines() if re.match(r"# ?(\[province\]|[a-z_]+ = )", line)]
    link = _province(tomllib.loads("\n".join(lines))["province"])
    assert len(link.brokers) == 3 and link.hub_url == "http://hub.tinh.example:8090" and link.lookup_timeout_seconds == 3


def test_the_dossier_change_log_survives_a_rebuilt_dossiers_table(tmp_path, config):
    from datetime import UTC, datetime

    from queue_server.dossiers import db as dossier_db
    from queue_server.dossiers.sync import apply_updates
    from queue_server.province.outbox import OfficeLog, ensure_migrated
    from queue_server.store import Store

    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    item = {"code": "HS-2026-000123", "updated_at": "2026-11-23T09:00:00+07:00", "status": "processing",
            "status_at": "2026-11-23T09:00:00+07:00", "received_at": "2026-11-22T08:00:00+07:00",
            "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh"},
            "applicant": {"name": "Trần Thị Bình", "phone": "0987654321"}}
    Store.in_dir(tmp_path, config.id).close()
    path = tmp_path / "motcua.db"
    db = dossier_db.connect(path)
    assert ensure_migrated(path)
    assert apply_updates(db, [item], "src", now, config.tz).accepted == 1
    log = OfficeLog(path, config)
    first = log.dossiers_after(0, 10)
    assert [d["code"] for d in first] == ["HS-2026-000123"] and first[0]["applicant"] == "Trần T. B."
    assert "phone" not in first[0] and "0987654321" not in str(first[0])
    # A later migration rebuilds the table (sqlite-utils transform drops its triggers): the log is put back.
    db.table("dossiers").transform(types={"late": int})
    assert not db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()  # the rebuild dropped them
    later = {**item, "updated_at": "2026-11-23T10:00:00+07:00", "status": "result_ready", "status_at": "2026-11-23T10:00:00+07:00"}
    assert apply_updates(db, [later], "src", now, config.tz).accepted == 1
    assert ensure_migrated(path)
    again = log.dossiers_after(first[0]["change"], 10)
    assert [(d["code"], d["status"]) for d in again] == [("HS-2026-000123", "result_ready")]
    log.close()
    db.close()
