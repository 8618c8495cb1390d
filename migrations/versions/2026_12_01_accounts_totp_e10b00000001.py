"""accounts: forced password change after an admin reset; TOTP second factor

Revision ID: e10b00000001
Revises: 933b0c80fad5
Create Date: 2026-12-01 06:20:00

``users.must_change_password`` (false for every existing account) and ``totp_credentials`` (one row per user who
enrolled a TOTP second factor; the secret is encrypted, see osbp/auth/totp.py).
"""

from alembic import op
import sqlalchemy as sa

import osbp.types

revision = "e10b00000001"
down_revision = "e10a00000001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("must_change_password", server_default=None)
    op.create_table(
        "totp_credentials",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=255), nullable=False),
        sa.Column("enabled_at", osbp.types.UTCDateTime(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_at", osbp.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_totp_credentials_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_totp_credentials")),
    )


def downgrade():
    op.drop_table("totp_credentials")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
