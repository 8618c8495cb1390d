"""Database triggers that keep the audit log append-only: UPDATE, DELETE and TRUNCATE on ``audit_events`` are
refused, and the chain head can only move forward (never deleted, its sequence never lowered).

Installed by the migration e10c00000001 (and after ``create_all``). They stop the application's own database role
and anyone without the right to drop a trigger; docs/audit.md gives the REVOKE statements that take that right
away from the application's role. A later migration that rebuilds ``audit_events`` on SQLite (``batch_alter_table``)
drops these triggers with the old table and must call ``install`` again.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import text

MESSAGE = "audit_events is append-only"

POSTGRESQL_INSTALL = (
    """
    CREATE OR REPLACE FUNCTION osbp_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION osbp_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.seq >= OLD.seq THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_chain_head only moves forward: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION osbp_audit_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION osbp_audit_append_only()",
    "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE OR DELETE ON audit_chain_head "
    "FOR EACH ROW EXECUTE FUNCTION osbp_audit_head_forward()",
    "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION osbp_audit_head_forward()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_chain_head_forward ON audit_chain_head",
    "DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head",
    "DROP FUNCTION IF EXISTS osbp_audit_append_only()",
    "DROP FUNCTION IF EXISTS osbp_audit_head_forward()",
)
SQLITE_INSTALL = (
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward: DELETE refused'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_chain_head_forward BEFORE UPDATE ON audit_chain_head "
    "WHEN NEW.seq < OLD.seq BEGIN SELECT RAISE(ABORT, 'audit_chain_head only moves forward: UPDATE refused'); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_chain_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_chain_head_forward",
)
TRIGGERS = {
    "postgresql": {
        "audit_events_append_only",
        "audit_events_no_truncate",
        "audit_chain_head_forward",
        "audit_chain_head_no_truncate",
    },
    "sqlite": {
        "audit_events_no_update",
        "audit_events_no_delete",
        "audit_chain_head_no_delete",
        "audit_chain_head_forward",
    },
}


def install(connection) -> None:
    """Create the triggers (both tables must exist). Idempotent."""
    if connection.dialect.name == "postgresql":
        drop(connection)
        statements = POSTGRESQL_INSTALL
    else:
        statements = SQLITE_INSTALL
    for statement in statements:
        connection.execute(text(statement))


def drop(connection) -> None:
    for statement in POSTGRESQL_DROP if connection.dialect.name == "postgresql" else SQLITE_DROP:
        connection.execute(text(statement))


def missing(connection) -> set[str]:
    """The names of the triggers that should be there and are not."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        query = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
            "AND tgrelid IN ('audit_events'::regclass, 'audit_chain_head'::regclass)"
        )
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    present = set(connection.execute(text(query)).scalars())
    return TRIGGERS.get(dialect, set()) - present


@contextlib.contextmanager
def suspended(connection):
    """Lift the triggers for the length of a ``with`` inside one transaction (the test database's reset, and tests
    that tamper with the log on purpose). Needs the right to drop triggers, which the application's role should not
    have (docs/audit.md)."""
    drop(connection)
    yield connection
    install(connection)


def after_create(target, connection, **_kw) -> None:
    """``create_all``: install the triggers once both tables exist."""
    names = set(connection.dialect.get_table_names(connection))
    if {"audit_events", "audit_chain_head"} <= names:
        install(connection)
