"""Test set-up: one schema built by the real migrations, one rolled-back transaction per test.

The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL points
at one (its database name must contain "test": the schema is rebuilt).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from core import create_app
from core.config import normalise_database_url
from core.extensions import db

_TMP = Path(tempfile.mkdtemp(prefix="marketplace-tests-"))


def _server_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    url = normalise_database_url(url)
    name = sa.engine.make_url(url).database or ""
    if "test" not in name:
        raise pytest.UsageError(f"refusing to use database {name!r} for tests: its name must contain 'test'")
    return url


def _database_url() -> str:
    """SQLite in a temporary folder, or a PostgreSQL database of this run's own.

    Each run creates (and afterwards drops) a database named after the one in
    DATABASE_URL plus its process id, so that parallel runs never share a schema.
    """
    server = _server_url()
    if server is None:
        return f"sqlite:///{_TMP / 'test.sqlite'}"
    url = sa.engine.make_url(server)
    return url.set(database=f"{url.database}_{os.getpid()}").render_as_string(hide_password=False)


def _create_postgres(url: str) -> None:
    target = sa.engine.make_url(url)
    engine = sa.create_engine(_server_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}"')
        # The search issue needs a UTF-8 LC_CTYPE (pg_trgm makes no trigrams from Chinese otherwise).
        conn.exec_driver_sql(
            f"CREATE DATABASE \"{target.database}\" TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
    engine.dispose()


def _drop_postgres(url: str) -> None:
    target = sa.engine.make_url(url)
    engine = sa.create_engine(_server_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    engine.dispose()


def pytest_report_header(config):
    url = _database_url()
    return [
        f"database backend: {sa.engine.make_url(url).get_backend_name()}",
        f"celery broker: {os.environ.get('CELERY_BROKER_URL') or 'memory:// (embedded)'}",
        f"rate-limit storage: {os.environ.get('RATELIMIT_STORAGE_URI') or 'memory://'}",
        f"search backend: {'elasticsearch' if os.environ.get('ELASTICSEARCH_URL') else 'database'}",
    ]


@pytest.fixture(scope="session")
def app():
    url = _database_url()
    if url.startswith("postgresql"):
        _create_postgres(url)
    os.environ["INSTANCE_PATH"] = str(_TMP / "instance")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            # Tests read messages in English; test_i18n checks the Chinese default and catalog.
            "BABEL_DEFAULT_LOCALE": "en",
            "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
            "SERVER_NAME": "localhost.test",
            "CELERY": {
                # Tasks run eagerly in tests; the broker is still the configured
                # one so that /readyz and the worker test reach a real Redis in CI.
                "broker_url": os.environ.get("CELERY_BROKER_URL") or "memory://",
                "task_always_eager": True,
                "task_eager_propagates": True,
                "task_ignore_result": True,
                "beat_schedule": {},
            },
        }
    )
    with app.app_context():
        upgrade()
    yield app
    if url.startswith("postgresql"):
        with app.app_context():
            db.engine.dispose()
        _drop_postgres(url)


@pytest.fixture()
def db_session(app):
    """Every test runs inside one outer transaction that is rolled back at the end.

    Services and views still call commit(); with create_savepoint those commits
    release savepoints inside the outer transaction.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


class _Client(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    The db_session fixture keeps one application context open for the whole
    test (so that objects stay attached to the test's transaction), and Flask
    reuses it for each request; without this, Flask-Login's cached user and
    other per-request state would leak from one request (or client) to the next.
    What the test set up is committed first (to a savepoint inside the test's
    outer transaction), as it would be in real life before a request arrives:
    a request that rolls back its own work then cannot undo the set-up.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        for name in list(vars(g)):
            delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture()
def client(app, db_session):
    from core.extensions import limiter

    limiter.reset()
    app.test_client_class = _Client
    return app.test_client()


@pytest.fixture()
def login(client, db_session):
    """Log the test client in as ``user`` (without a password round-trip)."""
    from core.accounts.auth import session_id_for

    def _login(user):
        with client.session_transaction() as sess:
            sess["_user_id"] = session_id_for(user)
            sess["_fresh"] = True
        return user

    return _login


@pytest.fixture()
def as_role(login, db_session):
    """Create a user of ``role`` (with the supplier or unit it belongs to) and log in."""
    from tests import factories

    def _as(role):
        return login(factories.user_with_role(role))

    return _as
