"""Feature packages that add HTTP routes to the one web app.

Each listed package exposes `register_web(app, server)`; its commands are registered
through the `motcua.commands` entry points in pyproject.toml. Both use the office
database (migrations per component, see store.migrate_component).
"""

from __future__ import annotations

import importlib
from types import ModuleType

FEATURES: list[str] = [
    "queue_server.procedures",
    "queue_server.dossiers",
    "queue_server.province",
]


def modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in FEATURES]
