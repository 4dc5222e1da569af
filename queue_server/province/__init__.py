"""Province scale: the forwarder (office side), the central cluster's configuration, the hub.

Office side (needs only the server extra): `outbox` reads the office database read-only,
`export` decides what may leave, `forwarder` sends it. Central side (extra `province`:
PostgreSQL through psycopg): `hub`, `hubdb`, `board`, `web`. `cluster` writes NATS
configurations and starts a local 3-node cluster for trying and testing. See docs/province.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from queue_server.server import QueueServer

__all__ = ["register_web"]


def register_web(app: Flask, server: QueueServer) -> None:
    """The office server keeps the dossier change log the forwarder reads (its routes live in dossiers/)."""
    from queue_server.province.outbox import migrate

    migrate(server.db_path)
