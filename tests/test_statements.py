"""Statements an action costs: step events are recorded without loading the step's timeline, and a crossing's
answer loads every step's timeline in one query (docs/performance.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm.attributes import NO_VALUE

from osbp import events
from osbp.api import serializers
from osbp.extensions import db
from osbp.post.models import Post
from osbp.types import utcnow
from osbp.workflow import operations as workflow
from osbp.workflow.models import Crossing, Step


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session
        db.session.rollback()
        events.discard()
        db.session.remove()


class Statements:
    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc):
        event.remove(db.engine, "before_cursor_execute", self)

    def step_event_reads(self) -> int:
        return sum(1 for s in self.seen if s.lstrip().upper().startswith("SELECT") and "FROM step_events" in s)


def _crossing_with_history(session) -> Crossing:
    post = session.scalar(select(Post))
    crossing = workflow.create_crossing(post, "RW-CD", "traveller", created_by=None)
    session.flush()
    for step in crossing.steps:
        workflow.step_event(step, "queued", utcnow())
        workflow.step_event(step, "called", utcnow())
    session.commit()  # everything expired, as at the start of a request
    return session.get(Crossing, crossing.id)


def test_recording_an_event_does_not_load_the_timeline_and_a_later_read_sees_it(session):
    crossing = _crossing_with_history(session)
    step = session.get(Step, crossing.steps[0].id)
    assert inspect(step).attrs.events.loaded_value is NO_VALUE  # not loaded
    with Statements() as statements:
        workflow.step_event(step, "started", utcnow(), detail={"note": "x"})
    assert statements.step_event_reads() == 0
    assert [e.kind for e in step.events] == ["queued", "called", "started"]  # autoflush: the new event is there
    assert step.events[-1].detail == {"note": "x"}


def test_a_loaded_timeline_gets_the_event_at_once(session):
    crossing = _crossing_with_history(session)
    step = session.get(Step, crossing.steps[0].id)
    assert len(step.events) == 2
    workflow.step_event(step, "started", utcnow())
    assert [e.kind for e in step.events] == ["queued", "called", "started"]
    session.flush()
    assert step.events[-1].id is not None and step.events[-1].step_id == step.id


def test_a_crossing_answer_loads_every_timeline_in_one_query(session):
    crossing = _crossing_with_history(session)
    assert len(crossing.steps) > 1
    workflow.step_event(crossing.steps[-1], "started", utcnow())  # pending: in the answer too
    with Statements() as statements:
        answer = serializers.crossing(crossing)
    assert statements.step_event_reads() == 1
    kinds = [[e["kind"] for e in s["events"]] for s in answer["steps"]]
    assert kinds[:-1] == [["queued", "called"]] * (len(kinds) - 1)
    assert kinds[-1] == ["queued", "called", "started"]
    with Statements() as statements:
        assert serializers.crossing(crossing) == answer
    assert statements.step_event_reads() == 0
