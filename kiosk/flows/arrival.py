"""What a scanned code means at the entrance, and "I am here" for a number taken from a phone.

A number taken from a phone is called only once its holder is in the room: the phone's page shows
a QR of the ticket's address without the vote token (`/t/<public token>`), and the kiosk sends
`ticket.arrive {public_token}`. A printed ticket's QR carries its vote token after `#v=`: scanned
at the entrance it means a vote. A booking's QR (`/b/<code>`) means a check-in.

    kind, value = read_scan(code)      # ("booking", "K7M2Q9XA"), ("arrive", token), ("vote", code), ("dossier", code)
    arrived = confirm_arrival(link, token)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from kiosk.flows.outcome import Problem, offline, refused
from kiosk.link import ServerLink
from kiosk.payloads import Ticket, read_ticket
from motcua import protocol as p
from motcua.client import RequestTimeout

ScanKind = Literal["booking", "arrive", "vote", "dossier"]


def read_scan(code: str) -> tuple[ScanKind, str]:
    """Which flow a scanned code starts, and what that flow needs of it."""
    text = code.strip()
    if p.BOOKING_PATH in text:  # only a scanned booking QR; a typed code goes through the booking screen
        booking = p.parse_booking_code(text)
        if booking is not None:
            return "booking", booking
    ticket = p.parse_ticket_qr(text)
    if ticket is not None:
        public, vote = ticket
        return ("vote", text) if vote else ("arrive", public)
    return "dossier", text


@dataclass(frozen=True)
class Arrived:
    ticket: Ticket | None = None  # the ticket as it is now: people ahead, expected wait
    problem: Problem | None = None


def confirm_arrival(link: ServerLink, public_token: str, timeout: float = 2.0) -> Arrived:
    """The holder of a phone's number is here; its number from now on is called in turn.

    Safe to repeat: a second arrival of the same ticket changes nothing on the server."""
    try:
        reply = link.request("ticket.arrive", uuid.uuid4().hex, timeout=timeout, public_token=public_token)
    except RequestTimeout:
        return Arrived(problem=offline())
    if not reply.get("ok"):
        return Arrived(problem=refused(reply))
    try:
        return Arrived(ticket=read_ticket(reply))
    except (KeyError, TypeError):  # an ok reply without its ticket: the arrival counted all the same
        return Arrived()
