"""One log line per request, with a request id, and personal data masked."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, request
from flask_login import current_user

from core.personal_data import RedactingFilter

_REQUEST_ID_HEADER = "X-Request-ID"


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        record.request_id = getattr(request, "request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_marketplace", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler._marketplace = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        handler.addFilter(_RequestIdFilter())
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    # Werkzeug's own access log would repeat ours, with query strings that may hold personal data.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    access = logging.getLogger("marketplace.access")

    @app.before_request
    def _start_request():
        incoming = request.headers.get(_REQUEST_ID_HEADER, "")
        request.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isascii() else uuid.uuid4().hex
        g._started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.pop("_started", None)
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        user_id = current_user.get_id().split(".")[0] if current_user and current_user.is_authenticated else "-"
        # Path only: query strings can carry search terms or tokens.
        access.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            user_id,
        )
        response.headers[_REQUEST_ID_HEADER] = request.request_id
        return response
