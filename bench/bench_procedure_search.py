"""Benchmark the kiosk procedure search over a 2,000-procedure catalogue.

Generates variations of the sample catalogue, imports them into a temporary office database,
runs a mix of kiosk queries (with and without diacritics, typos, shuffled words, partial words)
and prints p50/p95/p99 latency; writes bench/results/procedure_search.md.

Run: .venv/bin/python bench/bench_procedure_search.py [--procedures 2000] [--queries 1500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_server import config as office_config  # noqa: E402
from queue_server.procedures import db as pdb  # noqa: E402
from queue_server.procedures.folding import fold  # noqa: E402
from queue_server.procedures.importer import import_file  # noqa: E402
from queue_server.procedures.search import ProcedureSearch  # noqa: E402
from queue_server.store import Store  # noqa: E402

SAMPLE = ROOT / "queue_server" / "procedures" / "sample" / "catalogue.json"
RESULTS = ROOT / "bench" / "results" / "procedure_search.md"
CONFIG = ROOT / "firmware_config" / "office.example.toml"
SAMPLE_SIZE = len(json.loads(SAMPLE.read_text(encoding="utf-8"))["procedures"])

# Qualifiers that real catalogues attach to a base procedure (per case, per level, per subject).
QUALIFIERS = [
    "có yếu tố nước ngoài", "cho người Việt Nam định cư ở nước ngoài", "tại cấp xã", "tại cấp tỉnh", "thực hiện trực tuyến",
    "cho hộ gia đình, cá nhân", "lần thứ hai trở lên", "đối với trường hợp đặc biệt", "cho đồng bào dân tộc thiểu số",
    "trong khu kinh tế", "ở khu vực biên giới", "theo diện ưu tiên", "liên thông với đăng ký thường trú",
    "liên thông với cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", "đối với người đang hưởng lương hưu",
    "cho tổ chức kinh tế", "đối với tàu cá", "đối với công trình tín ngưỡng", "cho người khuyết tật nặng", "trong thời hạn 60 ngày",
]
EXTRA_DOCUMENTS = [
    "Sổ hộ khẩu hoặc giấy xác nhận thông tin về cư trú", "Giấy ủy quyền có chứng thực", "Bản đồ vị trí thửa đất",
    "Giấy chứng nhận đăng ký doanh nghiệp", "Quyết định của Tòa án", "Ảnh chân dung 4x6 cm", "Phiếu lý lịch tư pháp số 1",
    "Giấy khám sức khỏe", "Biên lai nộp thuế", "Hợp đồng thuê nhà",
]
FIXED_QUERIES = [
    "dang ky khai sinh", "khai sinh", "đăng ký kết hôn", "ket hon nuoc ngoai", "khai tu", "giấy xác nhận tình trạng hôn nhân",
    "chung thuc ban sao", "chứng thực chữ ký", "di chuc", "ho kinh doanh", "thanh lap ho kinh doanh", "giay phep xay dung",
    "xin giay phep xay nha", "so do", "cap lai so do bi mat", "tach thua", "chuyen muc dich su dung dat", "tro cap nguoi cao tuoi",
    "khuyet tat", "ho ngheo", "tro cap that nghiep", "thu tuc lam giay khai sinh cho con", "đất đai", "bảo trợ xã hội",
    "khai sihn", "dnag ky ket hon", "chung thucc", "giay phep xay dugn", "dangky kinhdoanh", "sinh khai", "hon ket",
]


def generate(count: int, seed: int = 7) -> dict:
    """`count` procedures made from the sample: qualifiers on the name, extra and reordered documents."""
    rng = random.Random(seed)
    base = json.loads(SAMPLE.read_text(encoding="utf-8"))
    originals = base["procedures"]
    procedures = []
    for i in range(count):
        p = json.loads(json.dumps(originals[i % len(originals)]))
        p["code"] = f"BENCH-{i:05d}"
        if i >= len(originals):
            p["name"] = f"{p['name']} {rng.choice(QUALIFIERS)}"
            if rng.random() < 0.3:
                p["name"] += f" {rng.choice(QUALIFIERS)}"
            p["documents"] = p["documents"] + [{"name": d} for d in rng.sample(EXTRA_DOCUMENTS, rng.randint(0, 3))]
            rng.shuffle(p["documents"])
        p.pop("forms", None)  # the files are not what is measured
        procedures.append(p)
    return {"source": "bench", "sample": True, "procedures": procedures}


def typo(word: str, rng: random.Random) -> str:
    """One typing mistake: swap, drop, double or replace a letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiouhnt") + word[i + 1:]


