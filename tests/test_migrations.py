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


def test_identities_move_to_immigration_and_back_with_their_data(fresh_app):
    """c7d1e2f3a4b5 moves the identity columns of crossings into immigration_identities, and downgrade brings them
    back: the same values on both databases, and the crossings without a document get no row."""
    with fresh_app.app_context():
        _flask_db(fresh_app, "upgrade", "b508bcef315f")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO posts (id, code, name_a, name_b, country_a, country_b, default_locale, timezone) "
                    "VALUES (1, 'P', 'Post A', 'Post B', 'RW', 'CD', 'en', 'Africa/Kigali')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO agencies (id, post_id, country, kind, code, name) VALUES "
                    "(1, 1, 'RW', 'immigration', 'RW-IMM', 'RW immigration'), "
                    "(2, 1, 'RW', 'customs', 'RW-CUS', 'RW customs')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO step_kinds (id, post_id, agency_id, control, code) VALUES "
                    "(1, 1, 2, 'export', 'RW-CUS-EXP'), (2, 1, 1, 'exit', 'RW-IMM-EXIT')"
                )
            )
            connection.execute(
                text("INSERT INTO routes (id, post_id, direction, category) VALUES (1, 1, 'RW-CD', 'trader')")
            )
            for crossing_id, identity in (
                (1, ("Anna Eriksson", "UTO", "passport", "L898902C3", "1974-08-12")),
                (2, None),
            ):
                values = identity or (None,) * 5
                connection.execute(
                    text(
                        "INSERT INTO crossings (id, post_id, route_id, direction, category, status, created_at, "
                        "holder_name, nationality, document_type, document_number, birth_date) VALUES "
                        "(:id, 1, 1, 'RW-CD', 'trader', 'in_progress', '2026-12-01 08:00:00', :h, :n, :t, :d, :b)"
                    ),
                    {"id": crossing_id, "h": values[0], "n": values[1], "t": values[2], "d": values[3], "b": values[4]},
                )
                for position, kind_id, agency_id in ((1, 1, 2), (2, 2, 1)):
                    connection.execute(
                        text(
                            "INSERT INTO steps (crossing_id, position, step_kind_id, agency_id, status) "
                            "VALUES (:c, :p, :k, :a, 'pending')"
                        ),
                        {"c": crossing_id, "p": position, "k": kind_id, "a": agency_id},
                    )
        _flask_db(fresh_app, "upgrade")
        with db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT i.crossing_id, s.position, i.holder_name, i.nationality, i.document_type, "
                    "i.document_number, i.birth_date FROM immigration_identities i JOIN steps s ON s.id = i.step_id"
                )
            ).all()
            columns = {c["name"] for c in inspect(connection).get_columns("crossings")}
        assert [tuple(str(v) for v in row) for row in rows] == [
            ("1", "2", "Anna Eriksson", "UTO", "passport", "L898902C3", "1974-08-12")
        ]
        assert not columns & {"holder_name", "nationality", "document_type", "document_number", "birth_date"}
        _flask_db(fresh_app, "downgrade", "b508bcef315f")
        with db.engine.connect() as connection:
            back = connection.execute(
                text(
                    "SELECT id, holder_name, nationality, document_type, document_number, birth_date "
                    "FROM crossings ORDER BY id"
                )
            ).all()
            assert "immigration_identities" not in inspect(connection).get_table_names()
        assert [tuple(None if v is None else str(v) for v in row) for row in back] == [
            ("1", "Anna Eriksson", "UTO", "passport", "L898902C3", "1974-08-12"),
            ("2", None, None, None, None, None),
        ]
