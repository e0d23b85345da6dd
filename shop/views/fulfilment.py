"""Fulfilment: the supplier's sub-orders (ship, decide refunds) and the administrators' transfer
confirmations and refund decisions."""

from __future__ import annotations

import logging

import sqlalchemy as sa
import stripe
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import Conflict, DomainError
from core.extensions import db
from core.pagination import paginate
from core.permissions import Permission, can, require
from shop import bp
from shop.forms_orders import ORDER_STATUS, ConfirmTransferForm, DecisionForm, ShipForm
from shop.models import OrderStatus
from shop.payments import services as payments
from shop.services import order_reads, orders
from shop.services.common import supplier_of
from shop.views.cart import commit_and_announce, roll_back

log = logging.getLogger(__name__)
DECISIONS = ("approve", "decline")


def _decide(sub_order, action: str, note: str) -> str:
    """Approve or decline the open refund request of ``sub_order``; returns the message for the person."""
    if action == "approve":
        try:
            orders.approve_refund(sub_order, actor=current_user, note=note)
        except stripe.StripeError as err:
            # Stripe's idempotency key (refund-<id>) makes a later retry safe.
            log.warning("Stripe refused or could not take a refund of sub-order %s", sub_order.id, exc_info=True)
            raise Conflict(_("The card payment service could not make the refund right now. Please try again "
                             "in a moment.")) from err
        return _("The refund is approved and goes back through the way the buyer paid.")
    orders.decline_refund(sub_order, actor=current_user, note=note)
    return _("The refund is declined; the buyer sees your note.")


# ---------------------------------------------------------------- supplier


def _status_arg() -> OrderStatus | None:
    raw = request.args.get("status") or ""
    return OrderStatus(raw) if raw in {s.value for s in OrderStatus} else None


@bp.get("/workspace/orders/")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_orders():
    supplier = supplier_of(current_user)
    status = _status_arg()
    page = paginate(order_reads.supplier_sub_orders(supplier, status), per_page=20)
    return render_template("shop/orders/supplier_list.html", supplier=supplier, page=page, status=status,
                           statuses=ORDER_STATUS)


def _supplier_detail(sub_order, ship_form=None, decision_form=None, status: int = 200):
    refunds = order_reads.refunds_of([sub_order.id])[sub_order.id]
    return render_template(
        "shop/orders/supplier_detail.html", sub_order=sub_order, order=sub_order.order,
        ship_form=ship_form or ShipForm(formdata=None), decision_form=decision_form or DecisionForm(formdata=None),
        refunds=refunds, open_refund=next((r for r in refunds if r.status.value == "requested"), None),
        timeline=order_reads.timeline(sub_order.order, sub_order, refunds),
    ), status


@bp.get("/workspace/orders/<int:sub_order_id>")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_order(sub_order_id: int):
    return _supplier_detail(order_reads.supplier_sub_order(sub_order_id, supplier_of(current_user)))


@bp.post("/workspace/orders/<int:sub_order_id>/ship")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_ship(sub_order_id: int):
    sub_order = order_reads.supplier_sub_order(sub_order_id, supplier_of(current_user), lock=True)
    form = ShipForm()
    try:
        orders.ship(sub_order, carrier=form.carrier.data or "", tracking_number=form.tracking_number.data or "")
        commit_and_announce()
    except DomainError as err:
        roll_back()
        target = getattr(form, err.field or "", None)
        if target is not None:
            target.errors = [*target.errors, err.message]
        else:
            flash(err.message, "error")
        sub_order = order_reads.supplier_sub_order(sub_order_id, supplier_of(current_user))
        return _supplier_detail(sub_order, ship_form=form, status=422)
    flash(_("Marked as shipped; the buyer can follow the parcel."), "success")
    return redirect(url_for("shop.supplier_order", sub_order_id=sub_order_id))


@bp.post("/workspace/orders/<int:sub_order_id>/refund/<action>")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_refund_decision(sub_order_id: int, action: str):
    if action not in DECISIONS:
        abort(404)
    sub_order = order_reads.supplier_sub_order(sub_order_id, supplier_of(current_user), lock=True)
    form = DecisionForm()
    try:
        message = _decide(sub_order, action, form.note.data or "")
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("shop.supplier_order", sub_order_id=sub_order_id))


# ---------------------------------------------------------------- administrators


@bp.get("/admin/transfers/")
@require(Permission.PAYMENTS_CONFIRM)
def admin_transfers():
    page = paginate(order_reads.pending_transfers(current_user), per_page=30)
    return render_template("shop/orders/admin_transfers.html", page=page, form=ConfirmTransferForm(formdata=None))


@bp.post("/admin/transfers/<int:payment_id>/confirm")
@require(Permission.PAYMENTS_CONFIRM)
def admin_confirm_transfer(payment_id: int):
    payment = order_reads.transfer_for_admin(payment_id, current_user)
    form = ConfirmTransferForm()
    try:
        payments.confirm_transfer(payment, bank_transaction=form.bank_transaction.data or "", actor=current_user)
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
    else:
        flash(_("The transfer for order %(number)s is confirmed; the order is paid.",
                number=payment.order.number), "success")
    return redirect(url_for("shop.admin_transfers"))


@bp.get("/admin/refunds/")
@require(Permission.PAYMENTS_CONFIRM)
def admin_refunds():
    page = paginate(order_reads.open_refunds_for_admin(current_user), per_page=30)
    return render_template("shop/orders/admin_refunds.html", page=page, form=DecisionForm(formdata=None))


@bp.post("/admin/refunds/<int:refund_id>/<action>")
@require(Permission.PAYMENTS_CONFIRM)
def admin_refund_decision(refund_id: int, action: str):
    if action not in DECISIONS:
        abort(404)
    refund = order_reads.refund_for_admin(refund_id, current_user)
    form = DecisionForm()
    try:
        message = _decide(refund.sub_order, action, form.note.data or "")
        commit_and_announce()
    except DomainError as err:
        roll_back()
        flash(err.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("shop.admin_refunds"))


# --- cards on the administrators' start page (registered in shop.init_app) ---------------------


def transfers_waiting() -> dict | None:
    if not can(Permission.PAYMENTS_CONFIRM):
        return None
    stmt = order_reads.pending_transfers(current_user)
    n = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    return {"title": _("Bank transfers"), "text": _("%(n)d transfers wait for confirmation.", n=n),
            "url": url_for("shop.admin_transfers"), "action": _("Confirm transfers")}


def refunds_waiting() -> dict | None:
    if not can(Permission.PAYMENTS_CONFIRM):
        return None
    stmt = order_reads.open_refunds_for_admin(current_user)
    n = db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    return {"title": _("Refund requests"), "text": _("%(n)d refund requests wait for a decision.", n=n),
            "url": url_for("shop.admin_refunds"), "action": _("Decide refunds")}


ADMIN_LINKS = [transfers_waiting, refunds_waiting]
