"""Procedure catalogue (thủ tục hành chính): import, Vietnamese search for kiosks, CLI and HTTP.

See docs/procedures.md. The feature hook (queue_server/features.py) uses `commands` and `register_web`.
"""

from __future__ import annotations

from queue_server.procedures.cli import procedures
from queue_server.procedures.web import register_web

commands = [procedures]

__all__ = ["commands", "register_web"]
