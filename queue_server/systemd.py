"""Moved to motcua/systemd.py (device programs use it too); kept so that imports of this name still work."""

from motcua.systemd import Notifier

__all__ = ["Notifier"]
