"""The administrator's pages (/admin): the office's configuration, devices, the day, the procedure catalogue.

Every configuration change goes through the engine (`office.configure` with the whole document,
as device `web-admin` of role admin), so it is validated, logged and durable, and reaches every
device through the retained `state/office` without a restart. Administrators change things;
managers see the same pages read-only. docs/admin.md is the office's guide.

One module per page group; each adds its routes to `bp`.
"""

from __future__ import annotations

from queue_server.web.admin import catalogue, counters, day, devices, hours, overview, services, staff  # noqa: F401  (their routes)
from queue_server.web.admin.common import bp

__all__ = ["bp"]
