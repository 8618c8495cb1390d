"""gate out, gate and committee roles, bilateral report archive

Revision ID: 046a4799791c
Revises: b1c2d3e4f501
Create Date: 2026-11-30 23:56:25.916422

"""
from alembic import op
import sqlalchemy as sa

import osbp.types


# revision identifiers, used by Alembic.
revision = '046a4799791c'
down_revision = 'b1c2d3e4f501'
branch_labels = None
depends_on = None

NO_SHOW = sa.text("kind = 'no_show'")


def upgrade():
    op.create_table('bilateral_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('languages', sa.String(length=16), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('data_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', osbp.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bilateral_reports_created_by_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_bilateral_reports_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bilateral_reports'))
    )
    with op.batch_alter_table('bilateral_reports', schema=None) as batch_op:
        batch_op.create_index('ix_bilateral_reports_data_sha256', ['data_sha256'], unique=False)
        batch_op.create_index('ix_bilateral_reports_file_sha256', ['file_sha256'], unique=False)
        batch_op.create_index('ix_bilateral_reports_post_id_created_at', ['post_id', 'created_at'], unique=False)

    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gate_out_at', osbp.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('gate_out_by_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_crossings_post_id_created_at', ['post_id', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_crossings_gate_out_by_id_users'), 'users', ['gate_out_by_id'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))

    with op.batch_alter_table('step_events', schema=None) as batch_op:
        batch_op.create_index('ix_step_events_no_show', ['step_id'], unique=False, postgresql_where=NO_SHOW, sqlite_where=NO_SHOW)



def downgrade():
    with op.batch_alter_table('step_events', schema=None) as batch_op:
        batch_op.drop_index('ix_step_events_no_show', postgresql_where=NO_SHOW, sqlite_where=NO_SHOW)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('country')

    with op.batch_alter_table('crossings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_crossings_gate_out_by_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_crossings_post_id_created_at')
        batch_op.drop_column('gate_out_by_id')
        batch_op.drop_column('gate_out_at')

    with op.batch_alter_table('bilateral_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_bilateral_reports_post_id_created_at')
        batch_op.drop_index('ix_bilateral_reports_file_sha256')
        batch_op.drop_index('ix_bilateral_reports_data_sha256')

    op.drop_table('bilateral_reports')
