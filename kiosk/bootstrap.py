"""Wire one kiosk: link, HTTP, pending store, printer, scanner and flows. Tests pass their own parts here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.adapters import Printer, Scanner, open_printer, open_scanner
from kiosk.flows.procedures import ProcedureCache, ProcedureLookup
from kiosk.flows.take_number import PrinterReporter, TakeNumber
from kiosk.http_api import HttpApi
from kiosk.link import ServerLink
from kiosk.pending import PendingStore
from kiosk.settings import KioskSettings
from motcua.broker_url import BrokerURL
from motcua.settings import OfficeRef


@dataclass
class Kiosk:
    settings: KioskSettings
    office: OfficeRef
    link: ServerLink
    http: HttpApi
    printer: Printer
    scanner: Scanner | None
    take_number: TakeNumber
    procedures: ProcedureLookup
    simulate: bool = False

    def close(self) -> None:
        if self.scanner is not None and hasattr(self.scanner, "close"):
            self.scanner.close()
        self.link.close()


def build(settings: KioskSettings, office: OfficeRef, broker: BrokerURL, simulate: bool = False,
          printer: Printer | None = None, scanner: Scanner | None = None, print_folder: Path | None = None) -> Kiosk:
    """Everything a kiosk runs on; the link is started by the caller (the app, or a test)."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    counter = settings.counter if settings.mode == "counter" else None
    link = ServerLink(broker, office, settings.device, counter=counter)
    http = HttpApi(settings.server_url)
    if printer is None and settings.mode == "entrance":
        printer = open_printer(settings.printer, simulate, print_folder or settings.state_dir / "printed")
    if scanner is None and settings.mode == "entrance":
        scanner = open_scanner(settings.scanner, simulate)
    reporter = PrinterReporter(link, settings.request_timeout)
    take = TakeNumber(link, PendingStore(settings.state_dir), printer, settings, reporter)  # type: ignore[arg-type]
    lookup = ProcedureLookup(http, ProcedureCache(settings.state_dir))
    return Kiosk(settings, office, link, http, printer, scanner, take, lookup, simulate)  # type: ignore[arg-type]
