from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core.accounts import forms, services
from core.errors import DomainError
from core.extensions import db, limiter
from core.mail import send_mail
from core.permissions import Permission, require

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


def _public_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail, on PUBLIC_BASE_URL when set.

    Otherwise Flask builds it on the request's Host header, which the visitor
    chooses: a reset link for someone else's account would point at their site.
    """
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = forms.LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("E-mail or password is not correct."))
        else:
            db.session.commit()
            # Flask keeps the session in a signed cookie, so there is no server
            # session id to fix; the visitor's cart stays and the shop merges it
            # on flask_login's user_logged_in signal.
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if request.method == "GET" else 422


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = forms.RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(
                email=form.email.data,
                password=form.password.data,
                display_name=form.display_name.data,
                phone=form.phone.data or None,
            )
        except DomainError as err:
            db.session.rollback()
            getattr(form, err.field or "email").errors.append(err.message)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/", methods=["GET"])
@require(Permission.ACCOUNT)
def profile():
    return render_template(
        "accounts/profile.html",
        password_form=forms.ChangePasswordForm(),
        token_form=forms.ApiTokenForm(),
        tokens=[t for t in current_user.api_tokens if t.revoked_at is None],
        new_token=session.pop("new_token", None),
        # What the domains put on the account page (e.g. the employer link, orders waiting for a supplier).
        sections=[x for x in (entry() for entry in current_app.extensions.get("account_sections", [])) if x],
    )


@bp.post("/password")
@require(Permission.ACCOUNT)
def change_password():
    form = forms.ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data)
        except DomainError as err:
            db.session.rollback()
            getattr(form, err.field or "password").errors.append(err.message)
        else:
            db.session.commit()
            # Keep this session (its id now carries the new fingerprint); others end.
            # The user object, not the current_user proxy, or the proxy would point at itself.
            login_user(current_user._get_current_object(), fresh=True)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    tokens = [t for t in current_user.api_tokens if t.revoked_at is None]
    return render_template(
        "accounts/profile.html", password_form=form, token_form=forms.ApiTokenForm(), tokens=tokens, new_token=None
    ), 422


@bp.post("/tokens")
@require(Permission.ACCOUNT)
def create_token():
    form = forms.ApiTokenForm()
    if form.validate_on_submit():
        token = services.issue_api_token(current_user, form.name.data)
        db.session.commit()
        session["new_token"] = token  # shown once, on the next page
    else:
        flash(_("Give the token a name of up to 80 characters."), "error")
    return redirect(url_for("accounts.profile"))


@bp.post("/tokens/<int:token_id>/revoke")
@require(Permission.ACCOUNT)
def revoke_token(token_id: int):
    services.revoke_api_token(current_user, token_id)
    db.session.commit()
    flash(_("The token has been revoked."), "info")
    return redirect(url_for("accounts.profile"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = forms.ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_by_email(form.email.data)
        if user is not None and user.active:
            token = services.make_reset_token(user)
            link = _public_url("accounts.reset_password", token=token)
            send_mail(
                user.email,
                _("Reset your password"),
                _("Open this link within an hour to choose a new password:\n%(link)s", link=link),
            )
        # Same answer whether or not the address is known.
        flash(_("If the address has an account, a reset link is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password_with_token(token, form.password.data)
        except DomainError as err:
            db.session.rollback()
            form.password.errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Your password has been set. Please log in."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), 422 if form.errors else 200
