"""The audit log's chain heads for each day of the period (osbp/audit/heads.py): the last row of the hash chain at
the end of each local day and its SHA-256, so that the two delegations, who keep the report, can later check that
the post's audit log still passes through them (`flask audit verify`, docs/audit.md). A day not over yet (or
over for less than ten minutes) has no head. The chain is the server's one chain (every post it runs)."""

from __future__ import annotations

from datetime import timedelta

from osbp.audit.heads import day_bounds, head_at_end_of
from osbp.extensions import db
from osbp.types import utcnow

KEY = "audit"
# A row recorded just before midnight may be committed just after: a day's head is read this long after it ended.
SETTLE = timedelta(minutes=10)


def compute(context) -> dict:
    scope = context.scope
    now = context.now or utcnow()
    heads = []
    for offset in range(scope.days):
        day = scope.first_day.fromordinal(scope.first_day.toordinal() + offset)
        if day_bounds(day, scope.timezone)[1] + SETTLE > now:
            heads.append({"date": day.isoformat(), "seq": None, "hash": None, "rows": None})
            continue
        head = head_at_end_of(db.session, day, scope.timezone)
        heads.append(head.as_dict())
    return {"heads": heads}
