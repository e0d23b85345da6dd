"""The application factory: a list of ``register_*`` steps."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from core.config import load_config
from core.extensions import api, babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder="templates",
        static_folder="static",
    )
    app.config.from_mapping(load_config(app.instance_path))
    if overrides:
        app.config.update(overrides)
    app.extensions["readiness_checks"] = {}
    app.extensions["demo_seeders"] = []

    from core.logging import configure_logging

    configure_logging(app)
    register_extensions(app)
    register_core_blueprints(app)
    register_domains(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_commands(app)

    from core.celery import celery_init_app

    celery_init_app(app)
    return app


def _select_locale() -> str:
    languages = {"zh_Hans_CN", "en"}
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default  # command line and Celery tasks speak the default language
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return default


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    from core.database import configure_engine

    with app.app_context():
        configure_engine(db.engine, random_page_cost=app.config.get("PG_RANDOM_PAGE_COST"))
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, default_translation_directories=str(ROOT / "translations"))
    api.init_app(app)

    from core.accounts import auth

    auth.init_login(app)


def register_core_blueprints(app: Flask) -> None:
    from core.accounts import api as accounts_api
    from core.accounts.views import bp as accounts_bp
    from core.health import bp as health_bp
    from core.main import bp as main_bp
    from core.registry import api as registry_api
    from core.registry.views import bp as registry_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(registry_bp)
    api.register_blueprint(accounts_api.blp)
    api.register_blueprint(registry_api.blp)


def register_domains(app: Flask) -> None:
    # The only place core touches the domains: each registers itself.
    import alerts
    import procurement
    import search
    import shop

    for domain in (shop, procurement, search, alerts):
        domain.init_app(app)


def register_error_handlers(app: Flask) -> None:
    from core.errors import register_error_handlers as _register

    # After api.init_app, so that our JSON shape replaces flask-smorest's.
    _register(app)


def register_template_helpers(app: Flask) -> None:
    from core import templating

    templating.init_app(app)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        # Every asset is served by us: no request leaves the machine.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_commands(app: Flask) -> None:
    from core import cli

    cli.init_app(app)
