"""The Alembic migrations build exactly the schema the models describe, and go down and up again.

Each test builds its own fresh database (a temporary SQLite file, or a separate PostgreSQL database next to the
test database when OSBP_TEST_DATABASE_URL is set), never the shared test database.
"""

from __future__ import annotations

import os
import pprint
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from osbp.extensions import db
from tests.conftest import DATABASE_URL, is_postgres, second_app


@pytest.fixture
def fresh_database_url(tmp_path):
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'migration-check.sqlite3'}"
        return
    name = f"osbp_migration_check_{os.getpid()}"
    server = create_engine(make_url(DATABASE_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


@pytest.fixture
def fresh_app(app, fresh_database_url, tmp_path):
    """A second app on the fresh database."""
    with second_app(fresh_database_url, tmp_path / "instance") as application:
        yield application


def _schema_diff() -> list:
    """What `flask db migrate` would generate against the current database (the same options as the app's Migrate)."""
    configure_args = {"compare_type": True, "compare_server_default": True}
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=configure_args)
        return compare_metadata(context, db.metadata)


def _partial_index_problems() -> list[str]:
    """Alembic does not compare index WHERE clauses; the partial indexes call-next relies on are checked here."""
    dialect = db.engine.dialect.name
    lookup = {
        "sqlite": "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name",
        "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = :name",
    }[dialect]
    problems = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for index in table.indexes:
                where = index.dialect_options[dialect].get("where")
                if where is None:
                    continue
                definition = connection.execute(text(lookup), {"name": index.name}).scalar() or ""
                tokens = re.findall(r"[A-Za-z_]+|'[^']*'", str(where))
                if "WHERE" not in definition.upper() or not all(t.lower() in definition.lower() for t in tokens):
                    problems.append(f"{index.name}: model says WHERE {where}, database has {definition!r}")
    return problems


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _flask_db(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, f"flask db {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"


def test_migration_head_matches_the_models(fresh_app):
    with fresh_app.app_context():
        _flask_db(fresh_app, "upgrade")
        assert _tables() >= {t.name for t in db.metadata.sorted_tables}
        diff = _schema_diff()
        assert diff == [], "the models and the migration head differ; run `flask db migrate`:\n" + pprint.pformat(diff)
        assert _partial_index_problems() == []


def test_downgrade_to_base_and_upgrade_again(fresh_app):
    with fresh_app.app_context():
        _flask_db(fresh_app, "upgrade")
        _flask_db(fresh_app, "downgrade", "base")
        assert _tables() <= {"alembic_version"}, f"tables left after downgrade base: {_tables()}"
        _flask_db(fresh_app, "upgrade")
        assert _tables() >= {t.name for t in db.metadata.sorted_tables}
        assert _schema_diff() == []
        with db.engine.connect() as connection:
            head = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(head) == 1, head
