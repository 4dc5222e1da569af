"""Today's number from a phone: joins the line at once, is called only after its holder checks in (kiosk scan
or counter), limited per phone number, and refused once the field's wait is longer than what is left of the day."""

from __future__ import annotations

import pytest

from queue_server.appointments.desk import PHONE_DEVICE
from queue_server.appointments.holders import Holder, HolderKey
from tests.appointments.support import MONDAY, office, utc

CONFIG = office(phone_queue={"per_phone_per_day": 1, "services": ["HT", "DD"]},
                office={**office().source["office"], "issue_outside_hours": True})


def test_a_number_from_a_phone_waits_in_line_but_is_called_only_once_its_holder_is_here(hall, clock):
    remote = hall.take("HT", "0912345678")
    ticket = remote["ticket"]
    assert remote["ok"] and ticket["remote"] and not ticket["arrived"] and ticket["public_token"] and ticket["vote_token"]
    walk_in = hall.ask("kiosk-01", "ticket.issue", service="HT")["ticket"]["number"]
    hall.ask("quay-01", "counter.sign_in", staff="nv01")
    assert hall.ask("quay-01", "counter.next")["ticket"]["number"] == walk_in  # the holder is not here yet
    arrived = hall.ask("kiosk-01", "ticket.arrive", public_token=ticket["public_token"])  # scanned at the kiosk
    assert arrived["ok"] and arrived["ticket"]["arrived"]
    assert hall.ask("quay-01", "counter.next")["ticket"]["number"] == ticket["number"]


def test_one_number_per_phone_a_day_even_within_one_batch_and_after_a_restart(hall, clock):
    assert hall.take("HT", "0912345678")["ok"]
    again = hall.take("DD", "0912 345 678")
    assert hall.error(again) == "phone_limit_reached" and again["error"]["params"] == {"limit": 1}
    holder = HolderKey.beside(hall.store.path).hash(Holder("phone", "0987654321"))
    first, second = hall.batch(*[(PHONE_DEVICE, "ticket.take_remote", {"service": "HT", "holder": holder})] * 2)
    assert first["ok"] and hall.error(second) == "phone_limit_reached"
    hall.restart()
    assert hall.error(hall.take("HT", "0987654321")) == "phone_limit_reached"  # counted from the database
    assert hall.take("HT", "0911111111")["ok"]


def test_no_number_once_the_fields_wait_is_longer_than_what_is_left_of_the_day(hall, clock):
    clock.advance((utc(MONDAY, 16, 20) - clock.now()).total_seconds())  # 40 minutes before closing
    for _ in range(6):
        hall.ask("kiosk-01", "ticket.issue", service="HT")
    # No counter open yet: the wait is estimated over Quầy 1 and Quầy 2 (12 minutes each): ceil(6 / 2) x 12 = 36 min
    assert hall.take("HT", "0912345678")["ok"]
    hall.ask("kiosk-01", "ticket.issue", service="HT")
    full = hall.take("HT", "0987654321")  # now 8 waiting: 48 minutes > 40
    assert hall.error(full) == "phone_queue_full" and full["error"]["params"]["minutes"] == 48
    assert "Tư pháp - Hộ tịch" in full["error"]["message"]


def test_fields_the_office_does_not_offer_to_phones_are_refused(hall):
    reply = hall.take("XD", "0912345678")
    assert hall.error(reply) == "phone_queue_closed" and reply["error"]["params"] == {"service_name": "Xây dựng"}
    assert hall.error(hall.take("ZZ", "0912345678")) == "unknown_service"


def test_only_the_servers_phone_pages_may_take_remote_numbers(hall):
    assert hall.error(hall.ask("kiosk-01", "ticket.take_remote", service="HT", holder="x" * 32)) == "not_authorized"
    assert hall.error(hall.ask("quay-01", "ticket.take_remote", service="HT", holder="x" * 32)) == "not_authorized"


def test_no_device_of_the_lan_may_be_declared_in_the_phone_role():
    from queue_server.config import ConfigError

    with pytest.raises(ConfigError, match=r"devices\[0\]\.role: 'phone' is not one of kiosk, counter, rating, display, voice, admin"):
        office(devices=[{"id": "dien-thoai", "role": "phone"}])
