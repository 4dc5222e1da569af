"""The HTTP side: health, state and event-log JSON, Prometheus metrics.

The pages (counter, TV, admin, reports) come in later issues as blueprints on this
same app. Every asset is served locally: offices may have no Internet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from queue_server import features
from queue_server.store import Store

if TYPE_CHECKING:
    from queue_server.server import QueueServer


# Feature modules append a function (app, server) -> None that registers their routes.
BLUEPRINTS: list[Callable[[Flask, QueueServer], None]] = []


def create_app(server: QueueServer) -> Flask:
    app = Flask(__name__)
    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON
    local = threading.local()

    def reader() -> Store:
        # One read connection per HTTP thread; WAL lets it read while the worker writes.
        if getattr(local, "store", None) is None:
            local.store = Store(server.db_path, server.config.id)
        return local.store

    for register in BLUEPRINTS:
        register(app, server)
    for feature in features.modules():
        feature.register_web(app, server)

    @app.errorhandler(HTTPException)
    def api_errors_are_json(error: HTTPException) -> Any:
        # Kiosks and integrators parse /api answers: never hand them Flask's HTML error page.
        if not request.path.startswith("/api/"):
            return error
        messages = {
            404: ("Không tìm thấy địa chỉ này.", "No such address."),
            405: ("Phương thức không được hỗ trợ ở địa chỉ này.", "Method not allowed here."),
            413: ("Dữ liệu gửi lên quá lớn.", "The request body is too large."),
        }
        vi, en = messages.get(error.code or 500, (error.description or "Lỗi.", error.description or "Error."))
        body = {"ok": False, "error": {"code": (error.name or "error").lower().replace(" ", "_"), "message": vi, "message_en": en}}
        return jsonify(body), error.code

    @app.get("/health")
    def health() -> Any:
        # 503 whenever requests cannot be served (broker gone, session or subscriptions lost, worker stuck).
        snap = server.current_snapshot()
        ok = snap["healthy"]
        body = {"ok": ok, "office": snap["office"], "broker_connected": snap["broker_connected"], "last_seq": snap["last_seq"],
                "problem": snap["problem"]}
        return jsonify(body), 200 if ok else 503

    @app.get("/api/state")
    def state() -> Any:
        return jsonify(server.current_snapshot())

    @app.get("/api/events")
    def events() -> Any:
        try:
            after = int(request.args.get("after", 0))
            limit = min(int(request.args.get("limit", 500)), 5000)
        except ValueError:
            error = {"code": "bad_request", "message": "Tham số after và limit phải là số nguyên.",
                     "message_en": "after and limit must be whole numbers."}
            return jsonify({"ok": False, "error": error}), 400
        rows = [e.public() for e in reader().events_after(after, limit)]
        return jsonify({"events": rows, "last_seq": rows[-1]["seq"] if rows else after})

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(prometheus_text(server.current_snapshot()), mimetype="text/plain; version=0.0.4")

    return app


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def prometheus_text(snap: dict[str, Any]) -> str:
    office = _label(snap["office"])
    lines = [
        "# HELP motcua_broker_connected 1 when the server is connected to its MQTT broker.",
        "# TYPE motcua_broker_connected gauge",
        f'motcua_broker_connected{{office="{office}"}} {int(snap["broker_connected"])}',
        "# HELP motcua_healthy 1 when requests can be served (what /health says).",
        "# TYPE motcua_healthy gauge",
        f'motcua_healthy{{office="{office}"}} {int(snap["healthy"])}',
        *_broker_lines(office, snap["broker"]),
        "# HELP motcua_tickets_issued_today Tickets issued in the current business day.",
        "# TYPE motcua_tickets_issued_today gauge",
        f'motcua_tickets_issued_today{{office="{office}"}} {snap["issued_today"]}',
        "# HELP motcua_event_seq Sequence number of the last stored event.",
        "# TYPE motcua_event_seq counter",
        f'motcua_event_seq{{office="{office}"}} {snap["last_seq"]}',
        "# HELP motcua_waiting Tickets waiting per service.",
        "# TYPE motcua_waiting gauge",
    ]
    for code, s in snap["queue"]["services"].items():
        lines.append(f'motcua_waiting{{office="{office}",service="{_label(code)}"}} {s["waiting"]}')
    lines += ["# HELP motcua_estimated_wait_seconds Estimated wait for a newcomer per service.",
              "# TYPE motcua_estimated_wait_seconds gauge"]
    for code, s in snap["queue"]["services"].items():
        if s["estimated_wait_seconds"] is not None:
            lines.append(f'motcua_estimated_wait_seconds{{office="{office}",service="{_label(code)}"}} {s["estimated_wait_seconds"]}')
    lines += ["# HELP motcua_counter_status 1 for the status each counter is in.", "# TYPE motcua_counter_status gauge"]
    for c in snap["counters"]:
        lines.append(f'motcua_counter_status{{office="{office}",counter="{_label(c["counter"])}",status="{c["status"]}"}} 1')
    lines += ["# HELP motcua_device_fault 1 when a device component reports anything but ok.",
              "# TYPE motcua_device_fault gauge"]
    for key, d in snap["devices"].items():
        device, _, component = key.partition("/")
        fault = int(d["state"] != "ok")
        lines.append(
            f'motcua_device_fault{{office="{office}",device="{_label(device)}",component="{_label(component)}",state="{d["state"]}"}} {fault}'
        )
    lines += ["# HELP motcua_device_online 1 when a device's presence topic says online.", "# TYPE motcua_device_online gauge"]
    for device, status in sorted(snap["presence"].items()):
        lines.append(f'motcua_device_online{{office="{office}",device="{_label(device)}"}} {int(status == "online")}')
    return "\n".join(lines) + "\n"


def _broker_lines(office: str, broker: dict[str, Any]) -> list[str]:
    lines = ["# HELP motcua_broker_refused_total Connections the broker run by the server refused, by reason (login, connection_limit).",
             "# TYPE motcua_broker_refused_total counter"]
    for reason in ("login", "connection_limit"):
        lines.append(f'motcua_broker_refused_total{{office="{office}",broker="{broker["kind"]}",reason="{reason}"}} {broker["refused"].get(reason, 0)}')
    lines += ["# HELP motcua_broker_restarts_total Times the server started its Mosquitto again after it died.",
              "# TYPE motcua_broker_restarts_total counter",
              f'motcua_broker_restarts_total{{office="{office}"}} {broker["restarts"]}',
              "# HELP motcua_mqtt_recoveries_total Reconnections after the broker stopped delivering the server's requests.",
              "# TYPE motcua_mqtt_recoveries_total counter",
              f'motcua_mqtt_recoveries_total{{office="{office}"}} {broker.get("recoveries", 0)}']
    return lines


def serve(server: QueueServer, host: str, port: int) -> Any:
    """Serve the app in a daemon thread; returns the werkzeug server (call .shutdown())."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the journal
    http = make_server(host, port, create_app(server), threaded=True)
    threading.Thread(target=http.serve_forever, name="http", daemon=True).start()
    return http
