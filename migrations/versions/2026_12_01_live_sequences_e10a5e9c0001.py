"""live sequences: one counter per post, the number of its last change pushed to live pages (events and snapshots)

Revision ID: e10a5e9c0001
Revises: 933b0c80fad5
Create Date: 2026-12-01 06:30:00

Empty at first: a post's row is made by its first change (an upsert), and a post without one reads 0.
"""

from alembic import op
import sqlalchemy as sa

revision = "e10a5e9c0001"
down_revision = "e10b00000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "live_sequences",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_live_sequences_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_live_sequences")),
    )


def downgrade():
    op.drop_table("live_sequences")
