"""The buyer's order pages: my orders, an order, paying, cancelling, confirming receipt, asking for a refund.

The order is marked paid only by a verified Stripe webhook or a transfer that an
administrator confirms: the page the buyer's browser comes back to after Stripe
only shows the order as it stands.
"""

from __future__ import annotations

import logging

import stripe
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import DomainError
from core.pagination import paginate
from core.permissions import Permission, require
from shop import bp
from shop.forms_orders import ORDER_STATUS, PAYMENT_STATUS, REFUND_STATUS, RefundRequestForm
from shop.models import OrderStatus
from shop.models_orders import PaymentProviderName
from shop.payments import services as payments
from shop.payments.manual import ManualProvider
from shop.services import order_reads, orders
from shop.views.cart import commit_and_announce, roll_back

log = logging.getLogger(__name__)
REFUNDABLE = {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.COMPLETED}


@bp.app_template_global()
def order_status_label(value) -> str:
    return str(ORDER_STATUS.get(value, value))


@bp.app_template_global()
def payment_status_label(value) -> str:
    return str(PAYMENT_STATUS.get(value, value))


@bp.app_template_global()
def refund_status_label(value) -> str:
    return str(REFUND_STATUS.get(value, value))


@bp.get("/orders/")
@require(Permission.SHOP_BUY)
def my_orders():
    page = paginate(order_reads.buyer_orders(current_user), per_page=20)
    statuses = {order.id: order_reads.order_status(order) for order in page.items}
    return render_template("shop/orders/list.html", page=page, statuses=statuses)


def _detail(order, *, returning: bool = False, status: int = 200):
    refunds = order_reads.refunds_of([so.id for so in order.sub_orders])
    return render_template(
        "shop/orders/detail.html", order=order, status=order_reads.order_status(order),
        unpaid=order_reads.is_unpaid(order), payments=order_reads.payments_of(order.id),
        transfer=order_reads.open_transfer(order.id), bank=ManualProvider.bank_account(),
        stripe_enabled=PaymentProviderName.STRIPE in payments.available_providers(),
        refunds=refunds, timelines={so.id: order_reads.timeline(order, so, refunds[so.id])
                                    for so in order.sub_orders},
        refundable=REFUNDABLE, returning=returning, open_refund_of={
            so.id: next((r for r in refunds[so.id] if r.status.value == "requested"), None)
            for so in order.sub_orders},
    ), status


@bp.get("/orders/<int:order_id>")
@require(Permission.SHOP_BUY)
def order_detail(order_id: int):
    return _detail(order_reads.buyer_order(order_id, current_user))


@bp.get("/orders/<int:order_id>/payment-return")
@require(Permission.SHOP_BUY)
def order_payment_return(order_id: int):
    """Where Stripe sends the buyer back. Shows the order as it stands: only the webhook marks it paid."""
    return _detail(order_reads.buyer_order(order_id, current_user), returning=True)


@bp.post("/orders/<int:order_id>/pay")
@require(Permission.SHOP_BUY)
def order_pay(order_id: int):
    order = order_reads.buyer_order(order_id, current_user, lock=True)
    provider = request.form.get("provider", "")
    if provider not in {p.value for p in payments.available_providers()}:
        flash(_("This payment method is not available."), "error")
        return redirect(url_for("shop.order_detail", order_id=order.id))
    if provider == PaymentProviderName.MANUAL and order_reads.open_transfer(order.id) is not None:
        return redirect(url_for("shop.order_detail", order_id=order.id, _anchor="pay"))
    try:
        start = payments.start_payment(
            order, provider,
            success_url=url_for("shop.order_payment_return", order_id=order.id, _external=True),
            cancel_url=url_for("shop.order_detail", order_id=order.id, _external=True),
        )
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
        return redirect(url_for("shop.order_detail", order_id=order.id))
    except stripe.StripeError:
        roll_back()
        log.warning("could not start a Stripe payment for order %s", order.id, exc_info=True)
        flash(_("The card payment service cannot be reached right now. Please try again in a moment, "
                "or pay by bank transfer."), "error")
        return redirect(url_for("shop.order_detail", order_id=order.id))
    if start.redirect_url:
        return redirect(start.redirect_url, code=303)
    flash(_("Please transfer the amount with the reference shown below."), "info")
    return redirect(url_for("shop.order_detail", order_id=order.id, _anchor="pay"))


@bp.post("/orders/<int:order_id>/cancel")
@require(Permission.SHOP_BUY)
def order_cancel(order_id: int):
    order = order_reads.buyer_order(order_id, current_user, lock=True)
    try:
        orders.cancel(order, actor=current_user, reason=(request.form.get("reason") or "cancelled by the buyer"))
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
    else:
        flash(_("Your order %(number)s is cancelled.", number=order.number), "info")
    return redirect(url_for("shop.order_detail", order_id=order_id))


@bp.post("/orders/<int:order_id>/parts/<int:sub_order_id>/receipt")
@require(Permission.SHOP_BUY)
def order_confirm_receipt(order_id: int, sub_order_id: int):
    order = order_reads.buyer_order(order_id, current_user, lock=True)
    sub_order = order_reads.buyer_sub_order(order, sub_order_id)
    try:
        orders.confirm_receipt(sub_order)
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
    else:
        flash(_("Thank you for confirming that the parcel arrived."), "success")
    return redirect(url_for("shop.order_detail", order_id=order_id))


def _refund_quantities(sub_order) -> tuple[dict[int, int], dict[int, str]]:
    """``{line_id: quantity}`` from the form's ``qty-<line id>`` fields, and an error per bad field."""
    quantities: dict[int, int] = {}
    errors: dict[int, str] = {}
    for line in sub_order.lines:
        raw = (request.form.get(f"qty-{line.id}") or "0").strip()
        if not raw.isdigit():
            errors[line.id] = _("Give a whole number from 0 to %(n)d.", n=line.quantity - line.refunded_quantity)
            continue
        quantities[line.id] = int(raw)
    return quantities, errors


@bp.route("/orders/<int:order_id>/parts/<int:sub_order_id>/refund", methods=["GET", "POST"])
@require(Permission.SHOP_BUY)
def order_refund(order_id: int, sub_order_id: int):
    order = order_reads.buyer_order(order_id, current_user, lock=request.method == "POST")
    sub_order = order_reads.buyer_sub_order(order, sub_order_id)
    form = RefundRequestForm()
    line_errors: dict[int, str] = {}
    values = {line.id: line.quantity - line.refunded_quantity for line in sub_order.lines}
    if request.method == "POST":
        values, line_errors = _refund_quantities(sub_order)
        if form.validate_on_submit() and not line_errors:
            try:
                orders.request_refund(sub_order, lines=values, reason=form.reason.data, actor=current_user)
                commit_and_announce()
            except DomainError as err:
                roll_back()
                if err.field == "reason":
                    form.reason.errors = [*form.reason.errors, err.message]
                else:
                    form.form_errors.append(err.message)
            else:
                flash(_("Your refund request is sent to the supplier."), "success")
                return redirect(url_for("shop.order_detail", order_id=order_id))
    status = 422 if request.method == "POST" else 200
    return render_template("shop/orders/refund.html", order=order, sub_order=sub_order, form=form,
                           values=values, line_errors=line_errors, refundable=REFUNDABLE), status
