"""immigration identities: the identity and travel document move from crossings to immigration's own table

Revision ID: c7d1e2f3a4b5
Revises: b508bcef315f
Create Date: 2026-12-01 03:30:00

Data-preserving on PostgreSQL and SQLite: every crossing with a recorded document gets one row (the step it was
recorded at is the crossing's first immigration step); downgrade copies them back. The columns are dropped with
plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), not a batch table copy, so the rows that refer to crossings stay.
"""

from alembic import op
import sqlalchemy as sa

import osbp.types

revision = "c7d1e2f3a4b5"
down_revision = "b508bcef315f"
branch_labels = None
depends_on = None

IDENTITY_COLUMNS = ("holder_name", "nationality", "document_type", "document_number", "birth_date")


def upgrade():
    op.create_table(
        "immigration_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crossing_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", osbp.types.UTCDateTime(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("holder_name", sa.String(length=120), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.Column("document_type", sa.String(length=16), nullable=False),
        sa.Column("document_number", sa.String(length=32), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["crossing_id"], ["crossings.id"], name=op.f("fk_immigration_identities_crossing_id_crossings")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_immigration_identities_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(["step_id"], ["steps.id"], name=op.f("fk_immigration_identities_step_id_steps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_immigration_identities")),
        sa.UniqueConstraint("crossing_id", name=op.f("uq_immigration_identities_crossing_id")),
    )
    op.execute(
        """
        INSERT INTO immigration_identities
            (crossing_id, step_id, holder_name, nationality, document_type, document_number, birth_date)
        SELECT c.id,
               (SELECT s.id FROM steps s JOIN agencies a ON a.id = s.agency_id
                 WHERE s.crossing_id = c.id AND a.kind = 'immigration' ORDER BY s.position LIMIT 1),
               COALESCE(c.holder_name, ''), COALESCE(c.nationality, ''), COALESCE(c.document_type, ''),
               c.document_number, c.birth_date
          FROM crossings c
         WHERE c.document_number IS NOT NULL
        """
    )
    for column in IDENTITY_COLUMNS:
        op.execute(f"ALTER TABLE crossings DROP COLUMN {column}")


def downgrade():
    op.add_column("crossings", sa.Column("holder_name", sa.String(length=120), nullable=True))
    op.add_column("crossings", sa.Column("nationality", sa.String(length=3), nullable=True))
    op.add_column("crossings", sa.Column("document_type", sa.String(length=16), nullable=True))
    op.add_column("crossings", sa.Column("document_number", sa.String(length=32), nullable=True))
    op.add_column("crossings", sa.Column("birth_date", sa.Date(), nullable=True))
    for column in IDENTITY_COLUMNS:
        op.execute(
            f"UPDATE crossings SET {column} = (SELECT i.{column} FROM immigration_identities i "
            f"WHERE i.crossing_id = crossings.id)"
        )
    op.drop_table("immigration_identities")
