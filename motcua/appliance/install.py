"""Install, upgrade and remove the roles of one box (`./setup.sh install ROLE`).

Idempotent by construction: every step compares before it acts (a file is written only
when its bytes differ, a user is created only when missing, the virtualenv is rebuilt only
when the source or the extras changed, no secret is ever regenerated), and each change is
reported, so a second run says "nothing changed". Standard library only: it runs with
Debian's python3 before the virtualenv exists. It works in a chroot without a running
systemd: units are enabled by the same symlinks `systemctl enable` makes.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from motcua.appliance.roles import BASE_PACKAGES, ROLES, SYSTEM_GROUPS, Role, expand

SRC = Path(__file__).resolve().parents[2]
ETC = Path("/etc/motcua")
DATA = Path("/var/lib/motcua")
OPT = Path("/opt/motcua")
VENV = OPT / ".venv"
STAMP = VENV / "motcua-install.json"
UNIT_DIR = Path("/etc/systemd/system")
ROLES_FILE = ETC / "roles"
CREDENTIALS = ETC / "credentials"
ENV_FILE = ETC / "motcua.env"
MOSQUITTO_CONF = Path("/etc/mosquitto/conf.d/motcua.conf")
UDEV_RULES = Path("/etc/udev/rules.d/99-motcua.rules")
SOURCE_DIRS = ("motcua", "queue_server", "kiosk", "display", "counter")


class InstallError(RuntimeError):
    pass


@dataclass
class Report:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def changed(self, what: str) -> None:
        self.changes.append(what)
        print(f"  changed: {what}", file=sys.stderr)

    def note(self, what: str) -> None:
        self.notes.append(what)
        print(f"  note: {what}", file=sys.stderr)


def run(*cmd: str, check: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kw)  # type: ignore[call-overload]


def systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


# --- files -----------------------------------------------------------------------

def owner_ids(user: str = "root", group: str = "root") -> tuple[int, int]:
    return pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid


def ensure_dir(path: Path, mode: int, user: str, group: str, report: Report) -> None:
    if not path.is_dir():
        path.mkdir(parents=True)
        report.changed(f"created {path}")
    ensure_meta(path, mode, user, group, report)


def ensure_meta(path: Path, mode: int, user: str, group: str, report: Report) -> None:
    uid, gid = owner_ids(user, group)
    st = path.lstat()
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(path, uid, gid)
        report.changed(f"owner of {path} -> {user}:{group}")
    if st.st_mode & 0o7777 != mode:
        os.chmod(path, mode)
        report.changed(f"mode of {path} -> {mode:o}")


def ensure_file(path: Path, content: bytes, mode: int, report: Report, user: str = "root", group: str = "root") -> bool:
    """Write `content` only when it differs; the new file never has a wider mode than asked, even for an instant."""
    changed = False
    if not path.exists() or path.read_bytes() != content:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.motcua-tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        uid, gid = owner_ids(user, group)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        report.changed(f"wrote {path}")
        changed = True
    ensure_meta(path, mode, user, group, report)
    return changed


def ensure_symlink(link: Path, target: Path, report: Report) -> None:
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)
    report.changed(f"enabled {link.name} ({link.parent.name})")


# --- packages, groups, users -----------------------------------------------------

def apt_install(packages: Iterable[str], report: Report) -> None:
    missing = [p for p in dict.fromkeys(packages) if run("dpkg", "-s", p, check=False).returncode != 0]
    if not missing:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"==> apt-get install {' '.join(missing)}", file=sys.stderr)
    run("apt-get", "update", "-qq", env=env)
    result = run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, check=False, env=env)
    if result.returncode != 0:
        raise InstallError(f"apt-get install {' '.join(missing)} failed:\n{result.stderr[-2000:]}")
    report.changed(f"installed packages {' '.join(missing)}")


def ensure_group(name: str, report: Report) -> None:
    try:
        grp.getgrnam(name)
    except KeyError:
        run("groupadd", "--system", name)
        report.changed(f"created group {name}")


def ensure_user(role: Role, report: Report) -> None:
    home = role.home or str(DATA if role.name == "server" else Path("/var/lib") / role.user)
    try:
        pwd.getpwnam(role.user)
    except KeyError:
        cmd = ["useradd", "--system", "--user-group", "--home-dir", home, "--shell", "/usr/sbin/nologin"]
        if role.home:
            cmd += ["--create-home", "--shell", "/bin/bash"]  # a desktop session (autologin, startx) needs both
        run(*cmd, role.user)
        report.changed(f"created user {role.user}")
    for group in role.groups:
        ensure_group(group, report)
    have = sorted(g.gr_name for g in grp.getgrall() if role.user in g.gr_mem)
    if have != sorted(role.groups):
        run("usermod", "-G", ",".join(role.groups), role.user)
        report.changed(f"groups of {role.user} -> {','.join(role.groups) or '(none)'}")


# --- the virtualenv ----------------------------------------------------------------

def source_hash() -> str:
    digest = hashlib.sha256()
    sources = (p for d in SOURCE_DIRS for p in (SRC / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    files = [SRC / "pyproject.toml", *sorted(sources)]
    for path in files:
        digest.update(str(path.relative_to(SRC)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_venv(extras: list[str], report: Report) -> bool:
    """Build or upgrade /opt/motcua/.venv; True when the installed package changed."""
    wanted = {"source": source_hash(), "extras": sorted(extras)}
    try:
        if json.loads(STAMP.read_text()) == wanted:
            return False
    except (OSError, ValueError):
        pass
    if not (VENV / "bin" / "python").exists():
        OPT.mkdir(parents=True, exist_ok=True)
        run(sys.executable, "-m", "venv", str(VENV))
        report.changed(f"created virtualenv {VENV}")
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy (pip writes build/ and *.egg-info into the tree it builds), once, as a wheel.
        copy = Path(tmp) / "motcua"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(SRC / name, copy)
        for d in SOURCE_DIRS:
            shutil.copytree(SRC / d, copy / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        print(f"==> pip install motcua[{','.join(sorted(extras))}] into {VENV}", file=sys.stderr)
        result = run(str(VENV / "bin" / "python"), "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp, str(copy), check=False)
        wheels = sorted(Path(tmp).glob("motcua-*.whl"))
        if result.returncode == 0 and wheels:
            spec = f"{wheels[0]}[{','.join(sorted(extras))}]" if extras else str(wheels[0])
            result = run(*pip, spec, check=False)
        if result.returncode == 0:  # same version number, new code: replace the package itself
            result = run(*pip, "--force-reinstall", "--no-deps", str(wheels[0]), check=False)
    if result.returncode != 0:
        raise InstallError(f"pip install failed:\n{result.stderr[-3000:]}")
    STAMP.write_text(json.dumps(wanted) + "\n")
    report.changed(f"installed motcua[{','.join(sorted(extras))}] in {VENV}")
    return True


def motcua_cmd(*args: str) -> list[str]:
    return [str(VENV / "bin" / "motcua"), *args]


# --- configuration -----------------------------------------------------------------

def ensure_config(office_config: Path | None, report: Report) -> Path:
    """/etc/motcua/office.toml from --office-config or the example, never replacing an existing one."""
    target = ETC / "office.toml"
    source = office_config or SRC / "firmware_config" / "office.example.toml"
    if target.exists():
        if office_config and target.read_bytes() != office_config.read_bytes():
            report.note(f"{target} exists and differs from {office_config}: kept (edit it, or remove it and install again)")
    else:
        ensure_file(target, source.read_bytes(), 0o644, report)
    for name, example in (("counter-pins.toml", "counter-pins.example.toml"), ("kiosk.toml", "kiosk.example.toml")):
        if not (ETC / name).exists():
            ensure_file(ETC / name, (SRC / "firmware_config" / example).read_bytes(), 0o644, report)
    return target


def office_devices(config: Path) -> list[dict[str, str]]:
    return list(tomllib.loads(config.read_text(encoding="utf-8")).get("devices", []))


def pick_device(role: Role, devices: list[dict[str, str]], asked: str | None) -> str | None:
    if not role.device_roles:
        return None
    if asked:
        match = [d for d in devices if d.get("id") == asked]
        if not match or match[0].get("role") not in role.device_roles:
            raise InstallError(f"device {asked!r} is not a {'/'.join(role.device_roles)} device of the office configuration")
        return asked
    fits = [d["id"] for d in devices if d.get("role") in role.device_roles]
    preferred = [d for d in fits if d.startswith(role.device_prefix)] if role.device_prefix else fits
    if not (preferred or fits):
        raise InstallError(f"the office configuration declares no {'/'.join(role.device_roles)} device for the {role.name} role")
    return (preferred or fits)[0]


def env_file(server: str | None, report: Report) -> None:
    """Where the devices find the server: no secret here (the password is a LoadCredential= file)."""
    current = ENV_FILE.read_text() if ENV_FILE.exists() else ""
    if current and not server:
        return
    host = server or "127.0.0.1"
    text = (
        "# Where this box's programs find the office server (./setup.sh install ROLE --server HOST).\n"
        "# No secret here: each device's broker password is in /etc/motcua/credentials/devices/ID.toml (0600 root),\n"
        "# handed to its unit by LoadCredential=.\n"
        f"MOTCUA_BROKER=mqtt://{host}:1883\n"
        f"MOTCUA_SERVER_URL=http://{host}:8080\n"
        f"MOTCUA_TV_URL=http://{host}:8080/tv/calls\n"
        "MOTCUA_LED_PORT=/dev/motcua-led\n"
    )
    ensure_file(ENV_FILE, text.encode(), 0o644, report)


# --- units ---------------------------------------------------------------------------

_WANTED_BY = re.compile(r"^WantedBy=(.+)$", re.M)


def install_units(role: Role, device: str | None, report: Report) -> list[str]:
    changed = []
    for unit in role.units:
        text = (SRC / "systemd" / unit).read_bytes()
        if ensure_file(UNIT_DIR / unit, text, 0o644, report):
            changed.append(unit)
    for pattern in role.enable:
        name = pattern.format(device=device)
        template = re.sub(r"@[^.]+\.", "@.", name)
        for target in _WANTED_BY.findall((UNIT_DIR / template).read_text())[0].split():
            ensure_symlink(UNIT_DIR / f"{target}.wants" / name, UNIT_DIR / template, report)
    return changed


def enabled_units(role: Role) -> list[Path]:
    out = []
    for wants in UNIT_DIR.glob("*.wants"):
        for link in wants.iterdir():
            if any(link.name == u or (u.endswith("@.service") and link.name.startswith(u[: -len(".service")])) for u in role.units):
                out.append(link)
    return out


# --- roles ---------------------------------------------------------------------------

def installed_roles() -> list[str]:
    return ROLES_FILE.read_text().split() if ROLES_FILE.exists() else []


def install(role_name: str, office_config: Path | None = None, server: str | None = None, device: str | None = None,
            credential: Path | None = None) -> Report:
    report = Report()
    if os.geteuid() != 0:
        raise InstallError("run as root: sudo ./setup.sh install ROLE")
    names = expand(role_name)
    roles = [ROLES[n] for n in names]
    if device and len(roles) != 1:
        raise InstallError("--device names one box: give it with a single role")
    apt_install([*BASE_PACKAGES, *(p for r in roles for p in r.packages)], report)
    for group in SYSTEM_GROUPS:
        if any(group in r.groups for r in roles):
            ensure_group(group, report)
    for r in roles:
        ensure_user(r, report)
    ensure_dir(ETC, 0o755, "root", "root", report)
    config = ensure_config(office_config, report)
    all_roles = sorted(set(installed_roles()) | set(names), key=list(ROLES).index)
    if "server" in all_roles:
        ensure_dir(DATA, 0o750, "motcua", "motcua", report)
        ensure_dir(DATA / "backups", 0o750, "motcua", "motcua", report)
    upgraded_db = DATA / "motcua.db"
    pre_upgrade = upgraded_db.exists() and STAMP.exists()
    extras = sorted({e for n in all_roles for e in ROLES[n].extras})
    if pre_upgrade and json.loads(STAMP.read_text()).get("source") != source_hash():
        backup_before_upgrade(report)
    upgraded = ensure_venv(extras, report)
    ensure_file(ROLES_FILE, (" ".join(all_roles) + "\n").encode(), 0o644, report)
    if "server" in names:
        setup_broker(config, report)
    if UDEV_RULES.parent.is_dir() or any(r.name in ("kiosk", "led", "keypad") for r in roles):
        ensure_file(UDEV_RULES, (SRC / "firmware_config" / "udev" / "99-motcua.rules").read_bytes(), 0o644, report)
    env_file(server, report)
    devices = office_devices(config)
    changed_units = []
    for r in roles:
        dev = pick_device(r, devices, device)
        if dev and r.name != "tv":
            give_credential(dev, credential if device else None, report)
        changed_units += install_units(r, dev, report)
    if upgraded and upgraded_db.exists() and "server" in all_roles:
        migrate(config, report)
    apply(roles, bool(report.changes), upgraded or bool(changed_units), report)
    return report


def backup_before_upgrade(report: Report) -> None:
    if not (VENV / "bin" / "motcua").exists():
        return
    dest = DATA / "backups" / f"pre-upgrade-{time.strftime('%Y%m%d-%H%M%S')}.db"
    result = run("runuser", "-u", "motcua", "--", *motcua_cmd("backup", "--data", str(DATA), str(dest)), check=False)
    if result.returncode != 0:
        raise InstallError(f"the backup before the upgrade failed, nothing upgraded: {result.stderr.strip()}")
    report.changed(f"backup before the upgrade: {dest}")


def migrate(config: Path, report: Report) -> None:
    """Apply the new schema migrations now (the server does it at start too), as the server's user."""
    if systemd_running() and run("systemctl", "is-active", "--quiet", "motcua-server.service", check=False).returncode == 0:
        return  # apply() restarts it; it migrates when it opens the database
    office_id = tomllib.loads(config.read_text(encoding="utf-8"))["office"]["id"]
    code = "import sys; from queue_server.store import Store; s = Store(sys.argv[1], sys.argv[2]); print(s.schema_version()); s.close()"
    result = run("runuser", "-u", "motcua", "--", str(VENV / "bin" / "python"), "-c", code, str(DATA / "motcua.db"), office_id, check=False)
    if result.returncode != 0:
        raise InstallError(f"database migration failed: {result.stderr.strip()[-1000:]}")
    report.note(f"database at schema version {result.stdout.strip()}")


