"""login throttles: atomic failure counters per account, per address and per denial audit key

Revision ID: e10a00000001
Revises: 933b0c80fad5
Create Date: 2026-12-02 06:00:00

One row per key (``account:<username>``, ``address:<ip>``, ``audit:<action>.<outcome>:<ip>``), counted by one
INSERT … ON CONFLICT DO UPDATE … RETURNING (osbp/auth/throttle.py). Nothing to back-fill: counting starts empty.
"""

from alembic import op
import sqlalchemy as sa

import osbp.types

revision = "e10a00000001"
down_revision = "933b0c80fad5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("window_start", osbp.types.UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", osbp.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_locked_until"), ["locked_until"], unique=False)


def downgrade():
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_locked_until"))
    op.drop_table("login_throttles")
