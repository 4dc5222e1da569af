"""The dossier HTTP API on a running server: push with tokens, public lookup, second factor, rate limits, TV list."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from queue_server.config import DossierLookup
from queue_server.dossiers import db as store
from queue_server.dossiers import sources
from tests.integration.dossier_http import CODE, FULL_NAME, ID_NUMBER, PHONE, call, dossier, lookup

PRIVATE = [FULL_NAME, "Văn An", ID_NUMBER, PHONE, "2345", "5678", "Bản sao giấy chứng sinh", "Lý do riêng tư"]


@pytest.fixture
def no_rate_limit(config):
    """The example office with the lookup rate limit off ([dossier_lookup] per_minute = 0)."""
    return config.with_overrides(dossier_lookup=DossierLookup(per_minute=0))


def new_token(server, name="mot-cua-tinh"):
    db = store.connect(server.db_path)
    try:
        return sources.add(db, name, server.clock.now())
    finally:
        db.close()


def revoke(server, name):
    db = store.connect(server.db_path)
    try:
        sources.revoke(db, name, server.clock.now())
    finally:
        db.close()


def assert_nothing_private(text):
    for secret in PRIVATE:
        assert secret not in text, f"{secret!r} leaked into a public answer"


def test_push_needs_a_valid_unrevoked_token(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    token = new_token(server)
    missing = call(server, "POST", "/api/dossiers/sync", dossier())
    assert missing.status == 401 and missing.json["error"]["code"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = call(server, "POST", "/api/dossiers/sync", dossier(), token=token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert wrong.status == 401 and wrong.json["error"]["code"] == "unknown_token"
    assert lookup(server, CODE).status == 404  # refused pushes stored nothing
    good = call(server, "POST", "/api/dossiers/sync", dossier(), token=token)
    assert good.status == 200 and good.json["accepted"] == 1 and good.json["source"] == "mot-cua-tinh"
    assert lookup(server, CODE).status == 200  # the reply came after the commit: another connection sees it
    revoke(server, "mot-cua-tinh")
    revoked = call(server, "POST", "/api/dossiers/sync", dossier(updated_at="2026-11-22T11:00:00+07:00", status="returned"), token=token)
    assert revoked.status == 401 and revoked.json["error"]["code"] == "revoked_token"
    assert lookup(server, CODE).json["dossier"]["status"] == "result_ready"


def test_only_a_hash_of_the_token_is_stored(start_server, clock):
    server = start_server(clock=clock)
    token = new_token(server)
    db = store.connect(server.db_path)
    dump = "\n".join(db.conn.iterdump())
    db.close()
    assert token not in dump
    assert sources.token_hash(token) in dump


def test_push_a_list_gets_counts_and_a_result_per_item(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    token = new_token(server)
    first = call(server, "POST", "/api/dossiers/sync", dossier(status="processing", updated_at="2026-11-21T09:00:00+07:00"), token=token)
    assert first.json["accepted"] == 1
    batch = [
        dossier(status="received", updated_at="2026-11-20T08:00:00+07:00"),  # older than stored
        dossier(status="processing", updated_at="2026-11-21T09:00:00+07:00"),  # the same update again
        {"code": "EAN 8934588013058"},
        dossier(code="HS-2026-000123", status="needs_documents"),
        dossier(status="result_ready", updated_at="2026-11-22T10:00:00+07:00"),
    ]
    reply = call(server, "POST", "/api/dossiers/sync", {"dossiers": batch}, token=token)
    assert reply.status == 200
    body = reply.json
    assert (body["accepted"], body["duplicate"], body["ignored_older"], body["rejected"]) == (2, 1, 1, 1)
    assert [i["result"] for i in body["items"]] == ["ignored_older", "duplicate", "rejected", "accepted", "accepted"]
    assert body["items"][2]["reason"]["code"] == "bad_code" and body["items"][2]["reason"]["detail"] == "invalid"
    assert lookup(server, CODE).json["dossier"]["status"] == "result_ready"
    bad_json = call(server, "POST", "/api/dossiers/sync", raw=b"{oops", token=token)
    assert bad_json.status == 400 and bad_json.json["error"]["code"] == "bad_request"


def test_public_lookup_shows_plain_vietnamese_and_nothing_personal(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    token = new_token(server)
    call(server, "POST", "/api/dossiers/sync", dossier(), token=token)
    reply = lookup(server, CODE)
    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    d = reply.json["dossier"]
    assert d["status_text"] == "Đã có kết quả - mời nhận tại Quầy 2"
    assert d["result_ready"] is True
    assert d["return_counter"] == {"id": "Q2", "name": "Quầy 2"}
    assert d["timeliness_text"] == "Đúng hạn"
    assert d["applicant"] == "Nguyễn V. A."
    assert d["procedure"]["name"] == "Đăng ký khai sinh"
    assert d["due_text"] == "17:00 24/11/2026"
    assert d["verified"] is False
    assert "history" not in d and "missing_documents" not in d
    assert_nothing_private(reply.text)
    wrapped = call(server, "GET", "/api/dossiers/lookup?code=" + "https%3A%2F%2Fdichvucong.example.gov.vn%2Ftra-cuu%3Fma%3D" + CODE.lower())
    assert wrapped.status == 200 and wrapped.json["dossier"]["code"] == CODE
    assert_nothing_private(wrapped.text)


@pytest.mark.parametrize(("status", "text"), [
    ("received", "Đã tiếp nhận"),
    ("processing", "Đang giải quyết"),
    ("needs_documents", "Cần bổ sung hồ sơ"),
    ("returned", "Đã trả kết quả"),
    ("rejected", "Từ chối giải quyết"),
])
def test_each_status_in_plain_vietnamese_and_lateness(start_server, clock, no_rate_limit, status, text):
    server = start_server(clock=clock, cfg=no_rate_limit)  # the fake clock says 2026-11-23 08:00 in Hà Nội
    token = new_token(server)
    call(server, "POST", "/api/dossiers/sync", dossier(status=status, due_at="2026-11-22"), token=token)
    d = lookup(server, CODE).json["dossier"]
    assert d["status_text"] == text
    assert d["result_ready"] is False
    # Decided (returned, rejected) on 2026-11-22 10:00, within the due day; still open on 23/11: late.
    assert d["timeliness_text"] == ("Đúng hạn" if status in ("returned", "rejected") else "Quá hạn")


def test_second_factor_shows_everything_and_locks_after_five_wrong_tries(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    token = new_token(server)
    call(server, "POST", "/api/dossiers/sync", dossier(status="processing", updated_at="2026-11-21T09:00:00+07:00"), token=token)
    call(server, "POST", "/api/dossiers/sync", dossier(), token=token)
    right = lookup(server, CODE, verify="2345")  # last 4 of the ID number
    assert right.status == 200
    d = right.json["dossier"]
    assert d["verified"] is True and d["applicant_name"] == FULL_NAME
    assert d["missing_documents"] == ["Bản sao giấy chứng sinh"]
    assert d["rejection_reason"] == "Lý do riêng tư của hồ sơ"
    assert [h["status"] for h in d["history"]] == ["processing", "result_ready"]
    assert ID_NUMBER not in right.text and PHONE not in right.text  # never, even to the applicant
    by_phone = call(server, "POST", f"/api/dossiers/{CODE}", {"verify": "5678"})
    assert by_phone.status == 200 and by_phone.json["dossier"]["verified"] is True

    malformed = lookup(server, CODE, verify="12a4")
    assert malformed.status == 400 and malformed.json["error"]["code"] == "bad_verify"
    for left in (4, 3, 2, 1, 0):
        wrong = call(server, "POST", "/api/dossiers/lookup", {"code": CODE, "verify": "0000"})
        assert wrong.status == 403 and wrong.json["error"]["attempts_left"] == left
        assert_nothing_private(wrong.text)
    locked = lookup(server, CODE, verify="2345")  # even the right digits: the lock must stop guessing
    assert locked.status == 429
    assert locked.json["error"]["code"] == "verify_locked"
    assert "Đã nhập sai quá nhiều lần" in locked.json["error"]["message"]
    assert int(locked.headers["Retry-After"]) == 15 * 60 + 1
    assert lookup(server, CODE).status == 200  # the public answer stays available
    clock.advance(15 * 60 + 1)
    assert lookup(server, CODE, verify="2345").status == 200


def test_rate_limit_refuses_after_the_burst_and_recovers_with_time(start_server, clock, config):
    limits = DossierLookup(per_minute=20, burst=6, not_found_cost=2)  # not the defaults: the configuration is used
    server = start_server(clock=clock, cfg=config.with_overrides(dossier_lookup=limits))
    call(server, "POST", "/api/dossiers/sync", dossier(), token=new_token(server))
    assert [lookup(server, CODE).status for _ in range(6)] == [200] * 6
    refused = lookup(server, CODE)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "3"
    assert refused.json["error"]["code"] == "rate_limited"
    assert "Vui lòng thử lại sau 3 giây" in refused.json["error"]["message"]
    clock.advance(3)
    assert lookup(server, CODE).status == 200
    clock.advance(60)  # full again
    misses = []
    for n in range(10):
        misses.append(lookup(server, f"HS-2026-{n:06d}").status)
    assert misses == [404] * 3 + [429] * 7  # a miss costs 2 lookups: guessing runs dry much sooner


def test_not_found_and_garbage_get_clear_answers_never_500(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    missing = lookup(server, "HS-2026-999999")
    assert missing.status == 404
    assert missing.json["error"] == {
        "code": "not_found",
        "message": "Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ hoặc hỏi cán bộ tại quầy.",
        "message_en": "Dossier not found. Please check the dossier code or ask the staff at the counter.",
    }
    garbage = [quote(text, safe="") for text in ("8934588013058", "000.17.22.H56-261120", "xin chào", "A1" * 5000, "\x1b[2J")]
    for query in [*garbage, "%00%FF%FE"]:  # the last: bytes that are not UTF-8
        reply = call(server, "GET", "/api/dossiers/lookup?code=" + query)
        assert reply.status == 400, (query, reply.text)
        assert reply.json["error"]["code"] == "bad_code" and reply.json["error"]["message"]
    binary = call(server, "POST", "/api/dossiers/lookup", raw=b"\xff\xfe\x00garbage")
    assert binary.status == 400
    huge = call(server, "POST", "/api/dossiers/lookup", {"code": "A1" * 5000})  # 10 KB body: refused unread
    assert huge.status == 413 and huge.json["error"]["code"] == "too_large"
    assert lookup(server, "HS-2026-999999").status == 404  # and the server goes on answering
    empty = call(server, "GET", "/api/dossiers/lookup")
    assert empty.status == 400 and empty.json["error"]["reason"] == "empty"


def test_results_tv_list_has_masked_codes_and_names_only(start_server, clock, no_rate_limit):
    server = start_server(clock=clock, cfg=no_rate_limit)
    token = new_token(server)
    call(server, "POST", "/api/dossiers/sync", [
        dossier(),
        dossier(code="HS-2026-000123", return_counter="Q4", applicant={"name": "Trần Thị Bình", "phone": "0987654321"},
                updated_at="2026-11-22T11:00:00+07:00", return_service="DD"),
        dossier(code="HS-2026-000124", status="processing"),
    ], token=token)
    reply = call(server, "GET", "/api/dossiers/ready")
    assert reply.status == 200
    rows = reply.json["dossiers"]
    assert rows == [
        {"code": "…0123", "applicant": "Trần T. B.", "procedure_name": "Đăng ký khai sinh", "counter": "Quầy 4",
         "service": "DD", "service_name": "Đất đai - Môi trường"},
        {"code": "…-0001", "applicant": "Nguyễn V. A.", "procedure_name": "Đăng ký khai sinh", "counter": "Quầy 2",
         "service": None, "service_name": None},
    ]
    assert_nothing_private(reply.text)
    assert "Trần Thị Bình" not in reply.text and CODE not in reply.text


def test_api_errors_are_json_and_a_chunked_push_cannot_exceed_the_limit(start_server, clock, no_rate_limit):
    import http.client
    import json as _json

    from queue_server.web.dossiers import MAX_PUSH_BYTES

    server = start_server(clock=clock, cfg=no_rate_limit)
    host, port = server.options.http_listen
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/api/no-such-thing")
    missing = conn.getresponse()
    assert missing.status == 404 and _json.loads(missing.read())["error"]["message"] == "Không tìm thấy địa chỉ này."
    conn.request("DELETE", "/api/dossiers/ready")
    wrong = conn.getresponse()
    assert wrong.status == 405 and _json.loads(wrong.read())["ok"] is False
    token = new_token(server)
    chunk = b"[" + b" " * (1024 * 1024)

    def chunks():
        for _ in range(MAX_PUSH_BYTES // len(chunk) + 2):
            yield chunk

    conn.request("POST", "/api/dossiers/sync", body=chunks(), encode_chunked=True,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    refused = conn.getresponse()
    # werkzeug stops reading at the limit: the truncated body is refused (413, or 400 as unreadable JSON).
    assert refused.status in (400, 413) and refused.read()
    conn.close()
    assert lookup(server, CODE).status == 404
    assert call(server, "POST", "/api/dossiers/sync", dossier(), token=token).status == 200
