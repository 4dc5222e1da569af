"""Dossiers (hồ sơ): a synchronised copy of the one-stop software's dossiers, looked up by receipt barcode.

The source system pushes updates (POST /api/dossiers/sync) or an officer imports a file;
citizens look a dossier up at the kiosk (GET /api/dossiers/<code>); the results TV lists
what is ready (GET /api/dossiers/ready). The routes are the `dossiers` blueprint
(queue_server/web/dossiers.py). See docs/dossiers.md.
"""
