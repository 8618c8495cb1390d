"""The audit event model and its chain head. Audit rows are only ever inserted (osbp/audit/guard.py refuses UPDATE
and DELETE in the database); each row is sealed into a SHA-256 hash chain when it is flushed (osbp/audit/chain.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column

from osbp.audit import guard
from osbp.extensions import db
from osbp.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Position in the hash chain: 1, 2, 3 … without gaps, given under the chain head's lock at flush time.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # ok, failed, denied
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    # The post the event belongs to (the acting user's); None for an event of no known account.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict | None] = mapped_column(JSON)
    # The previous row's row_hash (64 zeros for the first row) and SHA-256 of this row's canonical content.
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(db.Model):
    """One row (id 1): the last sequence number and hash of the chain. Locked by every writer while it seals its
    audit rows, so the chain has one order; a tail cut off the chain no longer matches it."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


for _table in (AuditEvent.__table__, AuditChainHead.__table__):
    event.listen(_table, "after_create", guard.after_create)  # create_all installs the append-only triggers too
