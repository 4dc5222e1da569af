"""What the TV pages get besides the queue (issue 18): the rotation, the ready dossiers, this month's counts,
the files of <data>/tv/, and the pages' own HTTP. Real SQLite files, a running server, real HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from queue_server.dossiers import db as dossier_db
from queue_server.procedures import db as pdb
from queue_server.reports.visits import ReportDB
from queue_server.web.tv_content import (
    figures_document,
    legal_title,
    media_files,
    read_notice_file,
    results_document,
    rotation_document,
)
from tests import tv_scene as scene

MID_MONTH = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def get(server, path: str) -> tuple[int, dict[str, str], bytes]:
    host, port = server.options.http_listen
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def live_topics(server, wanted: str = "tv/*", timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = get(server, f"/api/live/snapshot?topics={wanted}")
        topics = json.loads(body)["topics"]
        if status == 200 and {"tv/rotation", "tv/results", "tv/figures"} <= set(topics):
            return topics
        if time.monotonic() > deadline:
            raise TimeoutError(f"the TV feed published {sorted(topics)}")
        time.sleep(0.1)


# --- the documents ---------------------------------------------------------------------------------------


def test_the_rotation_resolves_procedures_and_files_and_lists_what_it_cannot_show(config, tmp_path):
    config = scene.with_tv(config, slide_seconds=12, max_video_seconds=60, slides=[
        {"kind": "notice", "text": "Nghỉ lễ ngày 02/9."},
        {"kind": "procedure", "codes": ["MAU-HT-001", "KHONG-CO"], "seconds": 25},
        {"kind": "media"},
        {"kind": "media", "file": "khong-co.png"},
        {"kind": "hours"},
        {"kind": "figures"},
    ])
    db_path = scene.data_store(tmp_path, config)
    scene.seed_catalogue(db_path)
    folder = tmp_path / "tv"
    folder.mkdir()
    scene.write_image(folder / "b-anh.png")
    (folder / "a-thong-bao.txt").write_text("\ufeffNghỉ Tết\n\nBộ phận Một cửa nghỉ từ 14/02 đến 22/02.\n", encoding="utf-8")
    (folder / "c-video.webm").write_bytes(b"\x1aE\xdf\xa3 not a real video: the page skips what it cannot play")
    (folder / "d-latin1.txt").write_bytes("Thông báo".encode("utf-16"))  # not UTF-8: left out, named
    (folder / ".an.png").write_bytes(b"hidden")
    (folder / "e-bang.xlsx").write_bytes(b"not a kind a TV shows")
    (folder / "f-thu-muc.png").mkdir()
    db = pdb.open_db(db_path)
    document = rotation_document(config, folder, db, "v1")
    db.close()
    slides = document["slides"]
    assert [s["kind"] for s in slides] == ["notice", "procedure", "notice", "image", "video", "hours", "figures"]
    assert slides[0] == {"kind": "notice", "title": "", "text": "Nghỉ lễ ngày 02/9.", "seconds": 12}
    procedure = slides[1]
    assert procedure["name"] == "Đăng ký khai sinh" and procedure["field"] == "Tư pháp - Hộ tịch" and procedure["seconds"] == 25
    assert procedure["level"] == "Dịch vụ công trực tuyến toàn trình"
    assert procedure["legal_basis"][:3] == ["Luật Hộ tịch số 60/2014/QH13", "Nghị định số 123/2015/NĐ-CP", "Thông tư số 04/2020/TT-BTP"]
    assert slides[2] == {"kind": "notice", "title": "Nghỉ Tết", "text": "Bộ phận Một cửa nghỉ từ 14/02 đến 22/02.", "seconds": 12}
    assert slides[3]["url"].startswith("/tv/media/b-anh.png?v=") and slides[4]["seconds"] == 60
    assert "Thứ Hai đến Thứ Sáu" in slides[5]["text"]
    assert document["problems"] == [
        {"slide": "1", "problem": "unknown_procedure", "detail": "KHONG-CO"},
        {"slide": "2", "problem": "unreadable_file", "detail": "d-latin1.txt"},
        {"slide": "3", "problem": "missing_file", "detail": "khong-co.png"},
    ]
    assert document["settings"]["call_seconds"] == config.tv.call_seconds and document["version"] == "v1"
    assert [f.name for f in media_files(folder)] == ["a-thong-bao.txt", "b-anh.png", "c-video.webm", "d-latin1.txt"]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Nghị định số 123/2015/NĐ-CP quy định chi tiết một số điều và biện pháp thi hành Luật Hộ tịch", "Nghị định số 123/2015/NĐ-CP"),
        ("Luật Hộ tịch số 60/2014/QH13", "Luật Hộ tịch số 60/2014/QH13"),
        ("Thông tư số 04/2020/TT-BTP, quy định chi tiết", "Thông tư số 04/2020/TT-BTP"),
        ("Nghị quyết của Hội đồng nhân dân tỉnh về lệ phí hộ tịch", "Nghị quyết của Hội đồng nhân dân tỉnh về lệ phí hộ tịch"),
    ],
)
def test_a_legal_basis_is_shortened_to_its_document_number(text, title):
    assert legal_title(text) == title


def test_a_notice_file_too_long_or_not_text_is_left_out(tmp_path):
    (tmp_path / "long.txt").write_text("x" * 5000, encoding="utf-8")
    (tmp_path / "one.txt").write_text("Một dòng thôi\n", encoding="utf-8")
    assert read_notice_file(tmp_path / "long.txt") is None
    assert read_notice_file(tmp_path / "one.txt") == {"title": "", "text": "Một dòng thôi"}
    assert read_notice_file(tmp_path / "missing.txt") is None


def test_ready_dossiers_are_grouped_by_field_masked_and_the_months_counts_come_from_the_reports(config, tmp_path):
    db_path = scene.data_store(tmp_path, config)
    expected = scene.seed_dossiers(db_path, config, MID_MONTH, ready=14)
    db = dossier_db.connect(db_path)
    results = results_document(db, config)
    db.close()
    assert results["total"] == 14
    assert [g["service"] for g in results["groups"]] == ["HT", "DD", "XD", "KD", "LD", "CT"]  # the office's order
    first = results["groups"][0]
    assert first["name"] == "Tư pháp - Hộ tịch" and len(first["dossiers"]) == 3
    assert first["dossiers"][0] == {"code": "…-0001", "applicant": "Nguyễn V. A.", "procedure_name": "Đăng ký khai sinh", "counter": "Quầy 1"}
    text = json.dumps(results, ensure_ascii=False)
    assert "Nguyễn Văn An" not in text and "0912345678" not in text and "H56" not in text
    reports = ReportDB(db_path, config)
    reports.refresh_dossiers()
    figures = figures_document(reports.db, config, MID_MONTH)
    reports.close()
    assert figures["available"] and (figures["month"], figures["year"], figures["from"]) == (11, 2026, "2026-11-01")
    assert {k: figures[k] for k in ("received", "settled_on_time", "settled_late", "overdue", "needs_documents")} == \
        {k: expected[k] for k in ("received", "settled_on_time", "settled_late", "overdue", "needs_documents")}
    assert figures["on_time_share"] == pytest.approx(expected["settled_on_time"] / (expected["settled_on_time"] + 2))


def test_an_office_without_dossiers_shows_no_counts(config, tmp_path):
    db_path = scene.data_store(tmp_path, config)
    reports = ReportDB(db_path, config)
    dossier_db.connect(db_path).close()  # the tables exist, as on every server, but no source sent anything
    reports.refresh_dossiers()
    assert figures_document(reports.db, config, MID_MONTH)["available"] is False
    reports.close()


# --- through a running server ------------------------------------------------------------------------------


def test_the_feed_pushes_the_tv_documents_and_follows_a_new_file(start_server, config):
    server = start_server(cfg=scene.with_tv(config, slides=[{"kind": "hours"}, {"kind": "media"}]))
    topics = live_topics(server)
    assert [s["kind"] for s in topics["tv/rotation"]["slides"]] == ["hours"]  # no file in <data>/tv/ yet
    assert topics["tv/results"] == {"total": 0, "limit": 100, "groups": []}
    assert topics["tv/figures"]["available"] is False
    folder = Path(server.db_path).parent / "tv"
    folder.mkdir()
    scene.write_image(folder / "anh.png")
    deadline = time.monotonic() + 15
    while [s["kind"] for s in live_topics(server)["tv/rotation"]["slides"]] != ["hours", "image"]:
        assert time.monotonic() < deadline, "the new picture never reached the rotation"
        time.sleep(0.2)
    status, headers, body = get(server, live_topics(server)["tv/rotation"]["slides"][1]["url"])
    assert status == 200 and body == (folder / "anh.png").read_bytes()
    assert headers["content-type"] == "image/png" and headers["x-content-type-options"] == "nosniff"


def test_the_pages_answer_and_media_outside_the_folder_is_refused(start_server):
    server = start_server()
    (Path(server.db_path).parent / "tv").mkdir()
    status, _, body = get(server, "/tv/calls?counters=Q1,Q2,%3Cscript%3E&layout=portrait")
    page = body.decode()
    assert status == 200 and "Đang phục vụ" in page and '"counters": ["Q1", "Q2"]' in page and "<script>alert" not in page
    assert '"layout": "portrait"' in page
    status, _, body = get(server, "/tv/results?lang=en&fields=HT")
    assert status == 200 and "Results ready" in body.decode()
    assert get(server, "/tv")[0] == 200  # redirected to the calls page
    assert get(server, "/tv/results?page_seconds=1")[0] == 400
    for path in ("/tv/media/..%2Fmotcua.db", "/tv/media/motcua.db", "/tv/media/.hidden.png", "/tv/media/khong-co.png"):
        assert get(server, path)[0] == 404, path
