"""The models and the committed migrations must describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.extensions import db


def test_models_and_migrations_agree(app):
    # The session's schema was built by `flask db upgrade` (see conftest): any
    # difference from the models means a migration is missing or wrong.
    with app.app_context(), db.engine.connect() as conn:
        # The same include_object filter as migrations/env.py (objects made outside the models).
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": db.metadata.info.get("include_object")}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"


def test_migrations_have_a_single_head(app):
    from alembic.script import ScriptDirectory
    from flask import current_app

    with app.app_context():
        config = current_app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"migration history has several heads: {heads}"
