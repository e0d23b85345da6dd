"""Procurement-order pages: the procurement cart, the unit's orders and their actions, the approver's queue,
the supplier's parts, and the per-order contract.

Forms post back and redirect (a refused step is shown as a message on the order's page); the
services check who acts and from which state. The cart lives in the session: ``{product_id: quantity}``.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from core.errors import DomainError, NotFound, ValidationFailed
from core.extensions import db
from core.pagination import paginate
from core.permissions import Permission, require
from procurement import bp, signals
from procurement.models import UnitAddress
from procurement.models_ledger import PurchaseChannel
from procurement.models_orders import (
    PartStatus,
    PaymentMethod,
    PaymentTerms,
    ProcurementOrder,
    ProcurementPart,
    ProcurementStatus,
)
from procurement.services import common, order_reads, orders
from shop.models import Product, Supplier
from shop.services import catalog
from shop.services import orders as shop_orders

CART_KEY = "procurement_cart"
MAX_INVOICE_BYTES = 5 * 1024 * 1024


# --- the procurement cart -----------------------------------------------------------------------


def _cart() -> dict[str, int]:
    return dict(session.get(CART_KEY) or {})


def _cart_lines(cart: dict[str, int]) -> list[tuple[Product, int]]:
    if not cart:
        return []
    ids = [int(k) for k in cart]
    products = db.session.execute(
        sa.select(Product).where(Product.id.in_(ids)).options(joinedload(Product.supplier)).order_by(Product.id)
    ).scalars().all()
    return [(p, cart[str(p.id)]) for p in products]


@bp.get("/orders/catalog")
@require(Permission.UNIT_WORKSPACE)
def order_catalog():
    """Listed products to add to the procurement cart, searched by name."""
    q = (request.args.get("q") or "").strip()[:60]
    stmt = (sa.select(Product).join(Supplier, Supplier.id == Product.supplier_id).where(catalog.on_sale())
            .options(joinedload(Product.supplier)).order_by(Product.name, Product.id))
    if q:
        stmt = stmt.where(Product.name.contains(q, autoescape=True))
    return render_template("procurement/orders/catalog.html", page=paginate(stmt, per_page=30), q=q,
                           cart_size=len(_cart()))


@bp.post("/orders/cart/add")
@require(Permission.UNIT_WORKSPACE)
def order_cart_add():
    try:
        product_id = int(request.form.get("product_id", ""))
        quantity = int(request.form.get("quantity", ""))
    except ValueError:
        flash(_("Give a whole number from 1 to 10,000."), "error")
        return redirect(url_for("procurement.order_catalog"))
    product = db.session.execute(sa.select(Product).join(Supplier, Supplier.id == Product.supplier_id)
                                 .where(Product.id == product_id, catalog.on_sale())).scalar_one_or_none()
    if product is None or not 1 <= quantity <= 10_000:
        message = _("Give a whole number from 1 to 10,000.") if product else _("This product is not on sale.")
        flash(message, "error")
        return redirect(url_for("procurement.order_catalog"))
    cart = _cart()
    cart[str(product.id)] = min(cart.get(str(product.id), 0) + quantity, 10_000)
    session[CART_KEY] = cart
    flash(_("%(name)s is in the procurement cart.", name=product.name), "success")
    return redirect(request.form.get("next") if request.form.get("next", "").startswith("/procurement/")
                    else url_for("procurement.order_catalog"))


@bp.post("/orders/cart/update")
@require(Permission.UNIT_WORKSPACE)
def order_cart_update():
    cart = {}
    for key, value in _cart().items():
        raw = (request.form.get(f"quantity-{key}") or "").strip()
        if request.form.get(f"remove-{key}") or raw == "0":
            continue
        cart[key] = int(raw) if raw.isdigit() and 1 <= int(raw) <= 10_000 else value
    session[CART_KEY] = cart
    flash(_("The procurement cart is updated."), "success")
    return redirect(url_for("procurement.order_cart"))


def _addresses(unit_id: int) -> list[UnitAddress]:
    return list(db.session.execute(sa.select(UnitAddress).where(UnitAddress.unit_id == unit_id, UnitAddress.active)
                                   .order_by(UnitAddress.name)).scalars())


@bp.route("/orders/cart", methods=["GET", "POST"])
@require(Permission.UNIT_WORKSPACE)
def order_cart():
    """The procurement cart and its submission: address, wanted date, channel and payment terms."""
    member = common.unit_of(current_user)
    cart = _cart()
    values = {"channel": PurchaseChannel.CANTEEN.value, "payment_terms": PaymentTerms.DELIVER_FIRST.value,
              "idempotency_key": uuid.uuid4().hex}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in
                  ("address_id", "wanted_on", "channel", "payment_terms", "idempotency_key")}
        try:
            wanted_on = _parse_date(values["wanted_on"], "wanted_on")
            order = orders.submit(current_user, items={int(k): v for k, v in cart.items()},
                                  address_id=int(values["address_id"]) if values["address_id"].isdigit() else None,
                                  wanted_on=wanted_on, channel=values["channel"],
                                  payment_terms=values["payment_terms"], idempotency_key=values["idempotency_key"])
        except DomainError as err:
            db.session.rollback()
            shop_orders.discard_pending_signals()
            errors[err.field or "form"] = err.message
            status = err.status
        else:
            db.session.commit()
            shop_orders.send_pending_signals()
            signals.announce_submitted(order.id, order.unit_id)
            session.pop(CART_KEY, None)
            flash(_("Procurement order %(number)s is submitted.", number=order.order.number), "success")
            return redirect(url_for("procurement.order_detail", procurement_order_id=order.id))
    lines = _cart_lines(cart)
    return render_template(
        "procurement/orders/cart.html", unit=member.unit, lines=lines, total=sum(p.price_fen * q for p, q in lines),
        addresses=_addresses(member.unit_id), values=values, errors=errors, channels=list(PurchaseChannel),
        terms=list(PaymentTerms), today=datetime.now(common.LOCAL_TIMEZONE).date().isoformat(),
    ), status


def _parse_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("Give the date as YYYY-MM-DD."), field=field) from None


# --- lists --------------------------------------------------------------------------------------


@bp.get("/orders/")
@require(Permission.ACCOUNT)
def order_list():
    """The procurement orders the person may see: their unit's, their region's, or their supplier parts' orders."""
    raw = request.args.get("status") or ""
    status = ProcurementStatus(raw) if raw in {s.value for s in ProcurementStatus} else None
    stmt = order_reads.list_orders(current_user, status=status).options(
        joinedload(ProcurementOrder.order), joinedload(ProcurementOrder.unit))
    return render_template("procurement/orders/list.html", page=paginate(stmt), status=status,
                           statuses=list(ProcurementStatus))


