"""A fresh Debian 12 (debootstrap minbase) in a plain chroot: `./setup.sh install server`, then `all`,
exactly as a technician runs them; then a working office inside it, idempotency, an upgrade, uninstall.

systemd is installed in the root (as on every Raspberry Pi OS and Debian box) but not running, as in
any chroot: the installer must enable units without it. The office runs in its own network namespace
(loopback only), so the chroot's Mosquitto and server take ports 1883 and 8080 without touching the host.
The debootstrap tarball, apt's archives and pip's cache are kept in MOTCUA_TEST_CACHE (default
/var/cache/motcua-test) between runs; durations are printed (run with -s to see them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT_DIR = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MOTCUA_TEST_CACHE", "/var/cache/motcua-test"))
MIRROR = "http://deb.debian.org/debian"
TARBALL = CACHE / "bookworm-minbase.tgz"
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb",
       # This machine reaches the registries through a TLS proxy whose CA only the host's bundle has: the same
       # bundle for pip in the root (an office box talks to the registries directly and needs nothing of this).
       "PIP_CERT": "/etc/ssl/host-ca-bundle.crt"}
# What an install may change, for the before/after hash of the second run.
TRACKED = ("etc/motcua", "etc/systemd/system", "opt/motcua", "etc/mosquitto", "etc/udev/rules.d", "var/lib/motcua",
           "etc/passwd", "etc/group", "etc/shadow", "etc/gshadow", "home")

pytestmark = pytest.mark.slow
timings: dict[str, float] = {}


def sh(*cmd: str, timeout: float = 900, check: bool = True, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)[:200]} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


def in_root(root: Path, script: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    return sh("chroot", str(root), "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in ENV.items()), "/bin/bash", "-ec", script,
              timeout=timeout, check=check)


def timed(name: str):
    class Timer:
        def __enter__(self):
            self.start = time.monotonic()

        def __exit__(self, *exc):
            timings[name] = round(time.monotonic() - self.start, 1)
            print(f"\n[fresh root] {name}: {timings[name]} s")
    return Timer()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0 or not shutil.which("debootstrap"):
        pytest.fail("needs root and debootstrap: run ./setup.sh test (it installs debootstrap)")
    CACHE.mkdir(parents=True, exist_ok=True)
    for sub in ("apt", "pip"):
        (CACHE / sub).mkdir(exist_ok=True)
    if not TARBALL.exists():
        with timed("debootstrap --make-tarball (first run only)"):
            partial = CACHE / "bookworm-minbase.tgz.partial"
            sh("debootstrap", "--variant=minbase", f"--make-tarball={partial}", "bookworm", str(CACHE / "work"), MIRROR, timeout=1200)
            partial.rename(TARBALL)
    root = tmp_path_factory.mktemp("fresh") / "root"
    with timed("debootstrap from the cached tarball"):
        sh("debootstrap", "--variant=minbase", f"--unpack-tarball={TARBALL}", "bookworm", str(root), MIRROR, timeout=1200)
    mounts = [root / "proc", root / "dev", root / "dev/pts", root / "var/cache/apt/archives", root / "root/.cache/pip"]
    sh("mount", "-t", "proc", "proc", str(mounts[0]))
    sh("mount", "--bind", "/dev", str(mounts[1]))
    sh("mount", "--bind", "/dev/pts", str(mounts[2]))
    mounts[4].mkdir(parents=True, exist_ok=True)
    sh("mount", "--bind", str(CACHE / "apt"), str(mounts[3]))
    sh("mount", "--bind", str(CACHE / "pip"), str(mounts[4]))
    try:
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        (root / "etc/ssl").mkdir(exist_ok=True)
        shutil.copy(os.environ.get("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt"), root / "etc/ssl/host-ca-bundle.crt")
        # Like any image build: packages must not start services in a chroot (invoke-rc.d asks this).
        policy = root / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        with timed("apt-get install systemd (what the real OS has)"):
            in_root(root, "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null")
        copy_source(root / "root/src")
        yield root
    finally:
        for mount in reversed(mounts):
            subprocess.run(["umount", "-l", str(mount)], check=False)
        # 1.5 GB a run: removed, but only once nothing is mounted under it (a bind of /dev or the caches would be emptied).
        if not any(line.split()[1].startswith(str(root)) for line in Path("/proc/mounts").read_text().splitlines()):
            shutil.rmtree(root, ignore_errors=True)


def copy_source(dest: Path) -> None:
    """The checkout as a technician has it (tracked and new files, not .venv or caches)."""
    names = sh("git", "ls-files", "-co", "--exclude-standard", cwd=ROOT_DIR).stdout.split("\n")
    for name in filter(None, names):
        src = ROOT_DIR / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def tree_hash(root: Path) -> dict[str, str]:
    """Path -> content, mode, owner and mtime: a rewritten file shows even when its bytes are the same."""
    out = {}
    for top in TRACKED:
        base = root / top
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.exists() else []
        for path in paths:
            st = path.lstat()
            what = os.readlink(path) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            out[str(path.relative_to(root))] = f"{what} {st.st_mode:o} {st.st_uid}:{st.st_gid} {st.st_mtime_ns if not path.is_dir() else ''}"
    return out


def passwd(root: Path) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").read_text().splitlines()}


def groups_of(root: Path, user: str) -> set[str]:
    return {line.split(":")[0] for line in (root / "etc/group").read_text().splitlines() if user in line.split(":")[3].split(",")}


def stat_of(root: Path, rel: str) -> tuple[str, str, str]:
    out = in_root(root, f"stat -c '%a %U %G' {rel}").stdout.split()
    return out[0], out[1], out[2]


def test_install_server_then_all_in_a_fresh_root(root: Path) -> None:
    with timed("./setup.sh install server"):
        first = in_root(root, "cd /root/src && ./setup.sh install server", timeout=1500)
    assert "nothing changed" not in first.stderr
    users = passwd(root)
    assert users["motcua"][6] == "/usr/sbin/nologin" and groups_of(root, "motcua") == set()
    assert stat_of(root, "/var/lib/motcua") == ("750", "motcua", "motcua")
    assert stat_of(root, "/etc/motcua/office.toml") == ("644", "root", "root")
    assert (root / "etc/motcua/office.toml").read_bytes() == (ROOT_DIR / "firmware_config/office.example.toml").read_bytes()
    # Secrets: root-only; the broker's files readable by Mosquitto's group, nothing for anyone else.
    assert stat_of(root, "/etc/motcua/credentials/secrets.toml") == ("600", "root", "root")
    assert stat_of(root, "/etc/motcua/credentials/devices/motcua-server.toml") == ("600", "root", "root")
    assert stat_of(root, "/etc/motcua/credentials/mosquitto.passwd") == ("640", "root", "mosquitto")
    assert stat_of(root, "/etc/motcua/credentials/mosquitto.acl") == ("640", "root", "mosquitto")
    assert (root / "etc/mosquitto/conf.d/motcua.conf").exists()
    wants = root / "etc/systemd/system/multi-user.target.wants/motcua-server.service"
    assert os.readlink(wants) == "/etc/systemd/system/motcua-server.service"
    assert (root / "etc/systemd/system/timers.target.wants/motcua-backup.timer").is_symlink()
    unit = (root / "etc/systemd/system/motcua-server.service").read_text()
    assert "LoadCredential=broker:/etc/motcua/credentials/devices/motcua-server.toml" in unit
    assert "password" not in re.search(r"ExecStart=.*?(?<!\\)\n", unit, re.S).group(0).lower()
    assert (root / "opt/motcua/.venv/bin/motcua").exists()
    assert in_root(root, "/opt/motcua/.venv/bin/python -c 'import flask, queue_server'").returncode == 0
    assert in_root(root, "/opt/motcua/.venv/bin/python -c 'import kivy'", check=False).returncode != 0  # the server's extras only
    secrets_before = (root / "etc/motcua/credentials/secrets.toml").read_bytes()

    with timed("./setup.sh install all"):
        in_root(root, "cd /root/src && ./setup.sh install all", timeout=1500)
    users = passwd(root)
    assert groups_of(root, "motcua-kiosk") == {"input", "video", "render", "dialout", "lp"}
    assert groups_of(root, "motcua-tv") == {"video", "render", "input"}
    assert groups_of(root, "motcua-voice") == {"audio"}
    assert groups_of(root, "motcua-led") == {"dialout"}
    assert groups_of(root, "motcua-keypad") == {"gpio"}  # gpio created: plain Debian has none
    assert users["motcua-kiosk"][5] == "/home/motcua-kiosk" and (root / "home/motcua-kiosk").is_dir()
    for instance, target in (("motcua-kiosk@kiosk-01.service", "graphical.target"), ("motcua-tv.service", "graphical.target"),
                             ("motcua-voice@loa-01.service", "multi-user.target"), ("motcua-led@led-01.service", "multi-user.target"),
                             ("motcua-keypad@quay-01.service", "multi-user.target")):
        assert (root / f"etc/systemd/system/{target}.wants/{instance}").is_symlink(), instance
    assert (root / "etc/motcua/credentials/secrets.toml").read_bytes() == secrets_before  # no new passwords
    assert stat_of(root, "/etc/udev/rules.d/99-motcua.rules") == ("644", "root", "root")
    env = (root / "etc/motcua/motcua.env").read_text()
    assert "MOTCUA_BROKER=mqtt://127.0.0.1:1883" in env and "PASSWORD" not in env.upper().replace("BROKER PASSWORD", "")
    for module in ("kivy", "gpiozero", "serial", "flask"):
        in_root(root, f"/opt/motcua/.venv/bin/python -c 'import {module}'")
    for pkg in ("mosquitto", "espeak-ng", "chromium", "cage", "libgl1"):
        in_root(root, f"dpkg -s {pkg} >/dev/null")

    # Idempotent: the second run rewrites nothing, creates nobody, changes no mode.
    before = tree_hash(root)
    with timed("./setup.sh install all, second run"):
        again = in_root(root, "cd /root/src && ./setup.sh install all")
    assert "install all: nothing changed" in again.stderr, again.stderr
    after = tree_hash(root)
    assert {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)} == {}

    verify_units(root)
    number = run_office(root)
    upgrade_keeps_data(root, number)
    uninstall_keeps_data(root)
    device_box(root)
    print(f"\n[fresh root] timings: {json.dumps(timings)}")


def verify_units(root: Path) -> None:
    """systemd-analyze verify against the installed root: its binaries, users, targets and paths."""
    units = []
    for path in sorted((root / "etc/systemd/system").glob("motcua-*")):
        units.append(path.name.replace("@.", "@check."))
    for name in units:
        result = sh("systemd-analyze", "verify", f"--root={root}", name, check=False, cwd=root / "etc/systemd/system")
        assert result.returncode == 0 and result.stdout + result.stderr == "", f"{name}: {result.stdout}{result.stderr}"
    assert len(units) == 9  # server, backup service and timer, kiosk, tv, voice, led, keypad, rating


OFFICE_SCRIPT = r"""
mkdir -p /run/mosquitto && chown mosquitto:mosquitto /run/mosquitto
mosquitto -c /etc/mosquitto/mosquitto.conf -d
wait_port() { for i in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
wait_port 1883
# What LoadCredential= does: a copy readable by the unit's user only, in a directory systemd names %d.
cred=/run/credentials/motcua-server.service
install -d -m 0700 -o motcua -g motcua $cred
install -m 0400 -o motcua -g motcua /etc/motcua/credentials/devices/motcua-server.toml $cred/broker
EXEC=$(sed -n '/^ExecStart=/,/[^\\]$/p' /etc/systemd/system/motcua-server.service | sed 's/^ExecStart=//; s/\\$//' | tr -d '\n' | sed "s#%d#$cred#g")
cd /var/lib/motcua
runuser -u motcua -- env MOTCUA_CREDENTIALS=$cred/broker $EXEC --always-open > /tmp/server.log 2>&1 &
server=$!
wait_port 8080 || { cat /tmp/server.log >&2; exit 1; }
/opt/motcua/.venv/bin/python -c "import urllib.request, json; print('HEALTH', urllib.request.urlopen('http://127.0.0.1:8080/health').status)"
MOTCUA_CREDENTIALS=/etc/motcua/credentials/devices/kiosk-01.toml /opt/motcua/.venv/bin/motcua ticket --config /etc/motcua/office.toml \
    --device kiosk-01 --service HT --json > /tmp/ticket.json
echo "TICKET $(tr -d '\n' < /tmp/ticket.json)"
/opt/motcua/.venv/bin/motcua doctor --config /etc/motcua/office.toml > /tmp/doctor.txt || true
cat /tmp/doctor.txt
kill $server; wait $server || true
kill $(cat /run/mosquitto/mosquitto.pid)
"""


def run_office(root: Path) -> str:
    (root / "root/office.sh").write_text(OFFICE_SCRIPT)
    with timed("office in the chroot: broker, server, one ticket, doctor"):
        result = sh("unshare", "--net", "--", "sh", "-c", f"ip link set lo up && chroot {root} /usr/bin/env -i "
                    + " ".join(f"{k}={v}" for k, v in ENV.items()) + " /bin/bash -e /root/office.sh", timeout=300)
    assert "HEALTH 200" in result.stdout, result.stdout + result.stderr
    ticket = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("TICKET "))[7:])
    number = ticket["ticket"]["number"]
    assert re.fullmatch(r"\d{4}", number), ticket
    doctor = result.stdout
    assert re.search(r"^OK\s+broker\s+connected to 127.0.0.1:1883 as console", doctor, re.M), doctor
    assert re.search(r"^OK\s+database", doctor, re.M) and re.search(r"^FAIL\s+backup\s+no backup", doctor, re.M), doctor
    return number


def upgrade_keeps_data(root: Path, number: str) -> None:
    """A new release (here: one changed source file) is installed over the old one; the data stays."""
    init = root / "root/src/motcua/__init__.py"
    init.write_text(init.read_text() + "# a new release\n")
    with timed("./setup.sh install server, upgrade"):
        result = in_root(root, "cd /root/src && ./setup.sh install server")
    assert "backup before the upgrade" in result.stderr and "database at schema version" in result.stderr, result.stderr
    backups = list((root / "var/lib/motcua/backups").glob("pre-upgrade-*.db"))
    assert len(backups) == 1
    tickets = in_root(root, "/opt/motcua/.venv/bin/python -c \"import sqlite3; "
                      "print([r[0] for r in sqlite3.connect('/var/lib/motcua/motcua.db').execute('select number from tickets')])\"")
    assert number in tickets.stdout
    assert "a new release" in in_root(root, "cat $(/opt/motcua/.venv/bin/python -c 'import motcua; print(motcua.__file__)')").stdout


def uninstall_keeps_data(root: Path) -> None:
    in_root(root, "cd /root/src && ./setup.sh uninstall all")
    users = passwd(root)
    assert not any(u.startswith("motcua") for u in users)
    assert not (root / "opt/motcua/.venv").exists()
    assert not list((root / "etc/systemd/system").glob("motcua-*")) and not list((root / "etc/systemd/system").glob("*.wants/motcua-*"))
    assert (root / "var/lib/motcua/motcua.db").exists()  # the office's data stays without --purge


def device_box(root: Path) -> None:
    """A voice box that is not the server: only its own credential, copied from the server, and the server's address."""
    in_root(root, "cp /etc/motcua/credentials/devices/loa-01.toml /root/loa-01.toml && rm -r /etc/motcua/credentials")
    with timed("./setup.sh install voice on a device box"):
        result = in_root(root, "cd /root && ./src/setup.sh install voice --server 10.0.0.2 --device loa-01 --credential loa-01.toml")
    assert "no broker credential" not in result.stderr
    assert stat_of(root, "/etc/motcua/credentials/devices/loa-01.toml") == ("600", "root", "root")
    assert sorted(p.name for p in (root / "etc/motcua/credentials/devices").iterdir()) == ["loa-01.toml"]
    assert not (root / "etc/motcua/credentials/secrets.toml").exists()
    assert "MOTCUA_BROKER=mqtt://10.0.0.2:1883" in (root / "etc/motcua/motcua.env").read_text()
    assert (root / "etc/systemd/system/multi-user.target.wants/motcua-voice@loa-01.service").is_symlink()
    assert groups_of(root, "motcua-voice") == {"audio"} and "motcua" not in passwd(root)
    again = in_root(root, "cd /root && ./src/setup.sh install voice --server 10.0.0.2 --device loa-01 --credential loa-01.toml")
    assert "install voice: nothing changed" in again.stderr, again.stderr
