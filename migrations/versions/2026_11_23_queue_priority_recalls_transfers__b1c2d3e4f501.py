"""queues: priority rank, recalls, transfers, ticket channel, paused stations, step events by time

Revision ID: b1c2d3e4f501
Revises: a4b5b777170b
Create Date: 2026-11-23 12:54:42.998675

"""
from alembic import op
import sqlalchemy as sa

import osbp.types


# revision identifiers, used by Alembic.
revision = 'b1c2d3e4f501'
down_revision = 'a4b5b777170b'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'waiting'")


def upgrade():
    # New NOT NULL columns are added nullable, filled for the rows that exist, then made NOT NULL.
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused', sa.Boolean(), nullable=True))
    stations = sa.table('stations', sa.column('paused', sa.Boolean()))
    op.execute(stations.update().values(paused=False))
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.alter_column('paused', existing_type=sa.Boolean(), nullable=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rank_at', osbp.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('target_station_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recalls', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
    tickets = sa.table(
        'tickets',
        sa.column('rank_at', sa.DateTime()),
        sa.column('queued_at', sa.DateTime()),
        sa.column('recalls', sa.Integer()),
        sa.column('channel', sa.String()),
    )
    # Tickets waiting today keep their order: no priority yet, so rank_at = queued_at.
    op.execute(tickets.update().values(rank_at=tickets.c.queued_at, recalls=0, channel='desk'))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('recalls', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('channel', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_index('ix_tickets_waiting', postgresql_where=WAITING, sqlite_where=WAITING)
        batch_op.create_index('ix_tickets_waiting', ['post_id', 'step_kind_id', 'stage', 'rank_at'], unique=False, postgresql_where=WAITING, sqlite_where=WAITING)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_target_station_id_stations'), 'stations', ['target_station_id'], ['id'])

    with op.batch_alter_table('step_events', schema=None) as batch_op:
        batch_op.create_index('ix_step_events_at', ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('step_events', schema=None) as batch_op:
        batch_op.drop_index('ix_step_events_at')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_target_station_id_stations'), type_='foreignkey')
        batch_op.drop_index('ix_tickets_waiting', postgresql_where=WAITING, sqlite_where=WAITING)
        batch_op.create_index('ix_tickets_waiting', ['post_id', 'step_kind_id', 'stage', 'queued_at'], unique=False, postgresql_where=WAITING, sqlite_where=WAITING)
        batch_op.drop_column('channel')
        batch_op.drop_column('priority')
        batch_op.drop_column('recalls')
        batch_op.drop_column('target_station_id')
        batch_op.drop_column('rank_at')

    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_column('paused')