def make_queries(catalogue: dict, count: int, seed: int = 11) -> list[tuple[str, str, str | None]]:
    """(kind, query, code it was taken from) mixing what citizens type at a kiosk."""
    rng = random.Random(seed)
    procedures = catalogue["procedures"]
    base_names = [p["name"] for p in json.loads(SAMPLE.read_text(encoding="utf-8"))["procedures"]]
    queries: list[tuple[str, str, str | None]] = [("fixed", q, None) for q in FIXED_QUERIES]
    kinds = ["diacritics", "folded", "folded", "typo", "typo", "shuffled", "prefix", "upper"]
    while len(queries) < count:
        p = rng.choice(procedures)
        words = base_names[base_of(p["code"])].split()  # the qualifiers are shared by all bases: not a fair question
        start = rng.randrange(0, max(1, len(words) - 2))
        part = words[start:start + rng.randint(2, 4)]
        kind = rng.choice(kinds)
        if kind == "folded":
            text = fold(" ".join(part))
        elif kind == "typo":
            folded = fold(" ".join(part)).split()
            j = max(range(len(folded)), key=lambda k: len(folded[k]))
            folded[j] = typo(folded[j], rng)
            text = " ".join(folded)
        elif kind == "shuffled":
            rng.shuffle(part)
            text = " ".join(part)
        elif kind == "prefix":
            text = " ".join(part)[: rng.randint(4, 12)]
        elif kind == "upper":
            text = " ".join(part).upper()
        else:
            text = " ".join(part)
        queries.append((kind, text, p["code"]))
    return queries


def base_of(code: str) -> int:
    """The sample procedure a generated one varies (BENCH-00061 -> sample number 61 mod the sample size)."""
    return int(code.removeprefix("BENCH-")) % SAMPLE_SIZE


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1500)
    args = parser.parse_args()

    config = office_config.load(CONFIG)
    catalogue = generate(args.procedures)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        source = Path(tmp) / "catalogue.json"
        source.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
        store = Store.in_dir(Path(tmp) / "data", config.id)
        store.close()
        db = pdb.open_db(store.path)
        started = time.perf_counter()
        report = import_file(db, source, services=set(config.services))
        import_seconds = time.perf_counter() - started
        assert not report.rejected, report.rejected[:3]
        started = time.perf_counter()
        reimport = import_file(db, source, services=set(config.services))
        reimport_seconds = time.perf_counter() - started
        assert len(reimport.unchanged) == args.procedures

        search = ProcedureSearch(db, str(store.path))
        started = time.perf_counter()
        search.vocabulary()
        vocabulary_ms = (time.perf_counter() - started) * 1000

        queries = make_queries(catalogue, args.queries)
        for _, text, _ in queries[:50]:  # warm the page cache as a running kiosk server would be
            search.search(text, 10)
        timings: list[float] = []
        by_kind: dict[str, list[float]] = {}
        found: dict[str, list[bool]] = {}
        empty = 0
        for kind, text, code in queries:
            t0 = time.perf_counter()
            results = search.search(text, 10)
            elapsed = (time.perf_counter() - t0) * 1000
            timings.append(elapsed)
            by_kind.setdefault(kind, []).append(elapsed)
            empty += not results
            if code is not None:
                found.setdefault(kind, []).append(base_of(code) in {base_of(r["code"]) for r in results})
        db.close()

    p50, p95, p99 = (percentile(timings, q) for q in (50, 95, 99))
    print(f"{args.procedures} procedures, {len(queries)} queries")
    print(f"import {import_seconds:.2f} s, unchanged re-import {reimport_seconds:.2f} s, typo vocabulary {vocabulary_ms:.0f} ms")
    print(f"p50 {p50:.2f} ms  p95 {p95:.2f} ms  p99 {p99:.2f} ms  max {max(timings):.2f} ms  mean {statistics.mean(timings):.2f} ms")

    lines = [
        "## Procedure search (bench/bench_procedure_search.py)",
        "",
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {platform.machine()} ({os.cpu_count()} CPUs), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}.",
        "",
        f"Catalogue: {args.procedures} procedures generated from the {SAMPLE_SIZE} "
        "sample ones (qualifiers added to names, extra and reordered documents).",
        f"Import {import_seconds:.2f} s; re-import of the unchanged file {reimport_seconds:.2f} s; "
        f"building the typo vocabulary {vocabulary_ms:.0f} ms (once per catalogue revision).",
        "",
        f"{len(queries)} queries, `ProcedureSearch.search(text, limit=10)` as the HTTP endpoint calls it, after 50 warm-up queries:",
        "",
        "| | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        f"| all ({len(timings)}) | {p50:.2f} | {p95:.2f} | {p99:.2f} | {max(timings):.2f} |",
    ]
    for kind, values in sorted(by_kind.items()):
        lines.append(f"| {kind} ({len(values)}) | {percentile(values, 50):.2f} | {percentile(values, 95):.2f} | "
                     f"{percentile(values, 99):.2f} | {max(values):.2f} |")
    lines += [
        "",
        "Quality: share of generated queries (2-4 words of a sample name) for which a variant of that procedure is among "
        "the 10 results; about 34 generated procedures share each sample name, and short parts such as 'Đăng ký' "
        "fit dozens of names, so this is a floor:",
        "",
        "| query kind | found in top 10 |",
        "|---|---:|",
    ]
    for kind, hits in sorted(found.items()):
        lines.append(f"| {kind} | {100 * sum(hits) / len(hits):.0f}% of {len(hits)} |")
    lines += ["", f"Queries with no result: {empty} of {len(queries)}.", "",
              "Kinds: diacritics = words of a name as written; folded = without diacritics; typo = folded with one "
              "swapped, dropped, doubled or replaced letter; shuffled = words reordered; prefix = the first 4-12 "
              "characters typed; upper = capitals; fixed = a hand-written list of kiosk queries.", ""]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
