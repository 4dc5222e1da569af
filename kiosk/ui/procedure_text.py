"""One procedure as blocks of text for the details screen: what to bring first, then time, fees, steps, forms.

Plain Python (no Kivy) so it is tested without a window. Labels come from the kiosk catalogs,
the content from the catalogue (Vietnamese, as the office published it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.payloads import Office


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "heading", "text", "qr" (text is the URL)
    text: str


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def document_line(doc: Any, tr: Callable[..., str]) -> str:
    if not isinstance(doc, dict):
        return f"\u2022 {doc}"
    kind = doc.get("kind")
    parts = [str(doc.get("name", ""))]
    if kind in ("original", "copy", "original_or_copy"):
        parts.append(f"({tr('kiosk.document.' + kind)})")
    count = doc.get("count")
    if isinstance(count, int) and count > 1:
        parts.append(tr("kiosk.document.count", count=count))
    if doc.get("note"):
        parts.append(f"- {doc['note']}")
    return "\u2022 " + " ".join(parts)


def procedure_blocks(proc: dict[str, Any], office: Office, tr: Callable[..., str], lang: str,
                     absolute_url: Callable[[str], str]) -> list[Block]:
    blocks = [Block("title", str(proc.get("name", "")))]
    if proc.get("sample"):
        blocks.append(Block("text", tr("kiosk.procedure.sample")))
    facts = [
        ("kiosk.procedure.field", proc.get("field")),
        ("kiosk.procedure.processing_time", proc.get("processing_time")),
        ("kiosk.procedure.agency", proc.get("agency")),
        ("kiosk.procedure.result", proc.get("result")),
    ]
    blocks += [Block("text", f"{tr(key)}: {value}") for key, value in facts if value]

    service = proc.get("service")
    counters = [c.name for c in office.counters_for(service, priority=False)] if isinstance(service, str) else []
    where = ", ".join(counters) if counters else tr("kiosk.procedure.where_office")
    blocks += [Block("heading", tr("kiosk.procedure.where")), Block("text", where)]

    documents = [document_line(d, tr) for d in _items(proc.get("documents"))]
    if documents:
        blocks += [Block("heading", tr("kiosk.procedure.documents")), Block("text", "\n".join(documents))]
    fees = [f"\u2022 {f.get('name') or tr('kiosk.procedure.fee')}: {f.get('amount', '')}" if isinstance(f, dict) else f"\u2022 {f}"
            for f in _items(proc.get("fees"))]
    if fees:
        blocks += [Block("heading", tr("kiosk.procedure.fees")), Block("text", "\n".join(fees))]
    steps = [f"{i}. {s}" for i, s in enumerate(_items(proc.get("steps")), 1)]
    if steps:
        blocks += [Block("heading", tr("kiosk.procedure.steps")), Block("text", "\n".join(steps))]
    forms = [f for f in _items(proc.get("forms")) if isinstance(f, dict) and f.get("name")]
    if forms:
        blocks += [Block("heading", tr("kiosk.procedure.forms")), Block("text", tr("kiosk.procedure.forms_hint"))]
        for form in forms:
            blocks.append(Block("text", f"\u2022 {form['name']}"))
            path = form.get("url") or (f"/procedures/forms/{proc.get('code')}/{form['file']}" if form.get("file") else None)
            if path:
                blocks.append(Block("qr", absolute_url(path)))
    return blocks
