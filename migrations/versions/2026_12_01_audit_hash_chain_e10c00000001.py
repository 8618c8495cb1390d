"""audit hash chain: seq, prev_hash, row_hash and post_id on audit_events, the chain head, append-only triggers

Revision ID: e10c00000001
Revises: 933b0c80fad5
Create Date: 2026-12-01 06:30:00

Existing rows are chained in id order (their post is their user's) with the same canonical form the application
uses (osbp/audit/chain.py), so `flask audit verify` passes right after the upgrade. The triggers (osbp/audit/guard.py)
refuse UPDATE, DELETE and TRUNCATE on audit_events, on PostgreSQL and SQLite.
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

import osbp.types

revision = "e10c00000001"
down_revision = "e10a5e9c0001"
branch_labels = None
depends_on = None


def upgrade():
    from osbp.audit import chain, guard

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("post_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )

    connection = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer()),
        sa.column("seq", sa.BigInteger()),
        sa.column("at", osbp.types.UTCDateTime()),
        sa.column("action", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("user_id", sa.Integer()),
        sa.column("username", sa.String()),
        sa.column("post_id", sa.Integer()),
        sa.column("object_type", sa.String()),
        sa.column("object_id", sa.Integer()),
        sa.column("remote_addr", sa.String()),
        sa.column("detail", sa.JSON()),
        sa.column("prev_hash", sa.String()),
        sa.column("row_hash", sa.String()),
    )
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("post_id", sa.Integer()))
    posts = dict(connection.execute(sa.select(users.c.id, users.c.post_id)).all())
    rows = connection.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    prev, seq = chain.GENESIS, 0
    for row in rows:
        seq += 1
        values = dict(row, seq=seq, prev_hash=prev, post_id=posts.get(row["user_id"]))
        values["row_hash"] = chain.row_hash(SimpleNamespace(**values))
        connection.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=prev, post_id=values["post_id"], row_hash=values["row_hash"])
        )
        prev = values["row_hash"]
    head = sa.table("audit_chain_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    connection.execute(head.insert().values(id=chain.HEAD_ID, seq=seq, hash=prev))

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
        batch_op.create_index(batch_op.f("ix_audit_events_post_id"), ["post_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_audit_events_post_id_posts"), "posts", ["post_id"], ["id"])

    guard.install(connection)


def downgrade():
    from osbp.audit import guard

    guard.drop(op.get_bind())
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audit_events_post_id_posts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_audit_events_post_id"))
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("post_id")
        batch_op.drop_column("seq")
