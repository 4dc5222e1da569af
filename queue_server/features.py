"""Feature packages that add CLI commands and HTTP routes to the one CLI and the one web app.

Each listed package exposes `commands` (a list of click commands or groups) and
`register_web(app, server)`. Both use the office database (migrations per component,
see store.migrate_component).
"""

from __future__ import annotations

import importlib
from types import ModuleType

FEATURES: list[str] = [
    "queue_server.procedures",
    "queue_server.dossiers",
]


def modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in FEATURES]
