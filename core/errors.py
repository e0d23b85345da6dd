"""Domain errors and the one place that turns them into HTTP answers.

Services raise ``DomainError`` subclasses with a message a person can read.
API requests get ``{"error": {"code": ..., "message": ..., "details": ...}}``
with a 4xx status; pages get the message rendered on an error page (views that
own a form catch the error first and show it beside the field).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_body(code: str, message: str, details: Any = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def _render(status: int, code: str, message: str, details: Any = None):
    if wants_json():
        return jsonify(error_body(code, message, details)), status
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    from core.extensions import db

    @app.errorhandler(DomainError)
    def handle_domain_error(err: DomainError):
        db.session.rollback()
        details = err.details
        if err.field and details is None:
            details = {"field": err.field}
        return _render(err.status, err.code, err.message, details)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(err: CSRFError):
        from flask_babel import gettext as _

        return _render(400, "csrf_failed", _("This form has expired or did not come from this site. "
                                              "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def handle_http_error(err: HTTPException):
        from flask_babel import gettext as _

        status = err.code or 500
        if status >= 500:
            db.session.rollback()
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in first."),
            403: _("You do not have permission to do this."),
            404: _("The page or record was not found."),
            405: _("This action is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        message = messages.get(status, err.description or "")
        details = getattr(err, "data", None)
        # webargs/flask-smorest put validation messages under data["messages"].
        if isinstance(details, dict) and "messages" in details:
            details = details["messages"]
            code = "validation_failed"
            message = _("Some fields are invalid.")
        else:
            details = None
            code = err.name.lower().replace(" ", "_")
        return _render(status, code, message, details)

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        from flask_babel import gettext as _

        return _render(500, "internal_error", _("Something went wrong on our side. Please try again."))
