"""The forwarder against a real 3-node NATS cluster and a real PostgreSQL, the hub storing once."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest

from bench.province_support import wait_until
from queue_server.province.forwarder import ForwarderOptions
from tests.province.conftest import hub_rows

pytestmark = [pytest.mark.province, pytest.mark.slow]

OFFICE = "ubnd-huyen-demo"


def local_events(db) -> dict[int, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT seq, id FROM events"))


def test_the_hub_stores_every_event_of_the_office_once_with_its_daily_figures(office_db, start_hub, run_forwarder, database):
    db = office_db(3000)
    local = local_events(db)
    start_hub()
    run_forwarder(db)
    wait_until(lambda: hub_rows(database, OFFICE)[3] == len(local), 60, what="hub caught up")
    rows, ids, top, position = hub_rows(database, OFFICE)
    assert (rows, ids, top, position) == (len(local), len(local), max(local), max(local))
    with psycopg.connect(database) as conn:
        stored = dict(conn.execute("SELECT seq, id FROM events WHERE office = %s", [OFFICE]).fetchall())
        assert stored == local  # the same event under the same sequence number, not just as many
        issued_local = sum(1 for _ in sqlite3.connect(db).execute("SELECT 1 FROM events WHERE type = 'TicketIssued'"))
        wait_until(lambda: conn.execute("SELECT COALESCE(sum(issued), 0) FROM daily_stats WHERE office = %s",
                                        [OFFICE]).fetchone()[0] == issued_local, 30, what="aggregates")
        conn.commit()
        votes = conn.execute("SELECT sum(votes), sum(satisfied), sum(served) FROM daily_stats WHERE office = %s", [OFFICE]).fetchone()
        local_votes = sqlite3.connect(db).execute("SELECT count(*) FROM events WHERE type = 'VoteSubmitted'").fetchone()[0]
        assert votes[0] == local_votes and 0 < votes[1] <= votes[0] and votes[2] > 0
        officials = {r[0] for r in conn.execute("SELECT DISTINCT staff FROM daily_stats WHERE office = %s AND staff <> ''", [OFFICE])}
        assert officials == {f"nv-q{i}" for i in range(1, 6)}


def test_nothing_secret_reaches_the_hub(office_db, start_hub, run_forwarder, database):
    db = office_db(800)
    with sqlite3.connect(db) as conn:
        tokens = [t for row in conn.execute("SELECT vote_token, public_token FROM tickets") for t in row]
    start_hub()
    run_forwarder(db)
    wait_until(lambda: hub_rows(database, OFFICE)[3] >= 800, 60, what="hub caught up")
    with psycopg.connect(database) as conn:
        everything = " ".join(r[0] for r in conn.execute("SELECT data::text FROM events"))
    assert tokens and not any(t in everything for t in tokens)
    assert "vote_token" not in everything and "public_token" not in everything


def test_the_forwarder_starts_from_where_the_hub_stands(office_db, start_hub, run_forwarder, database):
    db = office_db(1500)
    start_hub()
    first = run_forwarder(db)
    wait_until(lambda: hub_rows(database, OFFICE)[3] == 1500 or hub_rows(database, OFFICE)[3] > 1500, 60, what="first pass")
    total = hub_rows(database, OFFICE)[3]
    assert first.stats.sent_events >= total
    # The hub loses its last 500 events (restored from an older backup): a new forwarder resends exactly those.
    with psycopg.connect(database) as conn:
        conn.execute("DELETE FROM events WHERE office = %s AND seq > %s", [OFFICE, total - 500])
        conn.execute("UPDATE offices SET position = %s, max_seq = %s WHERE office = %s", [total - 500, total - 500, OFFICE])
    second = run_forwarder(db)
    wait_until(lambda: second.stats.hub_seq == total, 60, what="second pass")
    assert second.stats.sent_events == 500
    assert hub_rows(database, OFFICE)[:3] == (total, total, total)


def test_duplicates_and_a_second_hub_change_nothing(office_db, start_hub, run_forwarder, database, cluster, province_credentials, topics):
    import paho.mqtt.client as mqtt

    from queue_server.province.outbox import OfficeLog

    db = office_db(1200)
    start_hub()
    start_hub(client_id="hub-second")  # two hub processes on one database, both receiving everything
    run_forwarder(db, options=ForwarderOptions(poll_seconds=0.1, chunk=100))
    wait_until(lambda: hub_rows(database, OFFICE)[3] >= 1200, 60, what="hub caught up")
    # Replay a chunk and an overlapping one by hand, as a bridge switching nodes would.
    reader = OfficeLog(db, None)
    events = reader.events_after(0, 300)
    reader.close()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="replayer")
    creds = province_credentials.office(OFFICE)
    client.username_pw_set(creds.username, creds.password)
    port = int(cluster.mqtt_urls[2].rsplit(":", 1)[1])
    client.connect("127.0.0.1", port)
    client.loop_start()
    for body in (events[:200], events[100:300], events[:200]):
        client.publish(topics.events(OFFICE), json.dumps({"office": OFFICE, "events": body}), qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    with psycopg.connect(database) as conn:
        wait_until(lambda: conn.execute("SELECT count(*) FROM dirty_days").fetchone()[0] == 0
                   and conn.commit() is None, 30, what="aggregates settled")
        issued = conn.execute("SELECT sum(issued) FROM daily_stats WHERE office = %s", [OFFICE]).fetchone()[0]
    local_issued = sqlite3.connect(db).execute("SELECT count(*) FROM events WHERE type = 'TicketIssued'").fetchone()[0]
    rows, ids, top, position = hub_rows(database, OFFICE)
    assert rows == ids == top == position
    assert issued == local_issued
