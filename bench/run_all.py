"""Run every benchmark and put their results into docs/performance.md (between markers)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {
    "core": "bench_core.py",
    "brokers": "bench_brokers.py",
    "procedure_search": "bench_procedure_search.py",
    "province": "bench_province.py",
    "dossier_lookup": "bench_dossier_lookup.py",
    "live_push": "bench_live_push.py",
    "ticket_print": "bench_ticket_print.py",
    "displays": "bench_displays.py",
    "tv": "bench_tv.py",
    "reports": "bench_reports.py",
    "kiosk": "bench_kiosk.py",
    "counter": "bench_counter.py",
    "admin_config": "bench_admin_config.py",
    "phone_push": "bench_phone_push.py",
    "booked_day": "bench_booked_day.py",
}


def main() -> None:
    for script in BENCHES.values():
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / script)], check=True, cwd=ROOT)
    page = ROOT / "docs" / "performance.md"
    text = page.read_text(encoding="utf-8")
    for name in BENCHES:
        result = (ROOT / "bench" / "results" / f"{name}.md").read_text(encoding="utf-8").strip()
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", re.S)
        text, count = pattern.subn(lambda m, r=result: m.group(1) + r + m.group(2), text)
        if count != 1:
            raise SystemExit(f"docs/performance.md has no {name} markers")
    page.write_text(text, encoding="utf-8")
    print(f"updated {page}")


if __name__ == "__main__":
    main()
