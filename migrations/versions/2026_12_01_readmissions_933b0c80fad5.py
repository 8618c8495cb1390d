"""readmissions: the exit country's task to take back a person refused or gone after the exit was cleared

Revision ID: 933b0c80fad5
Revises: c7d1e2f3a4b5
Create Date: 2026-12-01 03:36:53

Back-fills one open task for every crossing that ended refused or as a no-show after its exit step was cleared (the
crossings the bilateral report already counts as re-admissions), for the exit step's agency and country, created when
the crossing ended. Whether those people were taken back is not known: the tasks stay open until an officer of the
exit agency records them. The same SQL on PostgreSQL and SQLite.
"""

from alembic import op
import sqlalchemy as sa

import osbp.types

revision = "933b0c80fad5"
down_revision = "c7d1e2f3a4b5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "readmissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crossing_id", sa.Integer(), nullable=False),
        sa.Column("exit_step_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", osbp.types.UTCDateTime(), nullable=False),
        sa.Column("recorded_at", osbp.types.UTCDateTime(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_readmissions_agency_id_agencies")),
        sa.ForeignKeyConstraint(["crossing_id"], ["crossings.id"], name=op.f("fk_readmissions_crossing_id_crossings")),
        sa.ForeignKeyConstraint(["exit_step_id"], ["steps.id"], name=op.f("fk_readmissions_exit_step_id_steps")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_readmissions_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readmissions")),
        sa.UniqueConstraint("crossing_id", name=op.f("uq_readmissions_crossing_id")),
    )
    op.create_index("ix_readmissions_agency_id_recorded_at", "readmissions", ["agency_id", "recorded_at"], unique=False)
    op.execute(
        """
        INSERT INTO readmissions (crossing_id, exit_step_id, agency_id, country, reason, created_at)
        SELECT c.id, s.id, a.id, a.country, c.status, COALESCE(c.ended_at, c.created_at)
          FROM crossings c
          JOIN steps s ON s.id = (
                SELECT MIN(e.id) FROM steps e JOIN step_kinds k ON k.id = e.step_kind_id
                 WHERE e.crossing_id = c.id AND e.status = 'cleared' AND k.control = 'exit')
          JOIN agencies a ON a.id = s.agency_id
         WHERE c.status IN ('refused', 'no_show')
        """
    )


def downgrade():
    op.drop_index("ix_readmissions_agency_id_recorded_at", table_name="readmissions")
    op.drop_table("readmissions")
