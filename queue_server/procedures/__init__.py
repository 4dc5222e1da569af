"""Procedure catalogue (thủ tục hành chính): import, Vietnamese search for kiosks, CLI and HTTP.

See docs/procedures.md. Its HTTP routes are the `procedures` blueprint (queue_server/web/procedures.py);
the `procedures` command is registered through the `motcua.commands` entry points.
"""