@bp.get("/orders/approvals")
@require(Permission.UNIT_APPROVE)
def order_approvals():
    """The approver's queue: the unit's orders above its approval threshold, oldest first."""
    stmt = order_reads.waiting_for_approval(current_user).options(
        joinedload(ProcurementOrder.order), joinedload(ProcurementOrder.submitted_by))
    return render_template("procurement/orders/approvals.html", page=paginate(stmt))


@bp.get("/supplier/orders")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_parts():
    """The supplier's parts of procurement orders, with what to do next."""
    raw = request.args.get("status") or ""
    status = PartStatus(raw) if raw in {s.value for s in PartStatus} else None
    stmt = order_reads.supplier_parts(current_user, status).options(
        joinedload(ProcurementPart.procurement_order).options(joinedload(ProcurementOrder.unit),
                                                              joinedload(ProcurementOrder.order)),
        joinedload(ProcurementPart.sub_order))
    return render_template("procurement/orders/supplier_parts.html", page=paginate(stmt), status=status,
                           statuses=[s for s in PartStatus if s != PartStatus.AWAITING_APPROVAL])


# --- one order ----------------------------------------------------------------------------------


@bp.get("/orders/<int:procurement_order_id>")
@require(Permission.ACCOUNT)
def order_detail(procurement_order_id: int):
    order = order_reads.get_order(current_user, procurement_order_id)
    may = {what: order_reads.may(current_user, order, what) for what in ("approve", "unit", "change_unit")}
    may_supply = {part.id: order_reads.may(current_user, order, "supplier", part) for part in order.parts}
    return render_template(
        "procurement/orders/detail.html", order=order, may=may, may_supply=may_supply,
        today=datetime.now(common.LOCAL_TIMEZONE).date(),
        methods=list(PaymentMethod), S=PartStatus, O=ProcurementStatus, terms=PaymentTerms,
        amount_due=orders.amount_due, accepted_states=orders.ACCEPTED_STATES,
    )


