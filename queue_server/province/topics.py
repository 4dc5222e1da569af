"""The province topics: the only place that formats one (as motcua.protocol.Topics does for an office).

Offices publish under their own id, so the cluster's permissions can give each office's
credential exactly its own topics (`motcua province nats-users`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ROOT = "motcua-province"
KINDS = ("events", "dossiers", "hello", "status", "ack")


@dataclass(frozen=True)
class ProvinceTopics:
    root: str = DEFAULT_ROOT

    def events(self, office: str) -> str:
        """Office -> hub: a chunk of the event log (QoS 1)."""
        return f"{self.root}/events/{office}"

    def dossiers(self, office: str) -> str:
        """Office -> hub: a chunk of dossier status changes (public fields only)."""
        return f"{self.root}/dossiers/{office}"

    def hello(self, office: str) -> str:
        """Office -> hub: "where do you stand for me?" (answered on ack/<office> with the same nonce)."""
        return f"{self.root}/hello/{office}"

    def status(self, office: str) -> str:
        """Office -> hub: heartbeat with the office's own last sequence (backlog), and the last will."""
        return f"{self.root}/status/{office}"

    def ack(self, office: str) -> str:
        """Hub -> office: what the hub has stored without a gap."""
        return f"{self.root}/ack/{office}"

    def all(self, kind: str) -> str:
        return f"{self.root}/{kind}/+"

    def parse(self, topic: str) -> tuple[str, str] | None:
        """(kind, office) of a province topic, or None."""
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            return None
        kind, _, office = topic[len(prefix):].partition("/")
        if kind not in KINDS or not office or "/" in office:
            return None
        return kind, office

    def subject(self, topic: str) -> str:
        """The NATS subject an MQTT topic maps to (for the cluster's permissions)."""
        return topic.replace("/", ".").replace("+", "*").replace("#", ">")
