"""How a request is authenticated: the browser session, or a bearer token."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask, request
from flask_login import AnonymousUserMixin, current_user

from core.database import utcnow
from core.extensions import csrf, db, login_manager

# A token's last use is written at most this often: a machine client calling many times a second
# would otherwise pay a row update and a commit on every request.
TOKEN_USE_RECORDED_EVERY = timedelta(minutes=5)


class Anonymous(AnonymousUserMixin):
    role = None
    locale = None


def session_id_for(user) -> str:
    """The id kept in the session cookie: it changes when the password does.

    So a password change or reset ends every other session of that user.
    """
    stamp = user.password_changed_at.isoformat() if user.password_changed_at else ""
    fingerprint = hashlib.sha256(f"{user.password_hash}|{stamp}".encode()).hexdigest()[:16]
    return f"{user.id}.{fingerprint}"


def init_login(app: Flask) -> None:
    from core.accounts.models import ApiToken, User

    login_manager.anonymous_user = Anonymous
    User.get_id = session_id_for  # type: ignore[method-assign]

    @login_manager.user_loader
    def load_user(session_id: str):
        if request.headers.get("Authorization", "").startswith("Bearer "):
            # A request that names a token is that token's alone: a session cookie
            # riding along must neither stand in for a wrong token nor override a
            # right one (and such requests skip the CSRF check below).
            return load_user_from_token(request)
        user_id, _, _fingerprint = session_id.partition(".")
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or session_id_for(user) != session_id:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = header[len("Bearer ") :].strip()
        row = db.session.execute(
            db.select(ApiToken).where(ApiToken.token_hash == ApiToken.digest(token), ApiToken.revoked_at.is_(None))
        ).scalar_one_or_none()
        if row is None or not row.user.active:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RECORDED_EVERY:
            row.last_used_at = now
            db.session.commit()
        return row.user

    # CSRF is checked here, once, instead of by CSRFProtect's blanket hook:
    # API calls with a bearer token carry no ambient credential, so CSRF does
    # not apply to them; everything else riding on the browser session (forms,
    # and API calls from our own pages, which send the X-CSRFToken header) must
    # carry the token. Webhooks that prove themselves another way (a signature)
    # are listed in app.extensions["csrf_exempt_endpoints"] by their domain.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.extensions.setdefault("csrf_exempt_endpoints", set())

    @app.before_request
    def _check_csrf():
        if not app.config.get("WTF_CSRF_ENABLED", True) or request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Bearer "):
            return
        if request.endpoint in app.extensions["csrf_exempt_endpoints"]:
            return
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return  # nothing ambient to abuse; the endpoint answers 401 itself
        csrf.protect()
