"""The live pages' sequence: one counter per post, the number of its last committed change pushed to live pages."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
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
