"""sd_notify lives in motcua/systemd.py: the kiosk tells systemd it is ready and alive the same way."""

from motcua.systemd import Notifier

__all__ = ["Notifier"]
