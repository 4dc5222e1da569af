"""Staff accounts and the counters each official may use (through queue_server/staff, the staff branch's API)."""

from __future__ import annotations

from flask import Response

from queue_server.web.admin.common import bp, page, viewers


@bp.get("/staff")
@viewers
def staff() -> Response:
    return page("staff.html", accounts=[])
