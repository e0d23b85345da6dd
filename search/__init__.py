"""Product search: one service, a database backend and an Elasticsearch backend.

See search/README.md for the design: backends, Chinese text, ranking, the outbox.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("search", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static", url_prefix="/search")

DRAIN_EVERY_SECONDS = 60.0


def init_app(app: Flask) -> None:
    from celery.schedules import crontab
    from flask_babel import lazy_gettext as _l

    from core.demo import Seeder
    from core.extensions import api
    from core.templating import add_nav_item
    from search import api as search_api
    from search import models, outbox, tasks, views  # noqa: F401  (models and routes register themselves)
    from search.cli import search_cli

    app.register_blueprint(bp)
    api.register_blueprint(search_api.blp)
    outbox.install()
    app.cli.add_command(search_cli)

    # Before celery_init_app (core/__init__.py runs register_domains first), so beat sees them.
    schedule = app.config["CELERY"].setdefault("beat_schedule", {})
    schedule.setdefault("search-drain-outbox", {"task": tasks.DRAIN_TASK, "schedule": DRAIN_EVERY_SECONDS})
    schedule.setdefault("search-reconcile-index", {"task": tasks.RECONCILE_TASK,
                                                   "schedule": crontab(hour=4, minute=15)})

    app.extensions["readiness_checks"]["search"] = _readiness
    app.extensions["demo_seeders"].append(Seeder(
        name="search", order=90, seed=_seed_index, scale=_scale_index,
        # The documents read products and their orders (shop 10, procurement 20), not the attributions
        # (80): the rebuild runs beside them.
        scale_reads_up_to=20,
    ))
    add_nav_item(app, "search.search_page", _l("Search"), order=15)
    app.extensions.setdefault("home_sections", []).insert(0, lambda: {"template": "search/_home_search.html"})


def _readiness() -> dict:
    """The backend answers; the outbox backlog is reported beside it."""
    import sqlalchemy as sa

    from core.database import utcnow
    from core.extensions import db
    from search.backends import get_backend
    from search.models import SearchOutbox

    detail = get_backend().check()
    pending, oldest = db.session.execute(sa.select(sa.func.count(), sa.func.min(SearchOutbox.created_at))).one()
    detail["outbox_pending"] = pending
    detail["outbox_oldest_seconds"] = round((utcnow() - oldest).total_seconds()) if oldest else 0
    return detail


def _seed_index(ctx) -> None:
    """After the demo data: build the index (the scale seeder writes products with COPY, past the outbox)."""
    import logging

    from search import indexing
    from search.errors import SearchUnavailable

    try:
        ctx.count("search documents", indexing.reindex())
        # The seed's own commits queued outbox rows for a worker that may not run yet; the
        # rebuild already holds their state, so apply them here instead of leaving a backlog.
        indexing.drain_outbox()
    except SearchUnavailable:
        # The engine is down: queue everything instead; the drain indexes it when it is back.
        from core.extensions import db
        from search.documents import on_sale_ids
        from search.outbox import record_products

        for ids in on_sale_ids(db.session):
            record_products(db.session, ids, "seed")
        logging.getLogger(__name__).warning("search engine unreachable: products queued in the search outbox")


def _scale_index(ctx, n: int) -> None:
    _seed_index(ctx)
