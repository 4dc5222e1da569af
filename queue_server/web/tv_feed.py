"""The TV feed: keeps `tv/rotation`, `tv/results` and `tv/figures` current in the live hub.

Why a push and not each TV polling `/api/dossiers/ready`: a results TV then follows the same
stream as the calls page (live.js: it recovers by itself after a restart or a Wi-Fi drop),
the database is read once per refresh for every TV of the office rather than once per TV,
and the lookup's per-address rate limit stays what it was made for (harvesters). One thread
of the server process does it: every CHECK_SECONDS it rebuilds the rotation if the
configuration, the files of <data>/tv/ or the catalogue changed, and every
`[tv] results_refresh_seconds` it reads the ready dossiers and this month's counts. The hub
passes on a document only when it differs from the last one.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from motcua import protocol as p
from queue_server.dossiers import db as dossier_db
from queue_server.procedures import db as pdb
from queue_server.reports.visits import ReportDB
from queue_server.web.tv_content import figures_document, media_dir, media_files, results_document, rotation_document

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
ROTATION, RESULTS, FIGURES = "tv/rotation", "tv/results", "tv/figures"


class TvFeed:
    """One per running server; `step()` does one round (tests call it directly)."""

    def __init__(self, server: Any, version: str, check_seconds: float = CHECK_SECONDS) -> None:
        self.server = server
        self.version = version
        self.check_seconds = check_seconds
        self.data_dir = Path(server.db_path).parent
        self.stopping: threading.Event = getattr(server, "stopping", None) or threading.Event()
        self._db: Any = None
        self._reports: ReportDB | None = None
        self._seen: tuple[Any, ...] | None = None
        self._next_results = 0.0
        self._thread: threading.Thread | None = None

    def start(self) -> TvFeed:
        self._thread = threading.Thread(target=self._run, name="tv-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    self.step()
                except Exception:  # a bad file or a locked database must not end the TVs' feed
                    log.exception("TV feed: a round failed; trying again in %.0f s", self.check_seconds)
                self.stopping.wait(self.check_seconds)
        finally:
            self._close()

    def step(self, force: bool = False) -> None:
        config = self.server.config
        db = self._connection()
        folder = media_dir(self.data_dir)
        seen = (config, tuple(media_files(folder)), pdb.revision(db))
        if force or seen != self._seen:
            self._seen = seen
            self.server.hub.publish_page_state(ROTATION, p.dumps(rotation_document(config, folder, db, self.version)))
        if force or time.monotonic() >= self._next_results:
            self._next_results = time.monotonic() + config.tv.results_refresh_seconds
            self.server.hub.publish_page_state(RESULTS, p.dumps(results_document(db, config)))
            reports = self._report_db(config)
            reports.refresh_dossiers()  # a short write: only the days of dossiers changed since the last round
            self.server.hub.publish_page_state(FIGURES, p.dumps(figures_document(reports.db, config, self.server.clock.now())))

    def _connection(self) -> Any:
        if self._db is None:
            self._db = dossier_db.connect(self.server.db_path)  # the dossier tables, as the dossiers blueprint makes them
            pdb.migrate(self._db)
        return self._db

    def _report_db(self, config: Any) -> ReportDB:
        if self._reports is None:
            self._reports = ReportDB(self.server.db_path, config)
        return self._reports

    def _close(self) -> None:
        for closing in (self._db, self._reports):
            if closing is not None:
                closing.close()
        self._db = self._reports = None
