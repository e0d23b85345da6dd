"""Settings, read from the environment with embedded defaults.

Every setting is listed in the README. Nothing secret is a constant here: when
SECRET_KEY or ID_NUMBER_PEPPER is unset, a random value is generated once and
kept in the instance folder, so sessions and hashes survive restarts.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _instance_secret(instance_path: Path, name: str) -> str:
    path = instance_path / name
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must agree on one value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def random_page_cost(raw: str) -> float | None:
    """PostgreSQL's planner cost of a random page read, for every session (None: the server's own).

    PostgreSQL's default (4) assumes spinning disks: with it the planner joins the search matches to
    the product table by scanning all of it, three times slower at 100,000 products than the index
    look-ups it picks at 1.1, the usual value for SSDs and data that fits in memory.
    """
    cost = raw.strip()
    if not cost:
        return None
    try:
        value = float(cost)
    except ValueError:
        value = -1.0
    if not 0 < value <= 100:
        raise ValueError(f"PG_RANDOM_PAGE_COST must be a number above 0 and at most 100, not {cost!r}")
    return value


def load_config(instance_path: str) -> dict:
    inst = Path(instance_path)
    env = os.environ
    database_url = normalise_database_url(
        env.get("DATABASE_URL") or f"sqlite:///{inst / 'marketplace.sqlite'}"
    )
    broker_url = env.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{inst / 'celery-broker.sqlite'}"
    result_backend = env.get("CELERY_RESULT_BACKEND") or (
        f"db+sqlite:///{inst / 'celery-results.sqlite'}"
        if "CELERY_BROKER_URL" not in env
        else broker_url.replace("amqp://", "rpc://", 1)
        if broker_url.startswith("amqp://")
        else broker_url
    )
    secure_cookies = _bool("SESSION_COOKIE_SECURE", False)
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(inst, "secret_key"),
        "ID_NUMBER_PEPPER": env.get("ID_NUMBER_PEPPER") or _instance_secret(inst, "id_number_pepper"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PG_RANDOM_PAGE_COST": random_page_cost(env.get("PG_RANDOM_PAGE_COST", "1.1")),
        "SQLALCHEMY_ECHO": _bool("SQLALCHEMY_ECHO", False),
        "CELERY": {
            "broker_url": broker_url,
            "result_backend": result_backend,
            "task_ignore_result": True,
            "timezone": "Asia/Shanghai",
            "enable_utc": True,
            "broker_connection_retry_on_startup": True,
            "task_always_eager": _bool("CELERY_TASK_ALWAYS_EAGER", False),
            "beat_schedule": {},
        },
        "ELASTICSEARCH_URL": env.get("ELASTICSEARCH_URL", ""),
        "ELASTICSEARCH_INDEX_PREFIX": env.get("ELASTICSEARCH_INDEX_PREFIX", "marketplace"),
        "ELASTICSEARCH_TIMEOUT": float(env.get("ELASTICSEARCH_TIMEOUT") or 10),
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", 587),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_USE_TLS": _bool("SMTP_USE_TLS", True),
        "MAIL_FROM": env.get("MAIL_FROM", "no-reply@localhost"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", ""),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_LOGIN": env.get("RATELIMIT_LOGIN", "10 per minute"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "PASSWORD_RESET_MAX_AGE": _int("PASSWORD_RESET_MAX_AGE", 3600),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_HOURS", 12)),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 10) * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_Hans_CN": "简体中文", "en": "English"},
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "DEMO_PASSWORD": env.get("DEMO_PASSWORD", "demo-password-2026"),
        # flask-smorest
        "API_TITLE": "Consumption-assistance marketplace API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
                }
            },
            "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        },
    }
