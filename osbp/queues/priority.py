"""Priority with ageing: a ticket's place in its queue is ``rank_at = queued_at - boost``.

Call-next takes the smallest ``rank_at`` (then the smallest id) in ONE atomic UPDATE, so the order is a plain column
and the partial index ``ix_tickets_waiting`` serves it. A priority ticket (elderly, pregnant, disabled, with an infant)
is ranked as if it had arrived ``boost`` minutes earlier: it jumps ahead of everyone who arrived less than ``boost``
minutes before it, but a normal ticket that has already waited ``boost`` minutes longer still goes first — nobody is
starved. Boosts are configured per kind (``OSBP_PRIORITY_BOOST_MINUTES``, ``OSBP_PRIORITY_BOOSTS``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app


def boost(kind: str | None) -> timedelta:
    return timedelta(minutes=current_app.config["OSBP"].priority_boost(kind))


def rank_at(queued_at: datetime, kind: str | None) -> datetime:
    return queued_at - boost(kind)
