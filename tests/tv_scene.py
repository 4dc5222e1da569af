"""A believable waiting room for the TV tests and screenshots: dossiers, the sample catalogue, media, [tv] slides.

Everything goes through the packages' own entry points (the dossier sync, the catalogue importer),
into the office database of a data directory, before or while a server runs on it.
"""

from __future__ import annotations

import base64
import copy
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from queue_server import config as office_config
from queue_server.config import OfficeConfig
from queue_server.dossiers import db as dossier_db
from queue_server.dossiers.sync import apply_updates
from queue_server.procedures import db as pdb
from queue_server.procedures.importer import import_file
from queue_server.store import Store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CATALOGUE = ROOT / "queue_server" / "procedures" / "sample" / "catalogue.json"
NAMES = [
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung", "Hoàng Minh Đức", "Vũ Thị Hạnh", "Đặng Quốc Huy",
    "Bùi Thị Lan", "Đỗ Văn Long", "Hồ Thị Mai", "Ngô Thanh Nam", "Dương Thị Oanh", "Lý Văn Phúc", "Phan Thị Quyên",
    "Trương Công Sơn", "Võ Thị Thu", "Đinh Xuân Trường", "Lương Thị Ánh", "Tạ Quang Vinh", "Mai Thị Yến",
]
PROCEDURES = {
    "HT": ["Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký khai tử", "Cấp bản sao trích lục hộ tịch"],
    "DD": ["Đăng ký biến động quyền sử dụng đất", "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu"],
    "XD": ["Cấp giấy phép xây dựng nhà ở riêng lẻ"],
    "KD": ["Đăng ký thành lập hộ kinh doanh", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh"],
    "LD": ["Trợ cấp xã hội hằng tháng cho người cao tuổi"],
    "CT": ["Chứng thực bản sao từ bản chính giấy tờ, văn bản"],
}
COUNTERS = {"HT": "Q1", "DD": "Q3", "XD": "Q4", "KD": "Q5", "LD": "Q5", "CT": "Q2"}
NOTICE_TEXT = ("Từ ngày 01/12/2026, Trung tâm tiếp nhận hồ sơ trực tuyến qua Cổng Dịch vụ công quốc gia. "
               "Vui lòng chuẩn bị thẻ căn cước khi đến làm thủ tục.")


def data_store(data_dir: Path, config: OfficeConfig) -> Path:
    """The office database of a data directory (created like the server creates it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.in_dir(data_dir, config.id)
    path = store.path
    store.close()
    return path


def dossier(code: str, status: str, received: datetime, due: datetime, finished: datetime | None, name: str, service: str,
            procedure: str, history_needs: bool = False) -> dict[str, Any]:
    return {
        "code": code, "status": status, "updated_at": (finished or received).isoformat(),
        "status_at": (finished or received).isoformat(),
        "procedure": {"code": "1.00" + code[-4:], "name": procedure}, "received_at": received.isoformat(),
        "due_at": due.isoformat(), "applicant": {"name": name, "phone": "0912345678"},
        "return_counter": COUNTERS[service], "return_service": service,
    }


def seed_dossiers(db_path: Path, config: OfficeConfig, now: datetime, ready: int = 36) -> dict[str, int]:
    """`ready` dossiers with results waiting, across the fields, and settled ones of this month; returns the counts.

    A ready result is a first decision, so it counts as settled (on time here); besides them 7 returned on
    time, 2 returned late, 1 still open past due, 3 asked for more documents (then processing again). All
    are received within `ready` + 48 hours before `now`: give a `now` a few days into a month.
    """
    db = dossier_db.connect(db_path)
    items = []
    day = now.strftime("%y%m%d")
    fields = [code for code in PROCEDURES if code in config.services]
    for i in range(ready):
        service = fields[i % len(fields)]
        received = now - timedelta(hours=30 + i)
        items.append(dossier(f"000.17.22.H56-{day}-{i + 1:04d}", "result_ready", received, now + timedelta(days=2),
                             now - timedelta(minutes=5 * i + 1), NAMES[i % len(NAMES)], service, PROCEDURES[service][i % len(PROCEDURES[service])]))
    n = ready
    for late in (False,) * 7 + (True,) * 2:
        n += 1
        received = now - timedelta(hours=40)
        due = now - timedelta(hours=30) if late else now + timedelta(days=1)
        items.append(dossier(f"000.17.22.H56-{day}-{n:04d}", "returned", received, due, now - timedelta(hours=2),
                             NAMES[n % len(NAMES)], "HT", "Đăng ký khai sinh"))
    n += 1
    items.append(dossier(f"000.17.22.H56-{day}-{n:04d}", "processing", now - timedelta(hours=48), now - timedelta(hours=3), None,
                         NAMES[n % len(NAMES)], "DD", "Đăng ký biến động quyền sử dụng đất"))
    tz = config.tz
    apply_updates(db, items, "tv-test", now, tz)
    # Three asked for more documents: a first version "needs_documents", then a newer one "processing".
    asked = []
    for k in range(3):
        n += 1
        code = f"000.17.22.H56-{day}-{n:04d}"
        first = dossier(code, "needs_documents", now - timedelta(hours=20), now + timedelta(days=3), None, NAMES[k], "XD",
                        "Cấp giấy phép xây dựng nhà ở riêng lẻ")
        asked.append(first)
    apply_updates(db, asked, "tv-test", now, tz)
    later = [{**item, "status": "processing", "updated_at": (now - timedelta(hours=1)).isoformat(),
              "status_at": (now - timedelta(hours=1)).isoformat()} for item in asked]
    apply_updates(db, later, "tv-test", now, tz)
    db.close()
    return {"ready": ready, "settled_on_time": ready + 7, "settled_late": 2, "overdue": 1, "needs_documents": 3,
            "received": ready + 9 + 1 + 3}


def seed_catalogue(db_path: Path) -> None:
    db = pdb.open_db(db_path)
    import_file(db, SAMPLE_CATALOGUE)
    db.close()


def write_image(path: Path, text: str = "Một Cửa", size: tuple[int, int] = (1280, 720)) -> Path:
    """A 16:9 picture with big Vietnamese text (Pillow and Debian's DejaVu, both here for the kiosk's tickets)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, (24, 90, 160))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", size[1] // 11)
    draw.rectangle([40, 40, size[0] - 40, size[1] - 40], outline=(255, 216, 77), width=12)
    box = draw.textbbox((0, 0), text, font=font)
    draw.text(((size[0] - box[2]) / 2, (size[1] - box[3]) / 2), text, font=font, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def record_video(browser: Any, path: Path, seconds: float = 3.0) -> Path:
    """A short WebM made by Chromium itself (canvas + MediaRecorder): no encoder needed on this machine."""
    browser.get("about:blank")
    browser.set_script_timeout(seconds + 20)
    data = browser.execute_async_script("""
        var done = arguments[arguments.length - 1], ms = arguments[0];
        var c = document.createElement('canvas'); c.width = 640; c.height = 360;
        var g = c.getContext('2d'), chunks = [], i = 0;
        var r = new MediaRecorder(c.captureStream(25), {mimeType: 'video/webm;codecs=vp8'});
        r.ondataavailable = function (e) { chunks.push(e.data); };
        r.onstop = function () { var f = new FileReader(); f.onload = function () { done(f.result.split(',')[1]); };
                                 f.readAsDataURL(new Blob(chunks, {type: 'video/webm'})); };
        var t = setInterval(function () { g.fillStyle = 'hsl(' + (i * 9 % 360) + ',70%,40%)'; g.fillRect(0, 0, 640, 360);
            g.fillStyle = '#fff'; g.font = 'bold 120px sans-serif'; g.fillText(String(i), 240, 220); i++; }, 40);
        r.start(100); setTimeout(function () { clearInterval(t); r.stop(); }, ms);
    """, int(seconds * 1000))
    path.write_bytes(base64.b64decode(data))
    return path


def with_tv(config: OfficeConfig, **tv: Any) -> OfficeConfig:
    """The configuration with a [tv] table, validated as the server validates the file."""
    document = copy.deepcopy(config.source)
    document["tv"] = tv
    return office_config.parse(document).with_overrides(**config.overrides)


def with_counters(config: OfficeConfig, count: int) -> OfficeConfig:
    """The configuration with `count` counters Quầy 1..N serving every field, and a counter device each."""
    document = copy.deepcopy(config.source)
    services = list(config.services)
    document["counters"] = [{"id": f"Q{i}", "name": f"Quầy {i}", "services": services} for i in range(1, count + 1)]
    document["devices"] = [d for d in document.get("devices", []) if d.get("role") not in ("counter", "rating")]
    return office_config.parse(document).with_overrides(**config.overrides)
