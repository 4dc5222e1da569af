"""Prometheus metrics (prometheus-client): what /metrics exposes.

Two kinds:
- process counters and histograms that the core feeds with one-line hooks
  (`metrics.request_error(code)` in office.py, `metrics.COMMIT_SECONDS.time()` around the
  store commit, `metrics.http_error(status)` in the web app);
- gauges read from the server's snapshot at scrape time (waiting per service, counters,
  devices, presence), so nothing is counted twice and nothing can drift from the state.

One server runs per process in production; the module-level counters are per process.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

disable_created_metrics()  # no *_created series: nobody graphs when a counter was born
_PROCESS = CollectorRegistry(auto_describe=True)

REQUEST_ERRORS = Counter(
    "motcua_request_errors", "MQTT requests answered with an error, by error code.", ["code"], registry=_PROCESS
)
HTTP_ERRORS = Counter("motcua_http_errors", "HTTP answers with a 4xx or 5xx status, by status.", ["status"], registry=_PROCESS)
COMMIT_SECONDS = Histogram(
    "motcua_store_commit_seconds", "Time to commit one batch to SQLite (fsync included).",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5), registry=_PROCESS,
)


def request_error(code: str) -> None:
    REQUEST_ERRORS.labels(code=code).inc()


def http_error(status: int) -> None:
    HTTP_ERRORS.labels(status=str(status)).inc()


class SnapshotCollector:
    """Gauges from one snapshot of the server (queue_server.server.QueueServer.current_snapshot())."""

    def __init__(self, snap: dict[str, Any], live_subscribers: int | None) -> None:
        self.snap = snap
        self.live_subscribers = live_subscribers

    def collect(self) -> Any:
        snap = self.snap
        office = snap["office"]

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=("office", *labels))

        connected = gauge("motcua_broker_connected", "1 when the server is connected to its MQTT broker.")
        connected.add_metric([office], int(snap["broker_connected"]))
        healthy = gauge("motcua_healthy", "1 when requests can be served (what /health says).")
        healthy.add_metric([office], int(snap.get("healthy", snap["broker_connected"])))
        issued = gauge("motcua_tickets_issued_today", "Tickets issued in the current business day.")
        issued.add_metric([office], snap["issued_today"])
        # A gauge, though it only grows: the name stays motcua_event_seq (a counter would gain _total).
        seq = gauge("motcua_event_seq", "Sequence number of the last stored event.")
        seq.add_metric([office], snap["last_seq"])
        waiting = gauge("motcua_waiting", "Tickets waiting per service.", ("service",))
        wait = gauge("motcua_estimated_wait_seconds", "Estimated wait for a newcomer per service.", ("service",))
        for code, s in snap["queue"]["services"].items():
            waiting.add_metric([office, code], s["waiting"])
            if s["estimated_wait_seconds"] is not None:
                wait.add_metric([office, code], s["estimated_wait_seconds"])
        counters = gauge("motcua_counter_status", "1 for the status each counter is in.", ("counter", "status"))
        for c in snap["counters"]:
            counters.add_metric([office, c["counter"], c["status"]], 1)
        faults = gauge("motcua_device_fault", "1 when a device component reports anything but ok.", ("device", "component", "state"))
        for key, d in snap["devices"].items():
            device, _, component = key.partition("/")
            faults.add_metric([office, device, component, d["state"]], int(d["state"] != "ok"))
        online = gauge("motcua_device_online", "1 when a device's presence topic says online.", ("device",))
        for device, status in sorted(snap["presence"].items()):
            online.add_metric([office, device], int(status == "online"))
        yield from (connected, healthy, issued, seq, waiting, wait, counters, faults, online)
        yield from _broker_metrics(office, snap.get("broker"))
        if self.live_subscribers is not None:
            live = gauge("motcua_live_subscribers", "Browser pages following the live stream (SSE) right now.")
            live.add_metric([office], self.live_subscribers)
            yield live


def _broker_metrics(office: str, broker: dict[str, Any] | None) -> Any:
    """Refusals by the broker the server runs, its restarts, and the server's own link recoveries."""
    if not broker:
        return
    refused = CounterMetricFamily("motcua_broker_refused", "Connections the broker run by the server refused, by reason.",
                                  labels=("office", "broker", "reason"))
    for reason in ("login", "connection_limit"):
        refused.add_metric([office, broker["kind"], reason], broker["refused"].get(reason, 0))
    restarts = CounterMetricFamily("motcua_broker_restarts", "Times the server started its Mosquitto again after it died.", labels=("office",))
    restarts.add_metric([office], broker["restarts"])
    recoveries = CounterMetricFamily("motcua_mqtt_recoveries", "Reconnections after the broker stopped delivering the server's requests.",
                                     labels=("office",))
    recoveries.add_metric([office], broker.get("recoveries", 0))
    yield from (refused, restarts, recoveries)


def exposition(snap: dict[str, Any], hub: Any = None) -> tuple[bytes, str]:
    """The /metrics body and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snap, getattr(hub, "followers", None)))
    return generate_latest(registry) + generate_latest(_PROCESS), CONTENT_TYPE_LATEST
