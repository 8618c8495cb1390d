"""Day facts: the report's aggregates per post and local day, in a form that adds up across days.

A fact is a count of people (or steps) with a few keys and, for durations, a value in whole seconds:
``(day, fact, k1, k2, k3, value) → count``. A month's report adds up the facts of its days, so percentiles stay exact
(the counts per distinct second) while the report reads thousands of fact rows instead of millions of steps.

Facts are computed by GROUP BY queries over the crossings, their steps and the step timeline (osbp/bilateral/
visits.py), all keyed by the crossing's local arrival day. A day is **final** once it is more than
``FINAL_AFTER_DAYS`` days old: its crossings have ended (or count as incomplete) and its gate scans are in; the first
report that needs a final day writes its facts (``report_day_facts``, ``report_days``), and ``flask --app osbp report
rollup`` does it ahead (e.g. each night). Days not final yet are computed live for each report, from the same
queries. Facts hold no configuration (targets and limits are applied when a report adds them up).

| fact | k1 | k2 | k3 | value |
|---|---|---|---|---|
| crossings | local hour of arrival | direction | category | — |
| status | crossing status | gated (1/0) | — | — |
| release | direction | category | — | seconds to release (cleared crossings) |
| wait_primary, work_primary, wait_secondary, work_secondary | country | agency | — | seconds |
| pattern | local hour queued | local date queued | — | primary wait, seconds |
| decided, referred | country | agency | — | — (steps) |
| secondary | country | agency | — | seconds from referral to decision |
| refused | country | agency | reason | — (steps) |
| readmission, no_show_call | — | — | — | — |
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import String, and_, case, cast, delete, exists, func, insert, literal, select, text

from osbp.bilateral import visits as stage_visits
from osbp.bilateral.models import ReportDay, ReportDayFact
from osbp.bilateral.query import Scope, in_period, local_date, local_hour, seconds
from osbp.extensions import db
from osbp.post.models import Agency
from osbp.types import utcnow
from osbp.workflow.models import Crossing, Step, StepEvent, StepKind

FINAL_AFTER_DAYS = 2
NONE = ""


def _text(value):
    return cast(value, String)


def _fact(fact, day, conditions, *, k1=None, k2=None, k3=None, value=None, source=select):
    """``SELECT day, fact, k1, k2, k3, value, count(*) … GROUP BY`` the keys given (absent keys are '' and 0)."""
    keys = [day, *(k for k in (k1, k2, k3, value) if k is not None)]  # a constant string cannot be grouped by
    columns = (
        day.label("day"),
        literal(fact).label("fact"),
        (k1 if k1 is not None else literal(NONE)).label("k1"),
        (k2 if k2 is not None else literal(NONE)).label("k2"),
        (k3 if k3 is not None else literal(NONE)).label("k3"),
        (value if value is not None else literal(0)).label("value"),
    )
    return source(*columns, func.count().label("count")).where(*conditions).group_by(*keys)


def _crossing_queries(scope: Scope):
    day = local_date(Crossing.created_at, scope)
    mine = (Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))
    end = func.coalesce(Crossing.gate_out_at, Crossing.gate_pass_issued_at)
    hour = _text(local_hour(Crossing.created_at, scope))
    yield _fact("crossings", day, mine, k1=hour, k2=Crossing.direction, k3=Crossing.category)
    gated = case((Crossing.gate_out_at.is_not(None), "1"), else_="0")
    yield _fact("status", day, mine, k1=Crossing.status, k2=gated)
    released = (*mine, Crossing.status == "cleared", end.is_not(None))
    yield _fact(
        "release", day, released, k1=Crossing.direction, k2=Crossing.category, value=seconds(end, Crossing.created_at)
    )
    exit_cleared = exists(
        select(Step.id)
        .join(StepKind, StepKind.id == Step.step_kind_id)
        .where(Step.crossing_id == Crossing.id, Step.status == "cleared", StepKind.control == "exit")
    )
    yield _fact("readmission", day, (*mine, Crossing.status.in_(("refused", "no_show")), exit_cleared))


def _step_queries(scope: Scope):
    day = local_date(Crossing.created_at, scope)
    mine = (Crossing.post_id == scope.post_id, in_period(Crossing.created_at, scope))

    def steps(*columns):
        return (
            select(*columns)
            .select_from(Step)
            .join(Crossing, Crossing.id == Step.crossing_id)
            .join(Agency, Agency.id == Step.agency_id)
        )

    def events(*columns):
        return (
            select(*columns)
            .select_from(StepEvent)
            .join(Step, Step.id == StepEvent.step_id)
            .join(Crossing, Crossing.id == Step.crossing_id)
        )

    agency = {"k1": Agency.country, "k2": Agency.kind, "source": steps}
    referred = Step.referral_reason.is_not(None)
    yield _fact("decided", day, (*mine, Step.decided_at.is_not(None) | referred), **agency)
    yield _fact("referred", day, (*mine, referred), **agency)
    secondary = seconds(Step.decided_at, Step.queued_at)
    yield _fact("secondary", day, (*mine, referred, Step.decided_at.is_not(None)), value=secondary, **agency)
    reason = func.coalesce(func.trim(Step.reason), NONE)
    yield _fact("refused", day, (*mine, Step.status == "refused"), k3=reason, **agency)
    yield _fact("no_show_call", day, (*mine, StepEvent.kind == "no_show"), source=events)


def _visit_queries(table):
    """Facts from the stage visits (a temporary table written once: osbp/bilateral/visits.py)."""
    for measure in ("wait_primary", "work_primary", "wait_secondary", "work_secondary"):
        column = table.c[measure]
        yield _fact(measure, table.c.day, (column.is_not(None),), k1=table.c.country, k2=table.c.agency, value=column)
    waited = (table.c.wait_primary.is_not(None),)
    yield _fact(
        "pattern", table.c.day, waited, k1=_text(table.c.hour), k2=_text(table.c.queued_day), value=table.c.wait_primary
    )


def _each_query(scope: Scope, run) -> None:
    """Call ``run(query)`` for every fact query of the scope (the stage visits are written once, in between)."""
    for query in (*_crossing_queries(scope), *_step_queries(scope)):
        run(query)
    table = stage_visits.materialise(scope)
    try:
        for query in _visit_queries(table):
            run(query)
    finally:
        stage_visits.drop()


def compute(scope: Scope) -> list[tuple]:
    """The facts of a scope's days, computed now: [(day, fact, k1, k2, k3, value, count)]."""
    rows = []
    _each_query(scope, lambda query: rows.extend(tuple(row) for row in db.session.execute(query)))
    return [
        (_as_date(day), fact, str(k1), str(k2), str(k3), int(value or 0), int(count))
        for day, fact, k1, k2, k3, value, count in rows
    ]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def final_before(post, today: date) -> date:
    """Days before this one are final."""
    return today - timedelta(days=FINAL_AFTER_DAYS)


