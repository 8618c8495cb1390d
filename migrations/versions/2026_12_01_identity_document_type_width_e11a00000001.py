"""immigration identities: document_type holds 32 characters (emergency_travel_document has 25; it held 16)

Revision ID: e11a00000001
Revises: e10c00000001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "e11a00000001"
down_revision = "e10c00000001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("immigration_identities") as batch:
        batch.alter_column("document_type", existing_type=sa.String(length=16), type_=sa.String(length=32))


def downgrade():
    with op.batch_alter_table("immigration_identities") as batch:
        batch.alter_column("document_type", existing_type=sa.String(length=32), type_=sa.String(length=16))
