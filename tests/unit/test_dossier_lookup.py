"""The answers themselves: which fields each audience gets, status wording, lateness."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from queue_server.dossiers import db as store
from queue_server.dossiers.lookup import LookupRefused, full_view, lookup, public_view
from queue_server.dossiers.model import Dossier, Due
from queue_server.dossiers.sync import apply_updates
from queue_server.store import Store

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
PUBLIC_FIELDS = {
    "code", "procedure", "received_at", "received_text", "due_at", "due_text", "status", "status_text", "status_text_en",
    "result_ready", "return_counter", "late", "timeliness_text", "timeliness_text_en", "applicant", "verified",
}


def make(**changes) -> Dossier:
    base = dict(
        code="HS-2026-000001", source="tinh", updated_at=NOW, status="processing", status_at=NOW, procedure_code="1.1",
        procedure_name="Đăng ký khai sinh", received_at=NOW, due=Due("2026-11-23"), applicant_name="Phạm Minh Châu",
        id_last4="1234", phone_last4="5678", return_counter=None, return_service=None, missing_documents=["Tờ khai"],
        rejection_reason=None, late=None, finished_at=None,
    )
    return Dossier(**{**base, **changes})


def test_public_view_has_exactly_the_public_fields(config):
    view = public_view(make(), config, NOW)
    assert set(view) == PUBLIC_FIELDS  # a new field must be added here on purpose, after a privacy review
    assert view["applicant"] == "Phạm M. C."


def test_full_view_adds_the_private_fields_but_never_the_digits(config):
    view = full_view(make(), config, NOW)
    assert set(view) - PUBLIC_FIELDS == {"applicant_name", "missing_documents", "rejection_reason", "history"}
    assert "1234" not in str(view) and "5678" not in str(view)


@pytest.mark.parametrize(("changes", "late"), [
    ({}, False),                                                                   # due today, still today
    ({"due": Due("2026-11-22")}, True),                                            # due yesterday, still open
    ({"due": Due("2026-11-22"), "finished_at": datetime(2026, 11, 22, 16, 59, tzinfo=UTC)}, False),  # 23:59 local on the day
    ({"due": Due("2026-11-22"), "finished_at": datetime(2026, 11, 22, 17, 0, tzinfo=UTC)}, True),    # 00:00 the next day
    ({"due": Due("2026-11-23T02:00:00+00:00")}, True),                             # an exact time: 09:00 local has passed
    ({"due": None}, None),
    ({"due": Due("2026-11-22"), "late": False}, False),                            # the source knows about extensions
])
def test_lateness(config, changes, late):
    assert make(**changes).is_late(NOW, config.tz) is late


def test_ready_status_names_the_counter_or_the_source_text_or_the_section(config):
    assert public_view(make(status="result_ready", return_counter="Q6"), config, NOW)["status_text"] == \
        "Đã có kết quả - mời nhận tại Quầy 6 - Ưu tiên"
    assert public_view(make(status="result_ready", return_counter="Quầy trả kết quả số 3"), config, NOW)["status_text"] == \
        "Đã có kết quả - mời nhận tại Quầy trả kết quả số 3"
    assert public_view(make(status="result_ready"), config, NOW)["status_text"] == "Đã có kết quả - mời nhận tại Bộ phận Một cửa"


def test_a_dossier_without_digits_cannot_be_verified(tmp_path, config):
    Store.in_dir(tmp_path, config.id).close()
    db = store.connect(tmp_path / "motcua.db")
    apply_updates(db, [{"code": "HS-1", "updated_at": "2026-11-22T08:00:00", "status": "received", "procedure_name": "X",
                        "received_at": "2026-11-22T08:00:00"}], "tinh", NOW, config.tz)
    with pytest.raises(LookupRefused) as refused:
        lookup(db, config, "HS-1", NOW, verify="0000")
    assert refused.value.code == "verify_unavailable" and refused.value.status == 403
    assert lookup(db, config, "hs-1", NOW)["dossier"]["code"] == "HS-1"
    db.close()


def test_wrong_digits_are_capped_per_day_so_patience_does_not_guess_them(tmp_path, config):
    from datetime import timedelta

    Store.in_dir(tmp_path, config.id).close()
    db = store.connect(tmp_path / "motcua.db")
    apply_updates(db, [{"code": "HS-2", "updated_at": "2026-11-22T08:00:00", "status": "received", "procedure_name": "X",
                        "received_at": "2026-11-22T08:00:00", "applicant_id_number": "079123456789"}], "tinh", NOW, config.tz)
    codes = []
    now = NOW
    for _ in range(4):  # 4 windows of 15 minutes, 3 wrong tries each: under the window limit of 5
        for _ in range(3):
            with pytest.raises(LookupRefused) as wrong:
                lookup(db, config, "HS-2", now, verify="0000")
            codes.append(wrong.value.code)
        now += timedelta(minutes=16)
    assert codes[:10] == ["verify_failed"] * 10
    assert codes[10:] == ["verify_locked"] * 2  # the 11th and 12th wrong tries of the day
    with pytest.raises(LookupRefused) as locked:
        lookup(db, config, "HS-2", now, verify="6789")  # even the right digits, until a day has passed
    assert locked.value.code == "verify_locked" and "đến quầy" in locked.value.message
    later = lookup(db, config, "HS-2", now + timedelta(days=1), verify="6789")
    assert later["dossier"]["verified"] is True
    db.close()


def test_an_open_dossier_not_yet_late_is_within_the_deadline_not_on_time(config):
    open_view = public_view(make(due=Due("2026-11-25")), config, NOW)
    assert (open_view["timeliness_text"], open_view["late"]) == ("Trong hạn", False)
    done = public_view(make(due=Due("2026-11-25"), status="returned", finished_at=NOW), config, NOW)
    assert done["timeliness_text"] == "Đúng hạn"
