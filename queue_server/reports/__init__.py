"""Reports (issue 19): visit rows from the event log, figures, dashboard, exports, simulator, planner.

The feature hook (queue_server/features.py) calls `register_web`, which adds JSON endpoints;
the dashboard and report pages of the web package sit on top of them. Commands `report`,
`simulate` and `plan` are registered through the motcua.commands entry points.
See docs/reports.md and docs/planner.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from queue_server.server import QueueServer

__all__ = ["register_web"]


def register_web(app: Flask, server: QueueServer) -> None:
    """Add /api/reports/dashboard, /api/reports and /api/reports/export to the office web app."""
    from queue_server.reports.web import register

    register(app, server)