def setup_broker(config: Path, report: Report) -> None:
    """Debian's Mosquitto with the office's password file and ACL (generated, secrets kept across runs)."""
    before = _tree_digest(CREDENTIALS)
    result = run(*motcua_cmd("devices", "credentials", "--config", str(config), "--out", str(CREDENTIALS), "--group", "mosquitto"), check=False)
    if result.returncode != 0:
        raise InstallError(f"broker credentials: {(result.stderr or result.stdout).strip()}")
    if _tree_digest(CREDENTIALS) != before:
        report.changed(f"broker credentials in {CREDENTIALS}")
    conf_changed = ensure_file(MOSQUITTO_CONF, (SRC / "firmware_config" / "mosquitto" / "motcua.conf").read_bytes(), 0o644, report)
    if systemd_running() and (conf_changed or _tree_digest(CREDENTIALS) != before):
        run("systemctl", "enable", "mosquitto.service", check=False)
        run("systemctl", "reload-or-restart", "mosquitto.service", check=False)


def _tree_digest(path: Path) -> str:
    digest = hashlib.sha256()
    if path.exists():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                digest.update(f"{p}:{st.st_mode}:{st.st_uid}:{st.st_gid}".encode() + p.read_bytes())
    return digest.hexdigest()


def give_credential(device: str, credential: Path | None, report: Report) -> None:
    """The device's broker credential, 0600 root: its unit reads it with LoadCredential=, never on a command line."""
    target = CREDENTIALS / "devices" / f"{device}.toml"
    if credential:
        if not CREDENTIALS.exists():
            ensure_dir(CREDENTIALS, 0o700, "root", "root", report)
        ensure_dir(CREDENTIALS / "devices", 0o700, "root", "root", report)
        ensure_file(target, credential.read_bytes(), 0o600, report)
    elif not target.exists():
        report.note(f"no broker credential for {device}: copy {target} from the server "
                    f"(./setup.sh install ROLE --device {device} --credential FILE)")


