"""The rows of a simulated day as the database takes them: COPY text lines (PostgreSQL) or dicts of Python values
(SQLite, through SQLAlchemy Core), in the columns each table has (``COLUMNS``: the order of the COPY fields)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(at: float | None) -> datetime | None:
    if at is None:
        return None
    return EPOCH + timedelta(microseconds=round(at * 1_000_000))


_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}." for h in range(24) for m in range(60) for s in range(60)]  # second of day


class _Numbers(dict):
    """Ids as COPY text, each made once (None: NULL)."""

    def __missing__(self, key) -> str:
        value = self[key] = "\\N" if key is None else str(key)
        return value


class _Text:
    """COPY text-format fields: ``\\N`` for NULL, backslash escapes, naive UTC timestamps."""

    NULL = "\\N"

    def __init__(self):
        self._days: dict[int, str] = {}
        self._json: dict[int, tuple[dict, str]] = {}

    def ts(self, at: float | None) -> str:
        if at is None:
            return self.NULL
        micro = round(at * 1_000_000)
        seconds, micro = divmod(micro, 1_000_000)
        day, second = divmod(seconds, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat() + " "
        return f"{prefix}{_CLOCK[second]}{micro:06d}"

    @staticmethod
    def num(value) -> str:
        return "\\N" if value is None else str(value)

    @staticmethod
    def txt(value) -> str:
        if value is None:
            return "\\N"
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    def detail(self, detail: dict | None) -> str:
        if detail is None:
            return self.NULL
        known = self._json.get(id(detail))
        if known is None:  # the details are shared constants: each is serialised once (kept alive with it)
            known = self._json[id(detail)] = (detail, self.txt(json.dumps(detail)))
        return known[1]


COLUMNS = {
    "crossings": [
        "id",
        "post_id",
        "route_id",
        "direction",
        "category",
        "status",
        "created_at",
        "created_by_id",
        "ended_at",
        "refusal_reason",
        "gate_pass_code",
        "gate_pass_issued_at",
        "gate_out_at",
        "gate_out_by_id",
    ],
    "tickets": [
        "id",
        "post_id",
        "crossing_id",
        "code",
        "service_date",
        "status",
        "step_kind_id",
        "stage",
        "queued_at",
        "rank_at",
        "target_station_id",
        "station_id",
        "called_at",
        "called_by_id",
        "recalls",
        "priority",
        "channel",
        "issued_at",
        "issued_by_id",
    ],
    "steps": [
        "id",
        "crossing_id",
        "position",
        "step_kind_id",
        "agency_id",
        "status",
        "outcome",
        "reason",
        "referral_reason",
        "station_id",
        "queued_at",
        "called_at",
        "started_at",
        "started_by_id",
        "decided_at",
        "decided_by_id",
    ],
    "step_events": ["id", "step_id", "kind", "at", "user_id", "station_id", "detail"],
    "immigration_identities": [
        "id",
        "crossing_id",
        "step_id",
        "recorded_at",
        "recorded_by_id",
        "holder_name",
        "nationality",
        "document_type",
        "document_number",
        "birth_date",
    ],
    "seats": ["id", "user_id", "station_id", "seated_at", "left_at"],
}


def table_rows(post: int, postgres: bool, crossings, seats, first, numbers, gate_codes) -> dict:
    """Per table, an iterable of rows: COPY text lines (PostgreSQL) or dicts of Python values (SQLite)."""
    make = _copy_lines if postgres else _values
    crossing_row, ticket_row, step_row, event_row, identity_row, seat_row = make(post, gate_codes)

    def crossing_rows():
        for i, c in enumerate(crossings):
            yield crossing_row(first["crossings"] + i, c)

    def ticket_rows():
        for i, c in enumerate(crossings):
            yield ticket_row(first["tickets"] + i, first["crossings"] + i, c, numbers[i])

    def step_rows():
        sid = first["steps"]
        for i, c in enumerate(crossings):
            cid = first["crossings"] + i
            for s in c.steps:
                yield step_row(sid, cid, s)
                sid += 1

    def event_rows():  # the last rows written: each step's events are let go once made (memory)
        sid, eid = first["steps"], first["step_events"]
        for c in crossings:
            for s in c.steps:
                for e in s.events:
                    yield event_row(eid, sid, e)
                    eid += 1
                s.events = ()
                sid += 1

    def identity_rows():  # immigration's own table: one row per crossing whose identity was recorded
        iid, sid = first["immigration_identities"], first["steps"]
        for i, c in enumerate(crossings):
            if c.identity is not None:
                yield identity_row(iid, first["crossings"] + i, sid + c.identity_step - 1, c)
                iid += 1
            sid += len(c.steps)

    def seat_rows():
        for i, seat in enumerate(seats):
            yield seat_row(first["seats"] + i, seat)

    return {
        "crossings": crossing_rows(),
        "tickets": ticket_rows(),
        "steps": step_rows(),
        "step_events": event_rows(),
        "immigration_identities": identity_rows(),
        "seats": seat_rows(),
    }


def _copy_lines(post: int, gate_codes: dict) -> tuple:
    """The row makers of COPY text lines (tab-separated fields, ``\\N`` for NULL)."""
    f = _Text()
    ts, num, txt = f.ts, f.num, f.txt

    def crossing_row(cid, c):
        return (
            f"{cid}\t{post}\t{c.route}\t{c.direction}\t{c.category}\t{c.status}\t{ts(c.created_at)}\t"
            f"{num(c.created_by)}\t{ts(c.ended_at)}\t{txt(c.refusal_reason)}\t{txt(gate_codes.get(cid))}\t"
            f"{ts(c.gate_pass_issued_at)}\t{ts(c.gate_out_at)}\t{num(c.gate_out_by)}\n"
        )

    def ticket_row(tid, cid, c, number):
        day, code = number
        return (
            f"{tid}\t{post}\t{cid}\t{code}\t{day.isoformat()}\t{c.t_status}\t{num(c.t_kind)}\t{c.t_stage}\t"
            f"{ts(c.t_queued_at)}\t{ts(c.t_rank_at)}\t{num(c.t_target)}\t{num(c.t_station)}\t"
            f"{ts(c.t_called_at)}\t{num(c.t_called_by)}\t{c.t_recalls}\t{txt(c.priority)}\t{c.channel}\t"
            f"{ts(c.created_at)}\t{num(c.created_by)}\n"
        )

    def step_row(sid, cid, s):
        return (
            f"{sid}\t{cid}\t{s.position}\t{s.kind}\t{s.agency}\t{s.status}\t{txt(s.outcome)}\t{txt(s.reason)}\t"
            f"{txt(s.referral_reason)}\t{num(s.station)}\t{ts(s.queued_at)}\t{ts(s.called_at)}\t"
            f"{ts(s.started_at)}\t{num(s.started_by)}\t{ts(s.decided_at)}\t{num(s.decided_by)}\n"
        )

    refs, detail_text = _Numbers(), f.detail

    def event_row(eid, sid, e):
        kind, at, user, station, detail = e
        return f"{eid}\t{sid}\t{kind}\t{ts(at)}\t{refs[user]}\t{refs[station]}\t{detail_text(detail)}\n"

    def identity_row(iid, cid, sid, c):
        name, nationality, document_type, number, born = c.identity
        return (
            f"{iid}\t{cid}\t{sid}\t{ts(c.identity_at)}\t{c.identity_by}\t{txt(name)}\t{txt(nationality)}\t"
            f"{txt(document_type)}\t{txt(number)}\t{born.isoformat() if born else f.NULL}\n"
        )

    def seat_row(seat_id, seat):
        user, station, seated_at, left_at = seat
        return f"{seat_id}\t{user}\t{station}\t{ts(seated_at)}\t{ts(left_at)}\n"

    return crossing_row, ticket_row, step_row, event_row, identity_row, seat_row


def _values(post: int, gate_codes: dict) -> tuple:
    """The row makers of dicts of Python values."""
    dt = to_datetime

    def crossing_row(cid, c):
        return {
            "id": cid,
            "post_id": post,
            "route_id": c.route,
            "direction": c.direction,
            "category": c.category,
            "status": c.status,
            "created_at": dt(c.created_at),
            "created_by_id": c.created_by,
            "ended_at": dt(c.ended_at),
            "refusal_reason": c.refusal_reason,
            "gate_pass_code": gate_codes.get(cid),
            "gate_pass_issued_at": dt(c.gate_pass_issued_at),
            "gate_out_at": dt(c.gate_out_at),
            "gate_out_by_id": c.gate_out_by,
        }

    def ticket_row(tid, cid, c, number):
        day, code = number
        return {
            "id": tid,
            "post_id": post,
            "crossing_id": cid,
            "code": code,
            "service_date": day,
            "status": c.t_status,
            "step_kind_id": c.t_kind,
            "stage": c.t_stage,
            "queued_at": dt(c.t_queued_at),
            "rank_at": dt(c.t_rank_at),
            "target_station_id": c.t_target,
            "station_id": c.t_station,
            "called_at": dt(c.t_called_at),
            "called_by_id": c.t_called_by,
            "recalls": c.t_recalls,
            "priority": c.priority,
            "channel": c.channel,
            "issued_at": dt(c.created_at),
            "issued_by_id": c.created_by,
        }

    def step_row(sid, cid, s):
        return {
            "id": sid,
            "crossing_id": cid,
            "position": s.position,
            "step_kind_id": s.kind,
            "agency_id": s.agency,
            "status": s.status,
            "outcome": s.outcome,
            "reason": s.reason,
            "referral_reason": s.referral_reason,
            "station_id": s.station,
            "queued_at": dt(s.queued_at),
            "called_at": dt(s.called_at),
            "started_at": dt(s.started_at),
            "started_by_id": s.started_by,
            "decided_at": dt(s.decided_at),
            "decided_by_id": s.decided_by,
        }

    def event_row(eid, sid, e):
        kind, at, user, station, detail = e
        return {
            "id": eid,
            "step_id": sid,
            "kind": kind,
            "at": dt(at),
            "user_id": user,
            "station_id": station,
            "detail": detail,
        }

    def identity_row(iid, cid, sid, c):
        name, nationality, document_type, number, born = c.identity
        return {
            "id": iid,
            "crossing_id": cid,
            "step_id": sid,
            "recorded_at": dt(c.identity_at),
            "recorded_by_id": c.identity_by,
            "holder_name": name,
            "nationality": nationality,
            "document_type": document_type,
            "document_number": number,
            "birth_date": born,
        }

    def seat_row(seat_id, seat):
        user, station, seated_at, left_at = seat
        return {
            "id": seat_id,
            "user_id": user,
            "station_id": station,
            "seated_at": dt(seated_at),
            "left_at": dt(left_at),
        }

    return crossing_row, ticket_row, step_row, event_row, identity_row, seat_row
