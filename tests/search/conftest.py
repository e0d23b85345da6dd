"""Search test set-up: which backend a test runs against, and the loud note when Elasticsearch did not run.

Every test here runs on the database backend of the run (SQLite, or PostgreSQL with
DATABASE_URL). Tests using the ``backend`` fixture also run against a live Elasticsearch
when ELASTICSEARCH_URL is set — each in an index prefix of its own, deleted afterwards —
and are skipped, with a banner at the end of the run, when it is not.
"""

from __future__ import annotations

import os
import uuid

import pytest

from core.extensions import db

ES_URL = os.environ.get("ELASTICSEARCH_URL", "").strip()
_CONFIG_KEYS = ("ELASTICSEARCH_URL", "ELASTICSEARCH_INDEX_PREFIX", "ELASTICSEARCH_REFRESH", "ELASTICSEARCH_TIMEOUT")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not ES_URL:
        terminalreporter.write_sep(
            "!", "ELASTICSEARCH BACKEND SUITE NOT RUN: ELASTICSEARCH_URL is not set. Only the database backend "
            "and the Elasticsearch HTTP-boundary tests ran.", red=True, bold=True,
        )
    else:
        terminalreporter.write_sep("=", f"Elasticsearch backend suite ran against {ES_URL}", green=True)


class SearchConfig:
    """Switches the application's search backend for one test (by configuration, as in production)."""

    def __init__(self, app):
        self.app = app

    def database(self) -> None:
        self._set(url="")

    def elasticsearch(self, url: str, *, prefix: str | None = None, refresh: bool | str = "wait_for",
                      timeout: float = 5.0) -> str:
        prefix = prefix or f"test-{uuid.uuid4().hex[:10]}"
        self._set(url=url, prefix=prefix, refresh=refresh, timeout=timeout)
        return prefix

    def _set(self, *, url: str, prefix: str = "marketplace", refresh: bool | str = False, timeout: float = 5.0):
        self.app.config.update(ELASTICSEARCH_URL=url, ELASTICSEARCH_INDEX_PREFIX=prefix,
                               ELASTICSEARCH_REFRESH=refresh, ELASTICSEARCH_TIMEOUT=timeout)
        self.forget()

    def forget(self) -> None:
        """Drop the cached backends, closing their HTTP connections."""
        for backend in self.app.extensions.pop("search_backends", {}).values():
            client = getattr(backend, "client", None)
            if client is not None:
                client.close()


@pytest.fixture(autouse=True)
def search_config(app):
    """The database backend unless a test chooses otherwise; the app's settings restored afterwards."""
    saved = {key: app.config.get(key) for key in _CONFIG_KEYS}
    config = SearchConfig(app)
    config.database()
    yield config
    app.config.update(saved)
    config.forget()


@pytest.fixture(params=["database", "elasticsearch"])
def backend(request, app, db_session, search_config):
    """The backend suite's parameter: the database always, Elasticsearch when ELASTICSEARCH_URL is set."""
    if request.param == "elasticsearch":
        if not ES_URL:
            pytest.skip("ELASTICSEARCH_URL is not set: Elasticsearch backend suite not run")
        prefix = search_config.elasticsearch(ES_URL)
        yield request.param
        from elasticsearch import Elasticsearch

        client = Elasticsearch(ES_URL)
        client.options(ignore_status=404).indices.delete(index=f"{prefix}-products-*")
        client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-products")
        return
    yield request.param


@pytest.fixture()
def commit(db_session):
    """Commit the test's work (a savepoint release): the outbox drain runs after it, eagerly."""

    def _commit():
        db.session.commit()

    return _commit
