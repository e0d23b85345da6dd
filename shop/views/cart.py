"""The cart (open to visitors: their cart lives in the session) and checkout (signed-in buyers)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in
from wtforms.fields.choices import SelectChoice

from core.errors import DomainError, ValidationFailed
from core.extensions import db
from core.permissions import Permission, can, require
from core.personal_data import normalise_phone
from shop import bp
from shop.forms_orders import CheckoutForm
from shop.services import cart, checkout, orders
from shop.views._helpers import county_choices

REFERRAL_SESSION_KEY = "referral_code"  # set by the promotion link /u/<code>; opaque to the shop
_FORM_FIELDS = {"recipient_name", "recipient_phone", "address", "address_region_id", "referral_code"}


def commit_and_announce() -> None:
    """The one commit of a request, then the signals the services queued (never before the commit)."""
    db.session.commit()
    orders.send_pending_signals()


def roll_back() -> None:
    db.session.rollback()
    orders.discard_pending_signals()


def merge_cart_at_login(sender, user, **extra) -> None:
    """flask_login's user_logged_in: the visitor's cart joins the buyer's saved cart.

    The log-in view has committed its own work before ``login_user``; this is a
    second, separate commit so that a failed merge never blocks a log-in.
    """
    if not session.get(cart.SESSION_KEY):
        return
    try:
        merged = cart.merge_session_cart(user)
        db.session.commit()
    except Exception:  # the log-in matters more than the cart
        db.session.rollback()
        current_app.logger.exception("could not merge the visitor's cart")
        return
    if merged:
        flash(_("The items you chose before logging in are in your cart."), "info")


def connect_signals(app) -> None:
    user_logged_in.connect(merge_cart_at_login, app)


@bp.record_once
def _on_register(state) -> None:
    connect_signals(state.app)


# ---------------------------------------------------------------- cart


def _back_to_product(product_id: object):
    pid = str(product_id or "")
    if pid.isdigit() and len(pid) < 18:
        return redirect(url_for("shop.product", product_id=int(pid)))
    return redirect(url_for("shop.cart"))


@bp.get("/cart", endpoint="cart")
def cart_page():
    view = cart.contents(current_user)
    may_buy = can(Permission.SHOP_BUY)
    return render_template("shop/cart/cart.html", view=view, may_buy=may_buy)


@bp.post("/cart/add")
def cart_add():
    product_id = request.form.get("product_id")
    try:
        total = cart.add(current_user, product_id, request.form.get("quantity"))
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
        return _back_to_product(product_id)
    flash(_("Added to your cart (now %(n)d).", n=total), "success")
    return redirect(url_for("shop.cart"))


@bp.post("/cart/<int:product_id>/quantity")
def cart_update(product_id: int):
    try:
        cart.set_quantity(current_user, product_id, request.form.get("quantity"))
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
    else:
        flash(_("The quantity is updated."), "success")
    return redirect(url_for("shop.cart"))


@bp.post("/cart/<int:product_id>/remove")
def cart_remove(product_id: int):
    cart.remove(current_user, product_id)
    commit_and_announce()
    flash(_("Removed from your cart."), "info")
    return redirect(url_for("shop.cart"))


# ---------------------------------------------------------------- checkout


def _checkout_form() -> CheckoutForm:
    form = CheckoutForm()
    form.address_region_id.choices = [SelectChoice(0, _("Not given")), *county_choices()]
    if request.method == "GET":
        form.recipient_name.data = current_user.display_name
        form.recipient_phone.data = current_user.phone or ""
        form.referral_code.data = session.get(REFERRAL_SESSION_KEY) or ""
        form.idempotency_key.data = secrets.token_urlsafe(24)
    return form


def _show_error(form: CheckoutForm, err: DomainError) -> None:
    if err.field in _FORM_FIELDS:
        target = getattr(form, err.field)
        target.errors = [*target.errors, err.message]
    else:
        form.form_errors.append(err.message)


@bp.route("/checkout", methods=["GET", "POST"])
@require(Permission.SHOP_BUY)
def checkout_page():
    form = _checkout_form()
    key = (form.idempotency_key.data or "").strip()
    if request.method == "POST" and key:
        # A second submit of the same form (the first may have emptied the cart): show the first order.
        existing = checkout.find_by_idempotency_key(current_user.id, key)
        if existing is not None:
            return redirect(url_for("shop.order_detail", order_id=existing.id))
    view = cart.contents(current_user)
    if view.is_empty:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("shop.cart"))
    if not view.ready:
        flash(_("Some items in your cart need your attention before checkout."), "error")
        return redirect(url_for("shop.cart"))
    if form.validate_on_submit():
        items = view.orderable()
        try:
            try:
                normalise_phone(form.recipient_phone.data)
            except ValidationFailed as err:  # shown beside the phone field, not at the top
                raise ValidationFailed(err.message, field="recipient_phone") from err
            order = checkout.place_order(
                buyer=current_user, items=items, recipient_name=form.recipient_name.data,
                recipient_phone=form.recipient_phone.data, address=form.address.data,
                address_region_id=form.address_region_id.data or None,
                referral_code=(form.referral_code.data or "").strip() or None, idempotency_key=key,
            )
            cart.remove_ordered(current_user, items)
            commit_and_announce()
        except sa.exc.IntegrityError:
            # The same form submitted twice at once: the other request's order won the key.
            roll_back()
            existing = checkout.find_by_idempotency_key(current_user.id, key)
            if existing is None:
                raise
            return redirect(url_for("shop.order_detail", order_id=existing.id))
        except DomainError as err:
            roll_back()
            _show_error(form, err)
        else:
            flash(_("Thank you! Your order %(number)s is placed. Please pay within %(n)d minutes.",
                    number=order.number, n=current_app.config["SHOP_UNPAID_ORDER_MINUTES"]), "success")
            return redirect(url_for("shop.order_detail", order_id=order.id))
        view = cart.contents(current_user)  # after a rollback: stock as it is now
    status = 422 if request.method == "POST" else 200
    return render_template("shop/cart/checkout.html", form=form, view=view), status
