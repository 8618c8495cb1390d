"""report day facts

Revision ID: b508bcef315f
Revises: 046a4799791c
Create Date: 2026-12-01 00:39:40.493782

"""
from alembic import op
import sqlalchemy as sa

import osbp.types


# revision identifiers, used by Alembic.
revision = 'b508bcef315f'
down_revision = '046a4799791c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_day_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('fact', sa.String(length=24), nullable=False),
    sa.Column('k1', sa.String(length=16), nullable=False),
    sa.Column('k2', sa.String(length=16), nullable=False),
    sa.Column('k3', sa.Text(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_report_day_facts_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_day_facts'))
    )
    with op.batch_alter_table('report_day_facts', schema=None) as batch_op:
        batch_op.create_index('ix_report_day_facts_post_id_fact_day', ['post_id', 'fact', 'day'], unique=False)

    op.create_table('report_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('computed_at', osbp.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_report_days_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_days')),
    sa.UniqueConstraint('post_id', 'day', name=op.f('uq_report_days_post_id_day'))
    )


def downgrade():
    op.drop_table('report_days')
    with op.batch_alter_table('report_day_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_day_facts_post_id_fact_day')

    op.drop_table('report_day_facts')
