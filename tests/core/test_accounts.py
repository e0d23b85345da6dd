"""Accounts: registering, logging in and out, passwords, reset links, API tokens and CSRF."""

from __future__ import annotations

import itertools
import logging
import re
import time
from contextlib import contextmanager

import itsdangerous
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from core.accounts import services
from core.accounts.auth import TOKEN_USE_RECORDED_EVERY, session_id_for
from core.accounts.models import ApiToken, User
from core.audit import AuditEntry
from core.extensions import db
from core.permissions import Role
from tests import factories

NEW_PASSWORD = "new-password-22"
_emails = itertools.count(1)


class Browser(FlaskClient):
    """A test client whose every request runs in its own application context, as in production.

    The db_session fixture keeps one application context open for the whole test and Flask
    reuses it for requests, so flask.g (where Flask-Login keeps the loaded user) and the
    database session would otherwise carry over from one request, and one browser, to the
    next. Set-up data must be committed (a savepoint release) to outlive a request.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def new_browser(app) -> Browser:
    browser = Browser(app, app.response_class, use_cookies=True)
    with browser.session_transaction() as sess:
        sess["lang"] = "en"  # the assertions read the English wording; Chinese is the default
    return browser


@pytest.fixture()
def browser(app, client):
    """A fresh Browser; asking for ``client`` resets the rate limiter."""
    return new_browser(app)


def sign_in(browser: FlaskClient, user: User) -> User:
    """Give ``browser`` a session for ``user`` without a password round-trip."""
    with browser.session_transaction() as sess:
        sess["_user_id"] = session_id_for(user)
        sess["_fresh"] = True
    return user


def _account(**kw) -> User:
    # The log-in form checks addresses with email_validator, which refuses the reserved .test domain.
    kw.setdefault("email", f"account{next(_emails)}@example.com")
    user = factories.UserFactory(**kw)
    db.session.commit()
    return user


def _users(db_session) -> int:
    return db_session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one()


def _user(db_session, user_id: int) -> User:
    db_session.expire_all()
    return db_session.get(User, user_id)


def _log_in(browser, email, password):
    return browser.post("/account/login", data={"email": email, "password": password})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def csrf_enabled(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _csrf_token(browser) -> str:
    html = browser.get("/account/").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _mails(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.mail"]


def _reset_link(caplog) -> str:
    (mail,) = _mails(caplog)
    return re.search(r"http://localhost\.test(/account/reset/\S+)", mail).group(1)


def _error(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


# --- registering ---------------------------------------------------------------------------------


def _register(browser, **fields):
    data = {"display_name": "王小明", "email": "xiaoming@example.com", "phone": "",
            "password": "apples-and-plums-7", "confirm": "apples-and-plums-7", **fields}
    return browser.post("/account/register", data=data)


def test_registering_creates_a_consumer_and_logs_in(browser, db_session):
    response = _register(browser, email="XiaoMing@Example.com", phone="138 1234 5678")
    assert response.status_code == 302

    user = db_session.execute(sa.select(User).where(User.email == "xiaoming@example.com")).scalar_one()
    assert user.role == Role.CONSUMER
    assert user.phone == "13812345678"
    assert user.password_hash != "apples-and-plums-7"
    me = browser.get("/api/v1/me").get_json()
    assert me["email"] == "xiaoming@example.com"
    assert me["role"] == "consumer"
    assert me["phone"] == "138****5678"


def test_registering_with_a_taken_email_is_refused_and_writes_nothing(browser, db_session):
    _account(email="taken@example.com")
    before = _users(db_session)

    response = _register(browser, email="Taken@Example.com")
    assert response.status_code == 422
    assert "An account with this e-mail address already exists." in response.get_data(as_text=True)
    assert _users(db_session) == before
    assert browser.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("onlyletterspassword", "Use both letters and digits in the password."),
        ("12345678901234", "Use both letters and digits in the password."),
        ("short1", None),  # the form's own length check, worded by WTForms
    ],
)
def test_registering_with_a_weak_password_is_refused_and_writes_nothing(browser, db_session, password, message):
    before = _users(db_session)
    response = _register(browser, password=password, confirm=password)
    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert message is None or message in response.get_data(as_text=True)
    assert _users(db_session) == before


def test_registering_with_a_bad_mobile_number_shows_the_error_beside_the_phone_field(browser, db_session):
    before = _users(db_session)
    response = _register(browser, phone="023-1234")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="phone-error">Mobile number must be 11 digits', html)
    assert 'id="email-error"' not in html
    assert _users(db_session) == before


def test_registering_with_differing_passwords_is_refused(browser, db_session):
    response = _register(browser, confirm="apples-and-plums-8")
    assert response.status_code == 422
    assert "Passwords differ." in response.get_data(as_text=True)


# --- logging in and out ------------------------------------------------------------------------------


def test_logging_in_with_the_right_password_starts_a_session(browser, db_session):
    user = _account()
    response = browser.post("/account/login?next=/account/", data={"email": user.email.upper(),
                                                                   "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert browser.get("/api/v1/me").get_json()["id"] == user.id
    assert _user(db_session, user.id).last_login_at is not None


def test_logging_in_never_redirects_to_another_site(browser, db_session):
    user = _account()
    response = browser.post("/account/login?next=//evil.example/x", data={"email": user.email,
                                                                         "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(browser, db_session):
    user = _account()
    response = _log_in(browser, user.email, "not-the-password-1")
    assert response.status_code == 422
    assert "E-mail or password is not correct." in response.get_data(as_text=True)
    assert browser.get("/api/v1/me").status_code == 401


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(browser, db_session):
    response = _log_in(browser, "nobody@example.com", "not-the-password-1")
    assert response.status_code == 422
    assert "E-mail or password is not correct." in response.get_data(as_text=True)


def test_deactivated_account_cannot_log_in(browser, db_session):
    user = _account(active=False)
    assert _log_in(browser, user.email, factories.PASSWORD).status_code == 422


def test_eleventh_login_attempt_within_a_minute_is_refused(browser, db_session):
    user = _account()
    for _ in range(10):
        assert _log_in(browser, user.email, "not-the-password-1").status_code == 422

    response = _log_in(browser, user.email, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts. Please wait a minute and try again." in response.get_data(as_text=True)
    # Even the right password does not get through until the minute is over.
    assert browser.get("/api/v1/me").status_code == 401
    # Looking at the form is not limited.
    assert browser.get("/account/login").status_code == 200


def test_logging_out_ends_the_session(browser, db_session):
    sign_in(browser, _account())
    assert browser.get("/api/v1/me").status_code == 200
    response = browser.post("/account/logout")
    assert response.status_code == 302
    assert browser.get("/api/v1/me").status_code == 401


def test_pages_send_visitors_to_log_in_and_the_api_answers_401(browser, db_session):
    response = browser.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")
    response = browser.get("/api/v1/me")
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


# --- changing the password ---------------------------------------------------------------------------


def _change_password(browser, current=factories.PASSWORD, new=NEW_PASSWORD, confirm=None):
    return browser.post("/account/password", data={"current_password": current, "password": new,
                                                   "confirm": confirm or new})


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(app, browser, db_session):
    user = _account()
    other_browser = new_browser(app)
    sign_in(other_browser, user)
    sign_in(browser, user)
    assert other_browser.get("/api/v1/me").status_code == 200

    response = _change_password(browser)
    assert response.status_code == 302

    assert browser.get("/api/v1/me").status_code == 200
    assert other_browser.get("/api/v1/me").status_code == 401
    assert _log_in(new_browser(app), user.email, NEW_PASSWORD).status_code == 302
    audit = db_session.execute(sa.select(AuditEntry.action).where(AuditEntry.target_id == str(user.id))).scalars()
    assert "account.password_changed" in list(audit)


def test_changing_the_password_ends_a_remembered_login_elsewhere(app, browser, db_session):
    user = _account()
    other_browser = new_browser(app)
    assert other_browser.post("/account/login", data={"email": user.email, "password": factories.PASSWORD,
                                                      "remember": "y"}).status_code == 302
    sign_in(browser, user)

    assert _change_password(browser).status_code == 302
    assert other_browser.get("/api/v1/me").status_code == 401


def test_changing_the_password_needs_the_current_one(browser, db_session):
    user = sign_in(browser, _account())
    old_hash = user.password_hash

    response = _change_password(browser, current="not-the-password-1")
    assert response.status_code == 422
    assert "The current password is not correct." in response.get_data(as_text=True)
    assert _user(db_session, user.id).password_hash == old_hash
    assert browser.get("/api/v1/me").status_code == 200


def test_changing_to_a_weak_password_is_refused(browser, db_session):
    user = sign_in(browser, _account())
    response = _change_password(browser, new="onlyletterspassword")
    assert response.status_code == 422
    assert "Use both letters and digits in the password." in response.get_data(as_text=True)
    assert _user(db_session, user.id).check_password(factories.PASSWORD)


# --- password reset by e-mail ----------------------------------------------------------------------


def test_password_reset_link_sets_a_new_password_once(app, browser, db_session, caplog):
    user = _account()
    other_browser = new_browser(app)
    sign_in(other_browser, user)
    assert not app.config["SMTP_HOST"]

    with caplog.at_level(logging.WARNING, logger="core.mail"):
        response = browser.post("/account/forgot", data={"email": user.email})
    assert response.status_code == 302
    link = _reset_link(caplog)

    assert browser.get(link).status_code == 200
    response = browser.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"

    assert _log_in(new_browser(app), user.email, factories.PASSWORD).status_code == 422
    assert _log_in(new_browser(app), user.email, NEW_PASSWORD).status_code == 302
    assert other_browser.get("/api/v1/me").status_code == 401

    # The same link a second time.
    response = browser.post(link, data={"password": "third-password-3", "confirm": "third-password-3"})
    assert response.status_code == 422
    assert "This reset link has already been used." in response.get_data(as_text=True)
    assert _user(db_session, user.id).check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(browser, db_session, caplog):
    user = _account()
    with caplog.at_level(logging.WARNING, logger="core.mail"):
        known = browser.post("/account/forgot", data={"email": user.email}, follow_redirects=True)
        unknown = browser.post("/account/forgot", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert len([r for r in caplog.records if r.name == "core.mail"]) == 1
    message = "If the address has an account, a reset link is on its way."
    assert message in known.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_password_reset_link_is_built_on_the_public_address_not_the_request_host(app, browser, db_session, caplog):
    user = _account()
    # As in production: no SERVER_NAME, so Flask would build links on the Host header a visitor sent.
    saved = app.config["SERVER_NAME"]
    app.config.update(SERVER_NAME=None, PUBLIC_BASE_URL="https://shop.example.cn")
    try:
        with caplog.at_level(logging.WARNING, logger="core.mail"):
            browser.post("http://evil.example/account/forgot", data={"email": user.email})
    finally:
        app.config.update(SERVER_NAME=saved, PUBLIC_BASE_URL="")
    (record,) = [r for r in caplog.records if r.name == "core.mail"]
    assert "https://shop.example.cn/account/reset/" in record.getMessage()
    assert "evil.example" not in record.getMessage()


def test_expired_password_reset_link_is_refused(browser, db_session, monkeypatch):
    user = _account()
    with browser.application.test_request_context():
        token = services.make_reset_token(user)
    later = int(time.time()) + browser.application.config["PASSWORD_RESET_MAX_AGE"] + 1
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: later)

    response = browser.post(f"/account/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "This reset link has expired. Ask for a new one." in response.get_data(as_text=True)
    assert _user(db_session, user.id).check_password(factories.PASSWORD)


def test_forged_password_reset_link_is_refused(browser, db_session):
    user = _account()
    forged = itsdangerous.URLSafeTimedSerializer("guessed-secret", salt="password-reset").dumps(
        {"uid": user.id, "h": user.password_hash[-16:]})
    for token in (forged, "not-a-token"):
        response = browser.post(f"/account/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 422
        assert "This reset link is not valid." in response.get_data(as_text=True)
    assert _user(db_session, user.id).check_password(factories.PASSWORD)


# --- API tokens ----------------------------------------------------------------------------------------


def _token_for(db_session, user, name="etl") -> str:
    token = services.issue_api_token(user, name)
    db_session.commit()
    return token


def test_bearer_token_reaches_the_api_as_its_user(browser, db_session):
    user = _account()
    token = _token_for(db_session, user)

    response = browser.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 200
    assert response.get_json()["email"] == user.email
    row = db_session.execute(sa.select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    assert row.token_hash != token and token not in row.prefix + row.token_hash
    assert row.last_used_at is not None
    first_use = row.last_used_at

    def recorded_use():
        return db_session.execute(sa.select(ApiToken.last_used_at).where(ApiToken.user_id == user.id)).scalar_one()

    # Used again at once, the token keeps its recorded use (written at most every few minutes) ...
    assert browser.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert recorded_use() == first_use
    # ... and records the new one when the last is older than that.
    db_session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id)
                       .values(last_used_at=first_use - TOKEN_USE_RECORDED_EVERY))
    db_session.commit()
    assert browser.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert recorded_use() > first_use


def test_revoked_token_is_refused_with_json_401(app, browser, db_session):
    user = _account()
    token = _token_for(db_session, user)
    row = db_session.execute(sa.select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    sign_in(browser, user)
    assert browser.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert browser.post(f"/account/tokens/{row.id}/revoke").status_code == 302

    response = new_browser(app).get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.is_json
    assert _error(response) == {"code": "unauthorized", "message": "Please log in first."}


def test_wrong_token_is_refused_with_json_401(browser, db_session):
    _account()
    for header in ({"Authorization": "Bearer mkt_not-a-real-token"}, {"Authorization": "Bearer "},
                   {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = browser.get("/api/v1/me", headers=header)
        assert response.status_code == 401
        assert _error(response)["code"] == "unauthorized"


def test_token_of_a_deactivated_account_is_refused(browser, db_session):
    user = _account()
    token = _token_for(db_session, user)
    user.active = False
    db_session.commit()
    assert browser.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(browser, db_session):
    owner = _account()
    token = _token_for(db_session, owner)
    row = db_session.execute(sa.select(ApiToken).where(ApiToken.user_id == owner.id)).scalar_one()
    sign_in(browser, _account())

    assert browser.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert browser.get("/api/v1/me", headers=_bearer(token)).status_code == 200


def test_a_bearer_token_speaks_for_its_own_user_even_beside_a_browser_session(browser, db_session):
    token_owner = _account()
    token = _token_for(db_session, token_owner)
    sign_in(browser, _account())

    assert browser.get("/api/v1/me", headers=_bearer(token)).get_json()["id"] == token_owner.id
    # A wrong token is not rescued by the session cookie.
    assert browser.get("/api/v1/me", headers=_bearer("mkt_wrong")).status_code == 401


def test_token_made_on_the_profile_page_is_shown_once(browser, db_session):
    sign_in(browser, _account())
    assert browser.post("/account/tokens", data={"name": "报表脚本"}).status_code == 302
    first = browser.get("/account/").get_data(as_text=True)
    token = re.search(r"<code>(mkt_[^<]+)</code>", first).group(1)
    assert token not in browser.get("/account/").get_data(as_text=True)
    assert browser.get("/api/v1/me", headers=_bearer(token)).status_code == 200


# --- CSRF ------------------------------------------------------------------------------------------------


def test_bearer_token_post_needs_no_csrf_token(app, browser, db_session):
    user = _account()
    token = _token_for(db_session, user)
    with csrf_enabled(app):
        response = browser.post("/api/v1/tokens", json={"name": "second"}, headers=_bearer(token))
    assert response.status_code == 201
    assert response.get_json()["token"].startswith("mkt_")


def test_session_api_post_without_csrf_token_is_refused(app, browser, db_session):
    user = sign_in(browser, _account())
    with csrf_enabled(app):
        response = browser.post("/api/v1/tokens", json={"name": "sneaky"})
    assert response.status_code == 400
    assert _error(response)["code"] == "csrf_failed"
    assert db_session.execute(sa.select(ApiToken).where(ApiToken.user_id == user.id)).first() is None


def test_session_api_post_with_the_pages_csrf_token_is_accepted(app, browser, db_session):
    sign_in(browser, _account())
    with csrf_enabled(app):
        token = _csrf_token(browser)
        response = browser.post("/api/v1/tokens", json={"name": "from-page"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_form_post_without_csrf_token_is_refused(app, browser, db_session):
    sign_in(browser, _account())
    with csrf_enabled(app):
        assert browser.post("/account/logout").status_code == 400
        assert browser.get("/api/v1/me").status_code == 200
        assert browser.post("/account/logout", data={"csrf_token": _csrf_token(browser)}).status_code == 302
    assert browser.get("/api/v1/me").status_code == 401


def test_login_form_without_csrf_token_is_refused(app, browser, db_session):
    user = _account()
    with csrf_enabled(app):
        response = _log_in(browser, user.email, factories.PASSWORD)
    assert response.status_code == 400
    assert browser.get("/api/v1/me").status_code == 401
