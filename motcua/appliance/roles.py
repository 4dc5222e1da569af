"""What each role of a box needs: Debian packages, its system user and groups, extras, units.

Standard library only: the installer runs with Debian's python3 before the virtualenv exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What Kivy's PyPI wheel loads from the system (it bundles SDL2); the same list as
# APT_KIOSK_PACKAGES in setup.sh (tests/unit/test_appliance.py keeps them equal).
KIOSK_PACKAGES = ("libgl1", "libegl1", "libgles2", "libgl1-mesa-dri", "libgbm1", "libdrm2", "libx11-6", "libxext6", "libxcursor1",
                  "libxi6", "libxfixes3", "libxrandr2", "libxss1", "libmtdev1", "fonts-dejavu-core")
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "passwd", "adduser")


@dataclass(frozen=True)
class Role:
    name: str
    user: str
    groups: tuple[str, ...]
    extras: tuple[str, ...]
    packages: tuple[str, ...]
    units: tuple[str, ...]                   # unit files copied from systemd/
    enable: tuple[str, ...]                  # what is enabled; '{device}' is the device id of a template
    device_roles: tuple[str, ...] = ()       # office.toml [[devices]] roles this box may be
    device_prefix: str = ""                  # prefer a device whose id starts with this
    home: str = ""                           # a real home (a desktop session needs one); else the state dir
    extra_units: tuple[str, ...] = field(default=())


ROLES: dict[str, Role] = {
    "server": Role(
        "server", "motcua", (), ("server", "reports"), ("mosquitto", "sqlite3"),
        ("motcua-server.service", "motcua-backup.service", "motcua-backup.timer"),
        ("motcua-server.service", "motcua-backup.timer"),
    ),
    "kiosk": Role(
        "kiosk", "motcua-kiosk", ("input", "video", "render", "dialout", "lp"), ("kiosk",), KIOSK_PACKAGES,
        ("motcua-kiosk@.service",), ("motcua-kiosk@{device}.service",), ("kiosk",), "kiosk", home="/home/motcua-kiosk",
    ),
    "tv": Role(
        "tv", "motcua-tv", ("video", "render", "input"), (), ("chromium", "cage", "curl", "fonts-dejavu-core"),
        ("motcua-tv.service",), ("motcua-tv.service",), ("display",), "tv",
    ),
    "voice": Role(
        "voice", "motcua-voice", ("audio",), ("display",), ("espeak-ng", "alsa-utils"),
        ("motcua-voice@.service",), ("motcua-voice@{device}.service",), ("voice",),
    ),
    "led": Role(
        "led", "motcua-led", ("dialout",), ("display",), (),
        ("motcua-led@.service",), ("motcua-led@{device}.service",), ("display",), "led",
    ),
    "keypad": Role(
        "keypad", "motcua-keypad", ("gpio",), ("counter",), (),
        ("motcua-keypad@.service", "motcua-rating@.service"), ("motcua-keypad@{device}.service",), ("counter",),
    ),
}
# One box for the whole office.
ALL = ("server", "kiosk", "tv", "voice", "led", "keypad")
# Groups that plain Debian may lack (gpio exists only on Raspberry Pi OS; render comes with udev).
SYSTEM_GROUPS = ("gpio", "render", "input", "video", "dialout", "lp", "audio")


def expand(role: str) -> tuple[str, ...]:
    if role == "all":
        return ALL
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join((*ROLES, 'all'))}")
    return (role,)
