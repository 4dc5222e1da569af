"""Debian's Mosquitto, started and supervised by the server with a configuration it writes.

The default broker of `motcua server` when Mosquitto is installed (`apt-get install
mosquitto`; `setup.sh` does it): per-device passwords and the ACL from
`motcua devices credentials`, client ids bound to user names, Nagle off, anonymous clients
refused. Its log goes to the server's log; if it dies it is started again (the server then
reconnects and republishes its retained state), and it dies with the server (PDEATHSIG).
docs/security.md says why this and not the embedded broker is the default.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from queue_server.broker import DEFAULT_MAX_CONNECTIONS, BrokerStartError, cannot_listen

log = logging.getLogger("queue_server.mosquitto")

CONF_FILE = "mosquitto.conf"
PID_FILE = "mosquitto.pid"
RESTART_DELAYS = (0.5, 1, 2, 5, 10)  # seconds before each further restart after a crash


def find_mosquitto() -> str | None:
    """Debian installs the broker in /usr/sbin, which is not on an ordinary user's PATH."""
    return shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None)


def render_conf(host: str, port: int, password_file: Path, acl_file: Path, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                run_as_root: bool = False) -> str:
    """The Mosquitto configuration of an office broker; also what firmware_config/mosquitto/ documents."""
    lines = [
        "# Written by the Một Cửa queue server at each start: change the server's options, not this file.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {password_file}",
        f"acl_file {acl_file}",
        f"listener {port} {host}",
        f"max_connections {max_connections if max_connections > 0 else -1}",
        "# A device can only ever replace its own connection, never the server's or another device's.",
        "use_username_as_clientid true",
        "# Small request/reply packets: Nagle + delayed ACKs add ~40 ms per leg otherwise.",
        "set_tcp_nodelay true",
        "# The server republishes all retained state whenever it connects; devices re-send on timeout.",
        "persistence false",
        "max_queued_messages 10000",
        "max_inflight_messages 1000",
        "log_dest stderr",
        *(f"log_type {kind}" for kind in ("error", "warning", "notice", "information")),
        "log_timestamp false",
        "connection_messages true",
    ]
    if run_as_root:
        # As root Mosquitto would switch to the `mosquitto` user, which cannot read the 0600
        # files of this server; run the server as its own user instead (systemd/ does).
        lines.append("user root")
    return "\n".join(lines) + "\n"


def _die_with_parent_thread() -> None:
    """In the child: get SIGTERM when the thread that started it ends, so no broker outlives the server."""
    _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


try:  # resolved before any fork: the child must not load libraries between fork and exec
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _PRCTL = None


class SupervisedMosquitto:
    """A Mosquitto child process on host:port, restarted when it dies, stopped with stop()."""

    kind = "mosquitto"

    def __init__(self, host: str, port: int, workdir: Path, password_file: Path, acl_file: Path,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, binary: str | None = None) -> None:
        self.host, self.port = host, port
        self.workdir = workdir.resolve()
        self.password_file, self.acl_file = password_file, acl_file
        self.max_connections = max_connections
        self.binary = binary or find_mosquitto()
        self.restarts = 0
        self.refusal_counts: collections.Counter[str] = collections.Counter()
        self._tail: collections.deque[str] = collections.deque(maxlen=20)
        self._proc: subprocess.Popen | None = None
        self._running = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def conf_file(self) -> Path:
        return self.workdir / CONF_FILE

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    @property
    def refusals(self) -> dict[str, int]:
        return dict(self.refusal_counts)

    def start(self, timeout: float = 10.0) -> None:
        if not self.binary:
            raise BrokerStartError("Mosquitto is not installed (apt-get install mosquitto), or use --run-broker embedded")
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self.conf_file.write_text(render_conf(self.host, self.port, self.password_file.resolve(), self.acl_file.resolve(),
                                              self.max_connections, run_as_root=os.geteuid() == 0), encoding="utf-8")
        self._stop_leftover()
        started: Future[None] = Future()
        self._thread = threading.Thread(target=self._supervise, args=(started, timeout), name="mosquitto", daemon=True)
        self._thread.start()
        started.result()  # _supervise bounds the wait by `timeout`

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        proc = self._proc
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread:
            self._thread.join(timeout)
        (self.workdir / PID_FILE).unlink(missing_ok=True)

    # --- supervision (all on one thread: PDEATHSIG follows the thread that forked) ----------

    def _supervise(self, started: Future[None], timeout: float) -> None:
        delays = iter(RESTART_DELAYS)
        delay = 0.0
        while not self._stopping.is_set():
            proc = self._spawn()
            if self._wait_listening(proc, timeout):
                if not started.done():
                    started.set_result(None)
                    log.info("Mosquitto %s listening on %s:%d (pid %d)", self.binary, self.host, self.port, proc.pid)
                else:
                    log.warning("Mosquitto restarted (pid %d, restart %d)", proc.pid, self.restarts)
                delays = iter(RESTART_DELAYS)
            elif not started.done():
                self._end(proc)
                why = self._last_error() or f"exited with code {proc.returncode}"
                started.set_exception(cannot_listen(self.host, self.port, why) if "in use" in why else BrokerStartError(f"Mosquitto did not start: {why}"))
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            self.restarts += 1
            delay = next(delays, RESTART_DELAYS[-1])
            log.error("Mosquitto exited with code %s (%s); starting it again in %.1f s", code, self._last_error() or "no message", delay)
            if self._stopping.wait(delay):
                return

    def _spawn(self) -> subprocess.Popen:
        proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf_file)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, errors="replace", preexec_fn=_die_with_parent_thread if _PRCTL else None,
            start_new_session=True,  # Ctrl+C in the terminal is for the server, which then stops its broker
        )
        self._proc = proc
        self._running = threading.Event()
        (self.workdir / PID_FILE).write_text(f"{proc.pid}\n")
        threading.Thread(target=self._read_log, args=(proc,), name="mosquitto-log", daemon=True).start()
        return proc

    def _wait_listening(self, proc: subprocess.Popen, timeout: float) -> bool:
        # Its own "running" line, not a test connection: another program on the port would answer that.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None and not self._stopping.is_set():
            if self._running.wait(0.02):
                return True
        return False

    def _end(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def _read_log(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.rstrip()
            self._tail.append(line)
            if line.startswith("mosquitto version") and line.endswith(" running") and proc is self._proc:
                self._running.set()  # written once every listener is open
            if "not authorised" in line:
                self.refusal_counts["login"] += 1
            elif "max_connections exceeded" in line:
                self.refusal_counts["connection_limit"] += 1
            if line.startswith(("Error", "Warning")) and "should not be run as root" not in line:
                log.warning("mosquitto: %s", line)
            else:
                log.debug("mosquitto: %s", line)

    def _last_error(self) -> str | None:
        time.sleep(0.05)  # let the log reader catch the last lines of a process that just ended
        return next((line.removeprefix("Error: ") for line in reversed(self._tail) if line.startswith("Error")), None)

    def _stop_leftover(self) -> None:
        """A Mosquitto of ours that survived its server (kill -9 before PDEATHSIG existed, say) would hold the port."""
        try:
            pid = int((self.workdir / PID_FILE).read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if str(self.conf_file).encode() in cmdline:
            log.warning("stopping a Mosquitto left over from an earlier run (pid %d)", pid)
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.05)
