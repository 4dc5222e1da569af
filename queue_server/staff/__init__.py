"""Staff accounts: who may sign in to the web pages and serve at which counter.

    model.py      roles, StaffMember, the checks on ids, names and passwords (no I/O)
    passwords.py  argon2id hashing (argon2-cffi); never logs or keeps a password
    store.py      the component's tables in the office database: accounts, their counters, web sessions
    accounts.py   changes to accounts (validated and hashed first, then applied by the one writer)
    setup.py      the one-time setup link of a new office (no default password, ever)
    cli.py        `motcua staff add | list | passwd | set | setup-link`

The web side (login, sessions, CSRF, `@requires`) is queue_server/web/auth.py; docs/staff.md
explains both for the technician and docs/web.md for page authors.
"""

from queue_server.staff.model import ADMINISTRATOR, MANAGER, OFFICIAL, ROLES, StaffError, StaffMember
from queue_server.staff.store import StaffStore

__all__ = ["ADMINISTRATOR", "MANAGER", "OFFICIAL", "ROLES", "StaffError", "StaffMember", "StaffStore"]
