"""Dossiers (hồ sơ): a synchronised copy of the one-stop software's dossiers, looked up by receipt barcode.

The source system pushes updates (POST /api/dossiers/sync) or an officer imports a file;
citizens look a dossier up at the kiosk (GET /api/dossiers/<code>); the results TV lists
what is ready (GET /api/dossiers/ready). See docs/dossiers.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from queue_server.server import QueueServer

__all__ = ["register_web"]


def register_web(app: Flask, server: QueueServer) -> None:
    """Add the dossier routes to the office web app."""
    from queue_server.dossiers.web import register

    register(app, server)
