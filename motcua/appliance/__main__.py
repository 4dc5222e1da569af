"""python3 -m motcua.appliance install ROLE | uninstall ROLE (what ./setup.sh install runs)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from motcua.appliance.install import InstallError, install, uninstall
from motcua.appliance.roles import ROLES


def main(argv: list[str] | None = None) -> int:
    roles = [*ROLES, "all"]
    parser = argparse.ArgumentParser(prog="./setup.sh", description="Install or remove the roles of a Một Cửa box.")
    sub = parser.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="install or upgrade a role (idempotent)")
    inst.add_argument("role", choices=roles)
    inst.add_argument("--office-config", type=Path, help="office.toml to install as /etc/motcua/office.toml (an existing one is kept)")
    inst.add_argument("--server", help="host or address of the office server (device boxes); default 127.0.0.1")
    inst.add_argument("--device", help="this box's device id in office.toml (default: the first device of the role)")
    inst.add_argument("--credential", type=Path, help="this device's credentials file, from the server's /etc/motcua/credentials/devices/")
    rm = sub.add_parser("uninstall", help="remove a role's units, user and (when no role is left) the virtualenv")
    rm.add_argument("role", choices=roles)
    rm.add_argument("--purge", action="store_true", help="also delete /var/lib/motcua (the office's database and backups) and the credentials")
    args = parser.parse_args(argv)
    caller = Path(os.environ.get("MOTCUA_CALLER_PWD", "."))  # setup.sh runs from its own directory
    for name in ("office_config", "credential"):
        if getattr(args, name, None) is not None:
            setattr(args, name, caller / getattr(args, name))
    try:
        if args.command == "install":
            report = install(args.role, args.office_config, args.server, args.device, args.credential)
        else:
            report = uninstall(args.role, args.purge)
    except (InstallError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.command} {args.role}: {len(report.changes) or 'nothing'} changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