def _back(order_id: int):
    return redirect(url_for("procurement.order_detail", procurement_order_id=order_id))


def _run(order_id: int, step, success: str):
    """Run one transition: commit and send the shop's signals, or roll back and show why it was refused."""
    try:
        step()
    except DomainError as err:
        db.session.rollback()
        shop_orders.discard_pending_signals()
        if isinstance(err, NotFound):
            raise
        flash(err.message, "error")
        return _back(order_id)
    db.session.commit()
    shop_orders.send_pending_signals()
    flash(success, "success")
    return _back(order_id)


@bp.post("/orders/<int:procurement_order_id>/<any(approve, reject):action>")
@require(Permission.UNIT_APPROVE)
def order_decision(procurement_order_id: int, action: str):
    order = order_reads.get_order(current_user, procurement_order_id)
    comment = request.form.get("comment", "")
    if action == "approve":
        return _run(order.id, lambda: orders.approve(current_user, order, comment), _("The order is approved."))
    return _run(order.id, lambda: orders.reject(current_user, order, comment), _("The order is rejected."))


@bp.post("/orders/<int:procurement_order_id>/unit")
@require(Permission.ACCOUNT)
def order_change_unit(procurement_order_id: int):
    order = order_reads.get_order(current_user, procurement_order_id)

    def step():
        raw = (request.form.get("unit_name") or "").strip()
        from procurement.services import units

        unit_id = units.unit_id_by_name(raw, field="unit_name")
        if unit_id is None:
            raise ValidationFailed(_("Name the unit the order belongs to."), field="unit_name")
        orders.change_unit(current_user, order, unit_id, request.form.get("reason"))

    return _run(order.id, step, _("The order's unit is changed."))


def _line_quantities(part, prefix: str) -> dict[int, int]:
    values = {}
    for line in part.sub_order.lines:
        raw = (request.form.get(f"{prefix}-{line.id}") or "0").strip()
        if not raw.isdigit():
            raise ValidationFailed(_("Quantities are whole numbers."), field="lines")
        values[line.id] = int(raw)
    return values


@bp.post("/orders/<int:procurement_order_id>/parts/<int:part_id>/<any(accept, pay, return):action>")
@require(Permission.UNIT_WORKSPACE)
def unit_part_action(procurement_order_id: int, part_id: int, action: str):
    part = order_reads.get_part(current_user, procurement_order_id, part_id)
    form = request.form

    def accept():
        quantities = _line_quantities(part, "accepted")
        orders.accept(current_user, part, {k: (q, form.get(f"reason-{k}", "")) for k, q in quantities.items()})

    def pay():
        orders.record_payment(current_user, part, method=form.get("method"), reference=form.get("reference", ""),
                              paid_on=_parse_date(form.get("paid_on", ""), "paid_on"))

    def give_back():
        orders.record_return(current_user, part, {k: q for k, q in _line_quantities(part, "returned").items() if q},
                             form.get("reason", ""))

    steps = {"accept": (accept, _("The acceptance is recorded.")), "pay": (pay, _("The payment is recorded.")),
             "return": (give_back, _("The return is recorded."))}
    step, message = steps[action]
    return _run(procurement_order_id, step, message)


