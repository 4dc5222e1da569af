"""Procedure catalogue (thủ tục hành chính): import, Vietnamese search for kiosks, CLI and HTTP.

See docs/procedures.md. The feature hook (queue_server/features.py) uses `register_web`;
the `procedures` command is registered through the `motcua.commands` entry points.
"""

from __future__ import annotations

from queue_server.procedures.web import register_web

__all__ = ["register_web"]