def final_days_missing(post, back: int, today: date | None = None) -> list[date]:
    """The final days of the last ``back`` days whose facts are not stored yet."""
    from osbp.bilateral.report import local_today

    last = final_before(post, today or local_today(post)) - timedelta(days=1)
    first = last - timedelta(days=back - 1)
    stored = set(
        db.session.scalars(
            select(ReportDay.day).where(ReportDay.post_id == post.id, ReportDay.day.between(first, last))
        )
    )
    return [first + timedelta(days=i) for i in range(back) if first + timedelta(days=i) not in stored]


def rollup(post, days: list[date]) -> int:
    """Compute and store the facts of these (final) days, replacing any stored before. Returns rows written."""
    if not days:
        return 0
    written = 0
    columns = ["post_id", "day", "fact", "k1", "k2", "k3", "value", "count"]
    for first, last in _runs(sorted(days)):
        scope = Scope(post.id, post.timezone, first, last)
        db.session.execute(
            delete(ReportDayFact).where(ReportDayFact.post_id == post.id, ReportDayFact.day.between(first, last))
        )
        db.session.execute(delete(ReportDay).where(ReportDay.post_id == post.id, ReportDay.day.between(first, last)))

        def store(query):
            """INSERT … SELECT: the facts go from the query to their table without passing through Python."""
            source = query.subquery()
            copied = select(literal(post.id), *(source.c[name] for name in columns[1:]))
            return db.session.execute(insert(ReportDayFact).from_select(columns, copied)).rowcount

        counts = []
        _each_query(scope, lambda query, counts=counts: counts.append(store(query)))
        written += sum(counts)
        now = utcnow()
        db.session.execute(
            insert(ReportDay),
            [
                {"post_id": post.id, "day": first + timedelta(days=i), "computed_at": now}
                for i in range((last - first).days + 1)
            ],
        )
    if written > 10_000 and db.engine.dialect.name == "postgresql":
        # fresh statistics, or the planner takes a month of facts for one row and sorts them instead of hashing
        db.session.execute(text("ANALYZE report_day_facts"))
    return written


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped: [d1, d2, d3, d7] → [(d1, d3), (d7, d7)]."""
    runs: list[list[date]] = []
    for day in days:
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(a, b) for a, b in runs]


_COLUMNS = (ReportDayFact.k1, ReportDayFact.k2, ReportDayFact.k3, ReportDayFact.value)


class Facts:
    """The facts of a period, added up: stored for its final days (written on first use), computed for the rest."""

    def __init__(self, post, scope: Scope, today: date):
        self.post, self.scope = post, scope
        final_until = final_before(post, today)
        days = scope.dates()
        final = [d for d in days if d < final_until]
        stored = set(
            db.session.scalars(
                select(ReportDay.day).where(
                    ReportDay.post_id == post.id, ReportDay.day.between(scope.first_day, scope.last_day)
                )
            )
        )
        missing = [d for d in final if d not in stored]
        rollup(post, missing)
        self.final = final
        live_days = [d for d in days if d >= final_until]
        self.live: list[tuple] = []
        for first, last in _runs(live_days):
            self.live.extend(compute(Scope(post.id, post.timezone, first, last)))

    def _merged(self, fact: str, positions: tuple[int, ...], by_day: bool = False) -> dict[tuple, int]:
        """Counts of ``fact`` added up over the period, keyed by the chosen columns (0–2: k1–k3, 3: the value),
        the day first when ``by_day``: the stored days summed in SQL, the live days added here."""
        chosen = [_COLUMNS[i] for i in positions]
        if by_day:
            chosen.insert(0, ReportDayFact.day)
        totals: dict[tuple, int] = defaultdict(int)
        if self.final:
            query = (
                select(*chosen, func.sum(ReportDayFact.count))
                .where(
                    ReportDayFact.post_id == self.post.id,
                    ReportDayFact.fact == fact,
                    and_(ReportDayFact.day >= self.final[0], ReportDayFact.day <= self.final[-1]),
                )
                .group_by(*chosen)
            )
            for *key, count in db.session.connection().execute(query):  # Core rows: a month is ~10⁵ of them
                if by_day:
                    key[0] = _as_date(key[0])
                totals[tuple(key)] += int(count)
        for day, name, *row, count in self.live:
            if name == fact:
                key = tuple(row[i] for i in positions)
                totals[(day, *key) if by_day else key] += count
        return dict(totals)

    def get(self, fact: str, *, by_day: bool = False) -> dict[tuple, int]:
        """(k1, k2, k3, value) → count over the period (with the day first when ``by_day``)."""
        return self._merged(fact, (0, 1, 2, 3), by_day)

    def histograms(self, fact: str, *key_positions: int) -> dict[tuple, list[tuple[int, int]]]:
        """For duration facts: keys (by position among k1, k2, k3) → sorted [(seconds, count)]."""
        grouped: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
        for (*group, value), count in self._merged(fact, (*key_positions, 3)).items():
            grouped[tuple(group)].append((value, count))
        return {group: sorted(pairs) for group, pairs in grouped.items()}

    def count(self, fact: str, *key_positions: int) -> dict[tuple, int]:
        return self._merged(fact, key_positions)
