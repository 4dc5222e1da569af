#!/usr/bin/env bash
# Một Cửa QMS setup on Debian 12 / Raspberry Pi OS.
#   ./setup.sh demo   create .venv, install, run a whole office on this machine
#   ./setup.sh test   install what the tests need (apt packages when root), run pytest
#   ./setup.sh bench  run the benchmarks (writes docs/performance.md)
#   ./setup.sh kiosk  install the touchscreen kiosk's needs, then run `motcua kiosk` with the given options
#   ./setup.sh install ROLE [--office-config FILE] [--server HOST] [--device ID] [--credential FILE]
#                     install or upgrade a box: server, kiosk, tv, voice, led, keypad or all (docs/technician.md)
#   ./setup.sh uninstall ROLE [--purge]   remove a role (the office's data stays unless --purge)
set -euo pipefail
CALLER_PWD=$PWD  # install's file arguments are relative to where the technician typed the command
cd "$(dirname "$0")"

VENV=${MOTCUA_VENV:-.venv}
PY=${PYTHON:-python3}
# What Kivy's PyPI wheel loads from the system (it bundles SDL2): OpenGL/EGL/GLES and Mesa's drivers,
# the X11 libraries SDL2 opens, DRM/GBM for a screen without X, mtdev for touchscreens; a font with
# full Vietnamese coverage.
APT_KIOSK_PACKAGES=(libgl1 libegl1 libgles2 libgl1-mesa-dri libgbm1 libdrm2 libx11-6 libxext6 libxcursor1 libxi6
  libxfixes3 libxrandr2 libxss1 libmtdev1 fonts-dejavu-core)
APT_TEST_PACKAGES=(mosquitto mosquitto-clients chromium chromium-driver zbar-tools libusb-1.0-0 espeak-ng sox poppler-utils xvfb xauth
  "${APT_KIOSK_PACKAGES[@]}")  # zbarimg reads printed QR codes; sox measures WAVs; pdftoppm renders PDF reports
# The demo's broker: Debian's Mosquitto, run by the server (without it, the embedded broker).
APT_DEMO_PACKAGES=(mosquitto)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Province tests and benchmark: a 3-node NATS cluster, a throwaway PostgreSQL, the big screen in chromium.
APT_TEST_PACKAGES+=(nats-server postgresql-15 chromium)
# The appliance tests: a fresh Debian root (debootstrap) and systemd-analyze verify of the units.
APT_TEST_PACKAGES+=(debootstrap systemd openssl)

need_python() {
  if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "Python 3.11 or newer is required (found: $($PY --version 2>&1 || echo none))"
    if [ "$(id -u)" = 0 ]; then apt_install python3 python3-venv; else exit 1; fi
  fi
  "$PY" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "Please install: sudo apt-get install ${missing[*]}"
    return 1
  fi
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

venv() {
  need_python
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV"
    "$PY" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  say "installing motcua ($1)"
  "$VENV/bin/python" -m pip install -q -e ".[$1]" 2>&1 | grep -v '^WARNING: Location' >&2 || true
  "$VENV/bin/python" -c 'import motcua, queue_server' || { say "install failed"; exit 1; }
}

case "${1:-}" in
  demo)
    apt_install "${APT_DEMO_PACKAGES[@]}" || say "without Mosquitto the demo runs the embedded broker (slower; docs/security.md)"
    apt_install "${APT_KIOSK_PACKAGES[@]}" || say "the kiosk window needs: ${APT_KIOSK_PACKAGES[*]}"
    venv embedded-broker,kiosk,reports  # the kiosk window and the XLSX/PDF report downloads
    shift
    say "starting the demo office (Ctrl+C to stop)"
    exec "$VENV/bin/motcua" demo "$@"
    ;;
  test)
    apt_install "${APT_TEST_PACKAGES[@]}" || say "some tests need: ${APT_TEST_PACKAGES[*]}"
    venv test
    shift
    say "ruff"
    "$VENV/bin/ruff" check .
    say "pytest"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  bench)
    apt_install "${APT_TEST_PACKAGES[@]}"
    venv test
    shift
    exec "$VENV/bin/python" bench/run_all.py "$@"
    ;;
  kiosk)
    apt_install "${APT_KIOSK_PACKAGES[@]}"
    venv kiosk
    shift
    exec "$VENV/bin/motcua" kiosk "$@"
    ;;
  install|uninstall)
    # The installer is motcua/appliance (standard library only), run with Debian's python3.
    [ "$(id -u)" = 0 ] || { say "run as root: sudo ./setup.sh $*"; exit 1; }
    PY=/usr/bin/python3 need_python
    exec env PYTHONPATH="$PWD" MOTCUA_CALLER_PWD="$CALLER_PWD" /usr/bin/python3 -m motcua.appliance "$@"
    ;;
  *)
    echo "usage: ./setup.sh demo | test | bench | kiosk [OPTIONS] | install ROLE | uninstall ROLE" >&2
    exit 2
    ;;
esac