def apply(roles: list[Role], anything: bool, restart: bool, report: Report) -> None:
    if not systemd_running():
        report.note("systemd is not running here: units are enabled and start at the next boot")
        return
    if not anything:
        return
    run("systemctl", "daemon-reload", check=False)
    run("udevadm", "control", "--reload", check=False)
    for r in roles:
        for link in enabled_units(r):
            verb = "restart" if restart else "start"
            if run("systemctl", verb, link.name, check=False).returncode != 0:
                report.note(f"{link.name} did not start: journalctl -u {link.name}")


def uninstall(role_name: str, purge: bool = False) -> Report:
    report = Report()
    names = expand(role_name)
    remaining = [n for n in installed_roles() if n not in names]
    for n in names:
        r = ROLES[n]
        links = enabled_units(r)
        if systemd_running():
            for link in links:
                run("systemctl", "disable", "--now", link.name, check=False)
        for link in links:
            if link.is_symlink():
                link.unlink()
                report.changed(f"disabled {link.name}")
        for unit in r.units:
            if (UNIT_DIR / unit).exists():
                (UNIT_DIR / unit).unlink()
                report.changed(f"removed {UNIT_DIR / unit}")
        try:
            pwd.getpwnam(r.user)
            run("userdel", r.user)
            report.changed(f"removed user {r.user}")
        except KeyError:
            pass
        if n == "server" and MOSQUITTO_CONF.exists():
            MOSQUITTO_CONF.unlink()
            report.changed(f"removed {MOSQUITTO_CONF}")
    if remaining:
        ensure_file(ROLES_FILE, (" ".join(remaining) + "\n").encode(), 0o644, report)
    else:
        for path in (VENV, ROLES_FILE, UDEV_RULES):
            if path.is_dir():
                shutil.rmtree(path)
                report.changed(f"removed {path}")
            elif path.exists():
                path.unlink()
                report.changed(f"removed {path}")
    if purge and "server" in names:
        for path in (DATA, CREDENTIALS):
            if path.exists():
                shutil.rmtree(path)
                report.changed(f"purged {path}")
    elif "server" in names and DATA.exists():
        report.note(f"kept {DATA} (the office's data; --purge removes it)")
    if systemd_running():
        run("systemctl", "daemon-reload", check=False)
    return report
