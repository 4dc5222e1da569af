"""What leaves the office for the province, and nothing more.

Events go as `StoredEvent.public()` (no vote or public tokens), without the device's request
id, and scrubbed once more of any key that names a token or a citizen's digits, so a field
added to an event later cannot leak by default. Dossiers go as their public fields: the
masked name, never the last digits of the ID number or phone, the missing documents or a
rejection reason (those need the second factor, which only the office can check).
"""

from __future__ import annotations

import re
from typing import Any

from queue_server.config import OfficeConfig
from queue_server.dossiers.lookup import counter_name
from queue_server.dossiers.model import Dossier
from queue_server.dossiers.privacy import mask_name
from queue_server.store import SECRET_FIELDS, StoredEvent

# Keys never exported, at any depth: tokens, and anything that holds a citizen's number.
PRIVATE_KEY = re.compile(r"(token|secret|password|last4|id_number|phone|cccd|cmnd)", re.IGNORECASE)


def scrub(value: Any) -> Any:
    """A copy without private keys, recursively."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in SECRET_FIELDS and not PRIVATE_KEY.search(str(k))}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def province_event(event: StoredEvent) -> dict[str, Any]:
    """One event as the province receives it."""
    out = event.public()
    out.pop("request_id", None)
    out["data"] = scrub(out["data"])
    return out


def province_dossier(dossier: Dossier, change: int, config: OfficeConfig) -> dict[str, Any]:
    """One dossier's public state as the province keeps it (enough to answer a citizen anywhere)."""
    finished = dossier.finished_at
    return {
        "code": dossier.code,
        "change": change,
        "updated_at": dossier.updated_at.isoformat(),
        "status": dossier.status,
        "status_at": dossier.status_at.isoformat(),
        "procedure_code": dossier.procedure_code,
        "procedure_name": dossier.procedure_name,
        "received_at": dossier.received_at.isoformat(),
        "due_at": dossier.due.value if dossier.due else None,
        "applicant": mask_name(dossier.applicant_name),
        "return_counter": dossier.return_counter,
        "return_counter_name": counter_name(config, dossier.return_counter),
        "return_service": dossier.return_service,
        "source_late": dossier.late,
        "finished_at": finished.isoformat() if finished else None,
        # Lateness of a decided dossier is fixed at its decision; an open one is judged at the hub, live.
        "late": dossier.is_late(finished, config.tz) if finished else None,
    }
