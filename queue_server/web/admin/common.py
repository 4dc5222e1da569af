"""What every admin page shares: the blueprint, who may see and change, rendering, acting through the engine."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, make_response, redirect, request, url_for

from motcua import i18n
from motcua import protocol as p
from queue_server.config_edit import EditError, position, refused_field
from queue_server.live import TopicFilter
from queue_server.staff import ADMINISTRATOR, MANAGER
from queue_server.web.auth import acting_device, add_home_link, current_staff, requires
from queue_server.web.pages import page_language, render_page
from queue_server.web.support import office

bp = Blueprint("admin", __name__, url_prefix="/admin")

viewers = requires(ADMINISTRATOR, MANAGER)  # managers see every page, read-only
editors = requires(ADMINISTRATOR)  # every POST that changes something

# Edits read the document in force and send a changed copy: two at once must not lose one.
_configure_lock = threading.Lock()

NAV = (
    ("admin.overview", "admin.nav.overview"),
    ("admin.day", "admin.nav.day"),
    ("admin.services", "admin.nav.services"),
    ("admin.counters", "admin.nav.counters"),
    ("admin.staff", "admin.nav.staff"),
    ("admin.devices", "admin.nav.devices"),
    ("admin.hours", "admin.nav.hours"),
    ("admin.procedures", "admin.nav.procedures"),
    ("admin.misses", "admin.nav.misses"),
)
add_home_link("admin.overview", "admin.title", ADMINISTRATOR, MANAGER)  # on the page staff see after signing in
DONE = frozenset({"saved", "removed", "notice", "imported", "cleared", "closed", "opened"})


def t(key: str, **params: Any) -> str:
    """A catalog text in the page's language (Vietnamese unless ?lang=en)."""
    return i18n.text(key, page_language(), **params)


class Form:
    """What a submitted form said, with its errors: by field (shown next to it) and for the whole form."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})
        self.errors: dict[str, str] = {}
        self.general: list[str] = []

    @classmethod
    def posted(cls) -> Form:
        return cls({k: v.strip() for k, v in request.form.items() if k != "csrf_token"})

    def get(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def error(self, field: str, key: str, **params: Any) -> None:
        self.errors.setdefault(field, t(key, **params))

    def whole_number(self, name: str, low: int, high: int, required: bool = True) -> int | None:
        text = str(self.get(name, "")).strip()
        if not text and not required:
            return None
        if not text.isdigit() or not low <= int(text) <= high:
            self.error(name, "admin.form.whole_number", low=low, high=high)
            return None
        return int(text)

    def required(self, name: str) -> str:
        value = str(self.get(name, "")).strip()
        if not value:
            self.error(name, "admin.form.required")
        return value

    @property
    def ok(self) -> bool:
        return not self.errors and not self.general


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An admin page in the staff layout (the person, sign-out, the CSRF token), with the admin menu."""
    staff = current_staff()
    done = request.args.get("done")
    html = render_page(
        f"admin/{template}", editable=staff is not None and staff.role == ADMINISTRATOR, nav=NAV, active_nav=_active_nav(),
        done=t(f"admin.done.{done}") if done in DONE else None, **context,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # a back button must not show a stale configuration
    return response


def _active_nav() -> str | None:
    """The menu entry of this page: the one whose address is the longest start of this request's path."""
    paths = [(url_for(endpoint), endpoint) for endpoint, _ in NAV]
    matching = [(len(path), endpoint) for path, endpoint in paths if request.path == path or request.path.startswith(path + "/")]
    return max(matching)[1] if matching else None


def done(endpoint: str, what: str = "saved", **values: Any) -> Response:
    """After a change: back to the page (POST-redirect-GET), with a line saying it took effect."""
    # "#top": a form sent from below a long table came with its own fragment, which a redirect would keep.
    return redirect(url_for(endpoint, done=what, _anchor="top", **values))


def act(op: str, **fields: Any) -> dict[str, Any]:
    """One operation through the engine as device `web-admin` (role admin) carrying the signed-in
    person, whom the event log records; the reply after the commit."""
    return office().server.request(acting_device("admin"), op, **fields)


def change_configuration(edit: Callable[[dict[str, Any]], dict[str, Any]], form: Form, section: str,
                         item: tuple[str, str] | None = None) -> bool:
    """Send edit(document in force) to the engine as `office.configure`.

    On refusal the engine's message (it names the key) goes next to the form field it names,
    else on top of the form. `item` = (key, value) finds the edited table's index in `section`.
    """
    with _configure_lock:
        try:
            document = edit(office().config.source)
        except EditError as err:
            form.error(err.field, err.key, **err.params)
            return False
        reply = act("office.configure", document=document)
    if reply["ok"]:
        return True
    error = reply["error"]
    index = position(document, section, *item) if item else None
    field = refused_field(error.get("params", {}).get("detail", ""), section, index)
    if field is not None:
        form.errors[field] = error["message"]
    else:
        form.general.append(error["message"])
    return False


def refusal_text(reply: dict[str, Any]) -> str:
    return reply["error"]["message"]


def retained(topic: str) -> dict[str, Any] | None:
    """A retained payload as devices see it (`office`, `queue`, `counter/Q1`...), from the live hub."""
    change = office().hub.snapshot(TopicFilter([topic]))["topics"].get(topic)
    return p.decode_json(change.data) if change is not None and change.data else None


def office_info() -> p.OfficeInfo | None:
    data = retained("office")
    return p.OfficeInfo.from_payload(data) if data else None


def local_now() -> datetime:
    server = office()
    return server.clock.now().astimezone(server.config.tz)


def next_reset(now: datetime) -> datetime:
    """When the business day next starts (the engine rolls it at [office] day_reset, local time)."""
    reset = office().config.day_reset
    candidate = now.replace(hour=reset.hour, minute=reset.minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


@bp.app_template_filter("vn_date")
def vn_date(value: Any) -> str:
    """2026-11-23 (or a date/datetime) as 23/11/2026."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y") if value else ""
