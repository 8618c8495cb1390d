"""SQLite and PostgreSQL give the same report for the same day.

Runs in the PostgreSQL pass of the suite (``make test`` runs it with OSBP_TEST_DATABASE_URL set): the scripted day is
driven through the operations on the PostgreSQL test database and, with the same clock, on a fresh SQLite database;
the two reports' canonical data must be identical, hash included.
"""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from osbp.bilateral.report import build_report, data_sha256
from osbp.extensions import db
from osbp.post.models import Post
from osbp.post.seed import seed_demo
from tests.bilateral_day import DAY, local, run_day
from tests.conftest import _cached_hash, is_postgres, second_app


def _report(application) -> dict:
    with application.app_context():
        post = db.session.scalar(select(Post))
        data = build_report(post, DAY, DAY, now=local(20, 0))
        db.session.remove()
    return data


@pytest.fixture
def sqlite_app(app, tmp_path):
    """A second app on a fresh SQLite database with the demo post."""
    with second_app(f"sqlite:///{tmp_path / 'same.sqlite3'}", tmp_path / "instance") as application:
        with application.app_context():
            upgrade()
            seed_demo(hasher=_cached_hash)
            db.session.commit()
            db.session.remove()
        yield application


@pytest.mark.skipif(not is_postgres(), reason="compares with PostgreSQL: runs in the PostgreSQL pass of make test")
def test_postgresql_and_sqlite_report_the_same_figures(app, sqlite_app, monkeypatch):
    run_day(app, monkeypatch)
    run_day(sqlite_app, monkeypatch)
    on_postgres, on_sqlite = _report(app), _report(sqlite_app)
    assert on_postgres["sections"]["release"]["overall"]["count"] == 18
    for key in on_postgres["sections"]:
        assert on_sqlite["sections"][key] == on_postgres["sections"][key], key
    assert data_sha256(on_sqlite) == data_sha256(on_postgres)
