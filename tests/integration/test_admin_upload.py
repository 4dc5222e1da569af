"""Catalogue uploads on the admin page over real HTTP: a catalogue larger than the app's default body
limit, a ZIP with its form files, and files that are not catalogues."""

from __future__ import annotations

import io
import json
import tempfile
import uuid
import zipfile
from pathlib import Path

import pytest

from tests.staff_support import WebSession, add_staff


@pytest.fixture
def web(start_server) -> WebSession:
    server = start_server()
    add_staff(server, "quantri", "administrator")
    session = WebSession(server)
    session.login("quantri")
    return session


def upload(web: WebSession, name: str, content: bytes, **fields: str):
    boundary = uuid.uuid4().hex
    parts = [("csrf_token", web.csrf("/admin/procedures")), ("retire_missing", "on"), *fields.items()]
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in parts)
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return web.request("POST", "/admin/procedures/import", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_a_catalogue_larger_than_the_default_body_limit_is_imported(web):
    rows = "".join(f"XA-{i:04d},Thủ tục số {i} về đăng ký hộ tịch,Hộ tịch,HT\n" for i in range(4000))
    content = ("code,name,field,service\n" + rows).encode("utf-8")
    assert len(content) > 64 * 1024  # the app's default limit for a request body
    page = upload(web, "danh-muc-lon.csv", content)
    assert page.status == 200, page.text[:500]
    assert "4000 thủ tục; thêm mới 4000" in page.text


def test_a_zip_brings_its_form_files(web):
    catalogue = {"source": "xa-zip", "procedures": [{"code": "XZ-1", "name": "Đăng ký khai sinh", "field": "Hộ tịch",
                                                     "forms": [{"name": "Tờ khai", "file": "forms/to-khai.html"}]}]}
    escape = f"outside-{uuid.uuid4().hex}.html"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("danh-muc.json", json.dumps(catalogue, ensure_ascii=False))
        zf.writestr("forms/to-khai.html", "<p>Tờ khai đăng ký khai sinh</p>")
        zf.writestr(f"../../{escape}", "never written")  # from <tmp>/motcua-import-*/zip/ to <tmp>/
    page = upload(web, "danh-muc.zip", buffer.getvalue())
    assert page.status == 200 and "thêm mới 1" in page.text and "bị từ chối 0" in page.text
    form = web.get("/procedures/forms/XZ-1/to-khai.html")
    assert form.status == 200 and "Tờ khai đăng ký khai sinh" in form.text
    assert not (Path(tempfile.gettempdir()) / escape).exists()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("anh.png", b"\x89PNG", "Chỉ nhận tệp .csv, .tsv, .json hoặc .zip."),
        ("hong.zip", b"PK not a zip", "Tệp ZIP bị hỏng"),
        ("danh-muc.json", b"{not json", "JSON không hợp lệ"),
    ],
)
def test_a_file_that_is_not_a_catalogue_is_refused_beside_the_file_field(web, name, content, words):
    page = upload(web, name, content)
    assert page.status == 400 and words in page.text and "motcua-import-" not in page.text  # no temporary path shown