def _read_invoice_file(upload) -> tuple[bytes, str] | None:
    """The uploaded invoice (a PDF of at most 5 MB) and its file name, or None when none was sent."""
    if upload is None or not upload.filename:
        return None
    body = upload.read(MAX_INVOICE_BYTES + 1)
    if len(body) > MAX_INVOICE_BYTES or not body.startswith(b"%PDF-"):
        raise ValidationFailed(_("The invoice file must be a PDF of at most 5 MB."), field="file")
    return body, Path(upload.filename).name[:120]


def _invoice_folder() -> Path:
    return Path(current_app.instance_path) / "procurement_invoices"


@bp.post("/orders/<int:procurement_order_id>/parts/<int:part_id>/<any(confirm, decline, extend, ship, invoice):action>")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_part_action(procurement_order_id: int, part_id: int, action: str):
    part = order_reads.get_part(current_user, procurement_order_id, part_id)
    form = request.form

    def invoice():
        amount = common.parse_amount(form.get("amount"), field="amount")
        invoice_date = _parse_date(form.get("invoice_date", ""), "invoice_date")
        upload = _read_invoice_file(request.files.get("file"))
        key = secrets.token_hex(16) if upload else None
        orders.record_invoice(current_user, part, number=form.get("number", ""), amount_fen=amount,
                              invoice_date=invoice_date, file_key=key, file_name=upload[1] if upload else None)
        if upload:  # stored only once the invoice itself was accepted
            folder = _invoice_folder()
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{key}.pdf").write_bytes(upload[0])

    steps = {
        "confirm": (lambda: orders.confirm(current_user, part), _("You confirmed the order.")),
        "decline": (lambda: orders.decline(current_user, part, form.get("reason", "")), _("You declined the order.")),
        "extend": (lambda: orders.extend_payment_due(current_user, part), _("The payment date is extended.")),
        "ship": (lambda: orders.ship(current_user, part, carrier=form.get("carrier", ""),
                                     tracking_number=form.get("tracking_number", "")), _("The shipment is recorded.")),
        "invoice": (invoice, _("The invoice is recorded.")),
    }
    step, message = steps[action]
    return _run(procurement_order_id, step, message)


@bp.get("/orders/<int:procurement_order_id>/parts/<int:part_id>/invoice-file")
@require(Permission.ACCOUNT)
def order_invoice_file(procurement_order_id: int, part_id: int):
    part = order_reads.get_part(current_user, procurement_order_id, part_id)
    if not part.invoice_file_key:
        abort(404)
    path = _invoice_folder() / f"{part.invoice_file_key}.pdf"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=part.invoice_file_name or f"invoice-{part.id}.pdf")


# --- the contract -------------------------------------------------------------------------------


def _contract_html(order: ProcurementOrder) -> str:
    return render_template("procurement/orders/contract.html", order=order, terms=PaymentTerms,
                           pay_first_days=orders.PAY_FIRST_DAYS, extension_days=orders.EXTENSION_DAYS)


@bp.get("/orders/<int:procurement_order_id>/contract")
@require(Permission.ACCOUNT)
def order_contract(procurement_order_id: int):
    """The order's contract (采购合同) as a printable page, for the unit, its suppliers and administrators."""
    return _contract_html(order_reads.get_order(current_user, procurement_order_id))


@bp.get("/orders/<int:procurement_order_id>/contract/download")
@require(Permission.ACCOUNT)
def order_contract_download(procurement_order_id: int):
    """The same contract as a self-contained HTML file to keep or print."""
    order = order_reads.get_order(current_user, procurement_order_id)
    return Response(_contract_html(order), mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="contract-{order.order.number}.html"'})
