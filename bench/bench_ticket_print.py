"""Benchmark: a ticket image rendered and handed to the printer backend (target: at most 200 ms).

For each backend the kiosk can use, times render_ticket() and then print_ticket() until it returns:
the simulated printer (python-escpos Dummy bytes, in memory and into a folder as .bin + .png), the
serial backend on a pty with a printer emulator answering DLE EOT, and the network backend on a
loopback port with the same emulator. Status queries before and after each ticket are included.
Writes bench/results/ticket_print.md.

Run: .venv/bin/python bench/bench_ticket_print.py [--tickets 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.printing import open_printer  # noqa: E402
from kiosk.printing.emulator import PtyPrinter, TcpPrinter  # noqa: E402
from kiosk.ticket_image import WIDTH_58MM, WIDTH_80MM, render_ticket  # noqa: E402
from motcua.protocol import ticket_qr_url  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "ticket_print.md"
TARGET_MS = 200
OFFICE = "Bộ phận Một cửa UBND huyện Châu Thành"


def ticket(n: int) -> dict:
    return {"number": str(1000 + n), "service_name": "Tư pháp - Hộ tịch", "priority": n % 3 == 0,
            "priority_group_name": "Người cao tuổi" if n % 3 == 0 else None, "issued_at": "2026-12-02T08:15:30+07:00",
            "ahead": n % 17, "estimated_wait_minutes": 3 * (n % 17)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(name: str, printer, width: int, tickets: int) -> dict:
    render_ms: list[float] = []
    total_ms: list[float] = []
    for n in range(tickets):
        qr = ticket_qr_url("http://192.168.1.20:8080", f"public-token-{n:010d}", f"vote-token-{n:012d}")
        start = time.perf_counter()
        image = render_ticket(ticket(n), OFFICE, qr, width)
        rendered = time.perf_counter()
        printer.print_ticket(image)
        done = time.perf_counter()
        render_ms.append((rendered - start) * 1000)
        total_ms.append((done - start) * 1000)
    row = {"name": name, "width": width, "n": tickets, "render_p50": statistics.median(render_ms),
           "p50": statistics.median(total_ms), "p95": percentile(total_ms, 0.95), "p99": percentile(total_ms, 0.99),
           "max": max(total_ms)}
    print(f"{name:<44} {width} dots  render p50 {row['render_p50']:6.1f} ms   total p50 {row['p50']:6.1f}  "
          f"p95 {row['p95']:6.1f}  p99 {row['p99']:6.1f}  max {row['max']:6.1f} ms", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "printed"
        cases: list[tuple[str, Callable[[], tuple[Any, Any]], int]] = [
            ("simulated, in memory (escpos Dummy)", lambda: (None, open_printer({}, simulate=True)), WIDTH_80MM),
            ("simulated, into a folder (.bin + .png)", lambda: (None, open_printer({}, simulate=True, folder=folder)), WIDTH_80MM),
            ("serial on a pty, 115200 baud, DLE EOT", lambda: _pty(), WIDTH_80MM),
            ("serial on a pty, 58 mm paper", lambda: _pty(paper_mm=58), WIDTH_58MM),
            ("network on loopback :9100-like, DLE EOT", lambda: _tcp(), WIDTH_80MM),
        ]
        for name, make, width in cases:
            emulator, printer = make()
            try:
                run(name, printer, width, 3)  # warm-up: fonts, escpos profiles, the first connection
                rows.append(run(name, printer, width, args.tickets))
            finally:
                printer.close()
                if emulator is not None:
                    emulator.close()
    write(rows, args)


def _pty(**settings):
    emulator = PtyPrinter()
    return emulator, open_printer({"connection": "serial", "port": emulator.path, "baudrate": 115200, "status_timeout": 0.2, **settings})


def _tcp():
    emulator = TcpPrinter()
    return emulator, open_printer({"connection": "network", "host": emulator.host, "tcp_port": emulator.port, "status_timeout": 0.2})


def write(rows: list[dict], args) -> None:
    worst = max(r["p99"] for r in rows)
    lines = [
        "## Ticket printing (bench/bench_ticket_print.py)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} ({os.cpu_count()} CPUs), Python {platform.python_version()}; "
        f"{args.tickets} tickets per backend after 3 warm-up tickets.",
        "",
        "From the ticket dict to `print_ticket()` returning: `render_ticket()` (Pillow, DejaVu Sans, QR code, 1-bit) "
        "then the backend (python-escpos bytes; for serial and network, DLE EOT status before and after each ticket, "
        "answered by the printer emulator of kiosk/printing/emulator.py). Target: at most 200 ms.",
        "",
        "| Backend | Width | Render p50 | Total p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['name']} | {r['width']} | {r['render_p50']:.1f} ms | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['p99']:.1f} ms | {r['max']:.1f} ms |"
              for r in rows]
    lines += ["", f"Worst p99 {worst:.1f} ms: {'within' if worst <= TARGET_MS else 'OVER'} the {TARGET_MS} ms target. "
              "This is the computer's side: the emulator reads as fast as the pty or socket delivers. A real link adds "
              "its transfer time (a 576-dot ticket is about 60 KB: well under a second over USB or Ethernet, about 5 s on a serial "
              "line at 115200 baud), and the kiosk shows the number on screen without waiting for the paper."]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
