"""A report as titled tables with typed cells: the one layout that CSV, XLSX and PDF render.

Cells are ints, texts, `Minutes` or `Share`; each renderer formats them its own way (XLSX keeps
numbers as numbers with a format, the PDF writes Vietnamese decimals "8,8" and "75,0%").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from motcua import i18n


@dataclass(frozen=True)
class Minutes:
    seconds: float | None

    @property
    def value(self) -> float | None:
        return None if self.seconds is None else round(self.seconds / 60, 1)


@dataclass(frozen=True)
class Share:
    fraction: float | None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str | None = None


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.text(f"report.{key}", lang, **params)


def queue_columns(report: dict[str, Any], first: str, lang: str) -> list[str]:
    minutes = _fmt_number(report["targets"]["wait_target_minutes"])
    return [_t(f"col.{first}", lang), _t("col.issued", lang), _t("col.served", lang), _t("col.no_shows", lang),
            _t("col.transferred", lang), _t("col.mean_wait", lang), _t("col.p90_wait", lang),
            _t("col.within_target", lang, minutes=minutes), _t("col.mean_service", lang), _t("col.votes", lang),
            _t("col.satisfaction", lang)]


def queue_row(label: str, r: dict[str, Any]) -> list[Any]:
    return [label, r["issued"], r["served"], r["no_shows"], r["transferred"], Minutes(r["mean_wait_seconds"]),
            Minutes(r["p90_wait_seconds"]), Share(r["within_target_share"]), Minutes(r["mean_service_seconds"]), r["votes"],
            Share(r["satisfaction_share"])]


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def _date(value: str | None, tz: Any) -> str:
    if not value:
        return ""
    if len(value) == 10:
        return datetime.fromisoformat(value).strftime("%d/%m/%Y")
    return datetime.fromisoformat(value).astimezone(tz).strftime("%d/%m/%Y %H:%M")


def tables(report: dict[str, Any], tz: Any, lang: str = "vi") -> list[Table]:
    """Every table of the report, in the order the PDF prints them."""
    out = [targets_table(report, lang)]
    summary = Table("summary", _t("section.summary", lang), queue_columns(report, "period", lang))
    summary.rows.append(queue_row(_t("range", lang, start=_date(report["from"], tz), end=_date(report["to"], tz)), report["summary"]))
    out.append(summary)
    period_name = _t(f"period.{report['period']}", lang)
    by_period = Table("by_period", _t("section.by_period", lang, period=period_name), queue_columns(report, "period", lang))
    by_period.rows = [queue_row(r["label"], r) for r in report["by_period"]]
    out.append(by_period)
    for key, first in (("by_field", "field"), ("by_counter", "counter"), ("by_official", "official")):
        table = Table(key, _t(f"section.{key}", lang), queue_columns(report, first, lang))
        table.rows = [queue_row(r.get("name", r["key"]), r) for r in report[key]]
        out.append(table)
    reasons = Table("reasons", _t("section.reasons", lang), [_t("col.reason", lang), _t("col.count", lang), _t("col.very_satisfied", lang),
                                                            _t("col.satisfied", lang), _t("col.unsatisfied", lang)])
    reasons.rows = [[r["name"] if lang == "vi" else (r["name_en"] or r["name"]), r["count"], r["very_satisfied"], r["satisfied"],
                     r["unsatisfied"]] for r in report["reasons"]]
    out.append(reasons)
    out += dossier_tables(report, tz, lang)
    prod = Table("productivity", _t("section.productivity", lang), [
        _t("col.official", lang), _t("col.dossiers_received", lang), _t("col.visits_served", lang), _t("col.target", lang),
        _t("col.share_of_target", lang)])
    prod.rows = [[f"{p.get('name') or p['official']} {_t('basis.' + p['basis'], lang)}".strip(), p["dossiers_received"], p["visits_served"],
                  round(p["target"], 1), Share(p["share_of_target"])] for p in report["productivity"]]
    prod.note = _t("target_note", lang, target=f"{report['targets']['yearly_dossiers_per_official']:,}".replace(",", "."),
                   area=_t(f"area.{report['targets']['area']}", lang))
    out.append(prod)
    return out


def targets_table(report: dict[str, Any], lang: str) -> Table:
    t = report["targets"]
    waits = report["waits"]
    s = report["summary"]
    verdict = lambda ok: _t("met" if ok else "not_met", lang)  # noqa: E731
    table = Table("targets", _t("section.targets", lang), [_t("col.measure", lang), _t("col.value", lang), _t("col.goal", lang), _t("col.met", lang)])
    table.rows.append([_t("row.mean_wait_2025", lang), Minutes(s["mean_wait_seconds"]),
                       _t("goal.at_most_minutes", lang, minutes=_fmt_number(t["wait_target_minutes"])), verdict(waits["target_2025"]["met"])])
    table.rows.append([_t("row.limit_2022", lang, minutes=_fmt_number(t["wait_limit_minutes"])), Share(s["within_limit_share"]),
                       _t("goal.all", lang), verdict(waits["target_2022"]["met"])])
    table.rows.append([_t("row.satisfaction", lang), Share(s["satisfaction_share"]),
                       _t("goal.share", lang, share=f"{t['satisfaction_target']:.0%}"),
                       # no vote yet: nothing to judge (as the dashboard's "—"), not "not met"
                       _t("unknown", lang) if s["satisfaction_share"] is None else verdict(s["meets_satisfaction_target"])])
    d = report["dossiers"]["summary"]
    if report["dossiers"]["available"]:
        nothing_due = d["on_time_share"] is None and d["overdue"] == 0  # no dossier settled or overdue: nothing to judge
        table.rows.append([_t("row.on_time", lang), Share(d["on_time_share"]), _t("goal.all", lang),
                           _t("unknown", lang) if nothing_due else verdict(d["settled_late"] == 0 and d["overdue"] == 0)])
    return table


def dossier_tables(report: dict[str, Any], tz: Any, lang: str) -> list[Table]:
    d = report["dossiers"]
    cols = [_t("col.received", lang), _t("col.settled", lang), _t("col.on_time", lang), _t("col.late", lang), _t("col.overdue", lang),
            _t("col.needs_documents", lang), _t("col.on_time_share", lang)]

    def row(label: str, r: dict[str, Any]) -> list[Any]:
        return [label, r["received"], r["settled"], r["settled_on_time"], r["settled_late"], r["overdue"], r["needs_documents"],
                Share(r["on_time_share"])]

    summary = Table("dossiers", _t("section.dossiers", lang), [_t("col.period", lang), *cols])
    if not d["available"]:
        summary.note = _t("no_dossier_data", lang)
        return [summary]
    summary.rows.append(row(_t("range", lang, start=_date(report["from"], tz), end=_date(report["to"], tz)), d["summary"]))
    out = [summary]
    for key, first, label_of in (("by_field", "field", lambda r: r.get("name", r["key"])), ("by_period", "period", lambda r: r["label"]),
                                 ("by_official", "official", lambda r: r["key"])):
        table = Table(f"dossiers_{key}", _t(f"section.dossiers_{key}", lang), [_t(f"col.{first}", lang), *cols])
        table.rows = [row(label_of(r), r) for r in d[key]]
        out.append(table)
    late = Table("late", _t("section.late", lang), [_t("col.code", lang), _t("col.procedure", lang), _t("col.field", lang),
                                                     _t("col.official", lang), _t("col.due", lang), _t("col.finished", lang),
                                                     _t("col.apology", lang)])
    for r in d["late"]:
        apology = {True: _t("yes", lang), False: _t("no", lang), None: _t("unknown", lang)}[r["apology_sent"]]
        finished = _t("still_open", lang) if r["still_open"] else _date(r["finished_at"], tz)
        late.rows.append([r["code"], r["procedure_name"] or "", r.get("field_name", r["field"]), r["official"], _date(r["due_at"], tz),
                          finished, apology])
    out.append(late)
    return out
