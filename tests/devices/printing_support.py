"""Shared by the printer tests: a sample ticket, its QR text, and reading QR codes with Debian's zbarimg."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from motcua.protocol import ticket_qr_url

PUBLIC = "pUbLiC-token_0123456789"
VOTE = "vOtE-token_9876543210ab"
QR_TEXT = ticket_qr_url("http://192.168.1.20:8080", PUBLIC, VOTE)
OFFICE = "Bộ phận Một cửa UBND xã Thạnh Mỹ Tây"
TICKET = {
    "number": "1023", "service": "HT", "service_name": "Tư pháp - Hộ tịch", "priority": True,
    "priority_group": "elderly", "priority_group_name": "Người cao tuổi", "status": "waiting",
    "issued_at": "2026-12-02T08:15:30+07:00", "ahead": 7, "estimated_wait_minutes": 25,
}


def read_qr(png: Path) -> list[str]:
    """Every QR code zbarimg finds in the PNG (Debian's zbar-tools)."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.fail("zbarimg is not installed: run ./setup.sh test (it installs Debian's zbar-tools)")
    done = subprocess.run([zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
                          capture_output=True, text=True, timeout=30)
    return [line for line in done.stdout.splitlines() if line]
