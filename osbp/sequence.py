"""The live sequence of a post (its own module, below the live pages, the queues and the API that read it): what makes a live page's snapshot and its events comparable.

Every committed request that publishes events for a post takes the next number (``advance``, the request's last
statement before its commit, in ``osbp/web.py``); its events carry it (``"seq"``). A snapshot endpoint reads the
number **first** (``current``), then the state: a change numbered at most that is in the snapshot (it committed
before the number was read, since the row lock orders the commits), so a page ignores such events; a change numbered
above may or may not be, and a page applies its event (every event a page acts on is safe to apply twice).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, ForeignKey, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from osbp.extensions import db


class LiveSequence(db.Model):
    """``seq`` grows by one with every committed request that published events for the post (``osbp/events.py``).

    A row of its own (not a column of ``posts``): it is written as the last statement before the commit, and nothing
    else ever locks it, so taking its row lock can never close a lock cycle with the rest of the transaction.
    """

    __tablename__ = "live_sequences"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def advance(post_ids: Iterable[int]) -> dict[int, int]:
    """Post id → its next number, for this transaction (one upsert per post; posts in id order: one lock order)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    numbers = {}
    for post_id in sorted(set(post_ids)):
        statement = (
            insert(LiveSequence)
            .values(post_id=post_id, seq=1)
            .on_conflict_do_update(index_elements=[LiveSequence.post_id], set_={"seq": LiveSequence.seq + 1})
            .returning(LiveSequence.seq)
        )
        numbers[post_id] = db.session.execute(statement).scalar_one()
    return numbers


def current(post_id: int) -> int:
    """The post's last number (0 before its first change). Read it before the state a snapshot shows."""
    return db.session.scalar(select(LiveSequence.seq).where(LiveSequence.post_id == post_id)) or 0
