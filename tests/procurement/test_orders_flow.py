"""The whole procurement flow: submit → approve → suppliers confirm and ship → the unit accepts part →
invoice → payment → settled, with the plan ledger moving by exactly the accepted amount."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.audit import AuditEntry
from core.extensions import db
from procurement.models_ledger import LedgerReason, PlanLedgerEntry, PurchaseChannel
from procurement.models_orders import PartStatus, PaymentTerms, ProcurementStatus
from procurement.services import ledger, orders
from procurement.services.common import local_year
from shop.models import OrderKind, OrderStatus, Product
from tests.procurement import factories_orders as fo
from tests.shop.factories_shop import reload


def _line(part, product):
    return next(line for line in part.sub_order.lines if line.product_id == product.id)


def test_a_unit_order_goes_from_submission_to_settlement_and_counts_the_accepted_amount(db_session):
    w = fo.world(threshold_fen=10_000)  # 100 yuan: this order (689 yuan) needs an approver
    year = local_year()
    before = ledger.counted_fen([w.unit.id], year)

    order = fo.submit(w, {w.plums: 10, w.oranges: 5})
    assert order.status == ProcurementStatus.PENDING_APPROVAL
    assert order.order.kind == OrderKind.PROCUREMENT and order.order.total_fen == 10 * 3990 + 5 * 5800
    assert order.order.payment_due_at is None  # the shop's unpaid timer never cancels it
    assert reload(w.plums).stock == 90 and reload(w.oranges).stock == 45  # reserved by the shop's checkout
    assert {p.status for p in order.parts} == {PartStatus.AWAITING_APPROVAL}

    orders.approve(w.approver, order, "ok")
    assert order.status == ProcurementStatus.APPROVED
    assert {p.status for p in order.parts} == {PartStatus.AWAITING_CONFIRMATION}

    plums_part, oranges_part = fo.part_of(order, w.supplier), fo.part_of(order, w.other_supplier)
    orders.confirm(w.supplier_user, plums_part)
    orders.decline(w.other_supplier_user, oranges_part, "果园受灾，无货")
    assert oranges_part.status == PartStatus.DECLINED
    assert oranges_part.sub_order.status == OrderStatus.CANCELLED
    assert reload(w.oranges).stock == 50  # the declined part's stock went back

    orders.ship(w.supplier_user, plums_part, carrier="顺丰", tracking_number="SF123456")
    assert plums_part.status == PartStatus.SHIPPED and plums_part.sub_order.status == OrderStatus.SHIPPED

    line = _line(plums_part, w.plums)
    accepted = orders.accept(w.buyer, plums_part, {line.id: (7, "3箱压坏")})
    assert accepted == 7 * 3990
    assert plums_part.status == PartStatus.ACCEPTED
    assert ledger.counted_fen([w.unit.id], year) == before + 7 * 3990

    rows = db.session.execute(
        sa.select(PlanLedgerEntry).where(PlanLedgerEntry.order_line_id == line.id)).scalars().all()
    assert len(rows) == 1
    entry = rows[0]
    assert (entry.unit_id, entry.reason, entry.channel, entry.amount_fen) == (
        w.unit.id, LedgerReason.ACCEPTED, PurchaseChannel.CANTEEN, 7 * 3990)
    assert entry.origin_county_id == w.plums.origin_county_id and entry.category_id == w.plums.category_id
    assert entry.year == year

    orders.record_invoice(w.supplier_user, plums_part, number="INV-0001", amount_fen=7 * 3990,
                          invoice_date=fo.today())
    assert plums_part.status == PartStatus.INVOICED
    payment = orders.record_payment(w.buyer, plums_part, method="bank_transfer", reference="BOC-2026-0001",
                                    paid_on=fo.today())
    assert payment.amount_fen == 7 * 3990
    assert plums_part.status == PartStatus.SETTLED
    assert plums_part.sub_order.status == OrderStatus.COMPLETED
    assert order.status == ProcurementStatus.CLOSED
    # Settlement moves nothing in the ledger: only acceptance and returns do.
    assert ledger.counted_fen([w.unit.id], year) == before + 7 * 3990

    actions = set(db.session.execute(sa.select(AuditEntry.action).where(
        AuditEntry.action.like("procurement_%"))).scalars())
    assert {"procurement_order.submit", "procurement_order.approve", "procurement_part.confirm",
            "procurement_part.decline", "procurement_part.ship", "procurement_part.accept",
            "procurement_part.invoice", "procurement_part.pay", "procurement_order.close"} <= actions


def test_an_order_under_the_threshold_needs_no_approver(db_session):
    w = fo.world(threshold_fen=1_000_000)
    order = fo.submit(w, {w.plums: 2})
    assert order.status == ProcurementStatus.APPROVED
    assert order.parts[0].status == PartStatus.AWAITING_CONFIRMATION


def test_pay_first_is_paid_before_shipment_and_settles_with_the_invoice(db_session):
    w = fo.world(threshold_fen=1_000_000)
    order = fo.submit(w, {w.plums: 4}, payment_terms="pay_first", channel="union")
    assert order.payment_terms == PaymentTerms.PAY_FIRST
    part = order.parts[0]
    orders.confirm(w.supplier_user, part)
    assert part.payment_due_on == fo.today() + timedelta(days=30)
    orders.extend_payment_due(w.supplier_user, part)
    assert part.payment_due_on == fo.today() + timedelta(days=45)
    orders.record_payment(w.buyer, part, method="official_card", reference="CARD-77881", paid_on=fo.today())
    assert part.status == PartStatus.PAID and part.payment.amount_fen == 4 * 3990
    orders.ship(w.supplier_user, part, carrier="邮政", tracking_number="EMS1")
    line = part.sub_order.lines[0]
    orders.accept(w.buyer, part, {line.id: (4, "")})
    orders.record_invoice(w.supplier_user, part, number="FP-9", amount_fen=4 * 3990, invoice_date=fo.today())
    assert part.status == PartStatus.SETTLED and order.status == ProcurementStatus.CLOSED
    entry = db.session.execute(sa.select(PlanLedgerEntry).where(PlanLedgerEntry.order_line_id == line.id)).scalar_one()
    assert entry.channel == PurchaseChannel.UNION and entry.amount_fen == 4 * 3990


def test_a_return_after_acceptance_subtracts_from_the_plan(db_session):
    w = fo.world(threshold_fen=1_000_000)
    order = fo.submit(w, {w.plums: 5})
    part = order.parts[0]
    orders.confirm(w.supplier_user, part)
    orders.ship(w.supplier_user, part, carrier="顺丰", tracking_number="SF1")
    line = part.sub_order.lines[0]
    orders.accept(w.buyer, part, {line.id: (5, "")})
    year = local_year()
    assert ledger.counted_fen([w.unit.id], year) == 5 * 3990
    orders.record_return(w.buyer, part, {line.id: 2}, "变质")
    assert ledger.counted_fen([w.unit.id], year) == 3 * 3990
    reasons = db.session.execute(sa.select(PlanLedgerEntry.reason, PlanLedgerEntry.amount_fen).where(
        PlanLedgerEntry.order_line_id == line.id).order_by(PlanLedgerEntry.id)).all()
    assert reasons == [(LedgerReason.ACCEPTED, 5 * 3990), (LedgerReason.RETURNED, -2 * 3990)]


def test_a_rejected_order_gives_its_stock_back(db_session):
    w = fo.world(threshold_fen=0)
    order = fo.submit(w, {w.plums: 10})
    orders.reject(w.approver, order, "超出预算")
    assert order.status == ProcurementStatus.REJECTED and order.decision_comment == "超出预算"
    assert order.parts[0].status == PartStatus.CANCELLED
    assert db.session.get(Product, w.plums.id).stock == 100


def test_the_unit_administrator_moves_an_unshipped_order_to_a_sub_unit(db_session):
    from tests.procurement import factories_procurement as fp

    w = fo.world(threshold_fen=1_000_000)
    sub = fp.unit(w.chain[fp.RegionLevel.CITY], parent_id=w.unit.id)
    order = fo.submit(w, {w.plums: 1})
    orders.change_unit(w.unit_admin, order, sub.id)
    assert order.unit_id == sub.id
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "procurement_order.change_unit")
                               ).scalar_one()
    assert entry.before == {"unit_id": w.unit.id}


def test_an_administrator_changes_the_unit_after_shipment_with_a_reason(db_session):
    from tests.procurement import factories_procurement as fp

    w = fo.world(threshold_fen=1_000_000)
    other = fp.unit(w.chain[fp.RegionLevel.CITY])
    order = fo.submit(w, {w.plums: 1})
    part = order.parts[0]
    orders.confirm(w.supplier_user, part)
    orders.ship(w.supplier_user, part, carrier="顺丰", tracking_number="SF2")
    orders.change_unit(fp.admin(w.chain[fp.RegionLevel.PROVINCE]), order, other.id, "开票单位有误")
    assert order.unit_id == other.id


def test_the_flow_through_the_pages(client, login, db_session):
    import io

    w = fo.world(threshold_fen=0)
    year = local_year()
    login(w.buyer)
    catalog = client.get("/procurement/orders/catalog?q=巫山")
    assert catalog.status_code == 200 and "巫山脆李" in catalog.get_data(as_text=True)
    client.post("/procurement/orders/cart/add", data={"product_id": w.plums.id, "quantity": "10"})
    client.post("/procurement/orders/cart/add", data={"product_id": w.oranges.id, "quantity": "2"})
    client.post("/procurement/orders/cart/update", data={f"remove-{w.oranges.id}": "1",
                                                         f"quantity-{w.plums.id}": "10"})
    cart = client.get("/procurement/orders/cart").get_data(as_text=True)
    assert f'name="quantity-{w.plums.id}"' in cart and f'name="quantity-{w.oranges.id}"' not in cart
    refused = client.post("/procurement/orders/cart", data={
        "address_id": w.address.id, "wanted_on": "2001-01-01", "channel": "canteen",
        "payment_terms": "deliver_first", "idempotency_key": "k" * 20})
    assert refused.status_code == 422 and "delivery date" in refused.get_data(as_text=True)
    submitted = client.post("/procurement/orders/cart", data={
        "address_id": w.address.id, "wanted_on": (fo.today() + timedelta(days=3)).isoformat(), "channel": "canteen",
        "payment_terms": "deliver_first", "idempotency_key": "k" * 21})
    assert submitted.status_code == 302
    detail_url = submitted.headers["Location"]
    order = db.session.execute(sa.select(orders.ProcurementOrder).where(
        orders.ProcurementOrder.unit_id == w.unit.id)).scalar_one()
    part = order.parts[0]
    base = f"/procurement/orders/{order.id}"

    login(w.approver)
    assert order.order.number in client.get("/procurement/orders/approvals").get_data(as_text=True)
    assert "Approve" in client.get(detail_url).get_data(as_text=True)
    client.post(f"{base}/approve", data={"comment": "同意"})

    login(w.supplier_user)
    assert order.order.number in client.get("/procurement/supplier/orders").get_data(as_text=True)
    client.post(f"{base}/parts/{part.id}/confirm")
    client.post(f"{base}/parts/{part.id}/ship", data={"carrier": "顺丰", "tracking_number": "SF100"})

    login(w.buyer)
    line = part.sub_order.lines[0]
    page = client.post(f"{base}/parts/{part.id}/accept", data={f"accepted-{line.id}": "12"}, follow_redirects=True)
    assert "more of" in page.get_data(as_text=True)  # refused, shown on the order's page
    client.post(f"{base}/parts/{part.id}/accept", data={f"accepted-{line.id}": "6", f"reason-{line.id}": "4箱烂果"})
    assert ledger.counted_fen([w.unit.id], year) == 6 * 3990

    login(w.supplier_user)
    pdf = (io.BytesIO(b"%PDF-1.4 test invoice"), "fapiao.pdf")
    client.post(f"{base}/parts/{part.id}/invoice", data={"number": "PG-1", "amount": "239.40",
                                                         "invoice_date": fo.today().isoformat(), "file": pdf},
                content_type="multipart/form-data")
    login(w.buyer)
    invoice_file = client.get(f"{base}/parts/{part.id}/invoice-file")
    assert invoice_file.status_code == 200 and invoice_file.data.startswith(b"%PDF-")
    invoice_file.close()
    done = client.post(f"{base}/parts/{part.id}/pay", data={"method": "official_card", "reference": "GWK-2026-1",
                                                            "paid_on": fo.today().isoformat()}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Settled" in text and "GWK-2026-1" in text
    assert ledger.counted_fen([w.unit.id], year) == 6 * 3990


def _audit(html: str) -> list[str]:
    from tests.core.test_accessibility import _PageAudit

    audit = _PageAudit()
    audit.feed(html)
    problems = [] if audit.h1 == 1 else [f"{audit.h1} h1"]
    for f in audit.fields:
        if not (f["_wrapped"] or f.get("id") in audit.labels_for or f.get("aria-label")):
            problems.append(f"unlabelled {f.get('name')}")
    if audit.lang not in ("en", "zh-CN"):
        problems.append("no lang")
    return problems + audit.images_without_alt + audit.external


def test_the_order_page_offers_each_role_its_actions_with_labelled_fields(client, login, db_session):
    w = fo.world(threshold_fen=0)
    order = fo.submit(w, {w.plums: 3, w.oranges: 1}, payment_terms="pay_first")
    url = f"/procurement/orders/{order.id}"
    expectations = [(w.approver, "Approve"), (w.buyer, "Awaiting approval")]
    for person, text in expectations:
        login(person)
        html = client.get(url).get_data(as_text=True)
        assert text in html and not _audit(html), _audit(html)
    orders.approve(w.approver, order)
    part = fo.part_of(order, w.supplier)
    login(w.supplier_user)
    html = client.get(url).get_data(as_text=True)
    assert "Confirm the order" in html and not _audit(html)
    assert html.count("Confirm the order") == 1  # not for the other supplier's part
    orders.confirm(w.supplier_user, part)
    login(w.buyer)
    html = client.get(url).get_data(as_text=True)
    assert "Record the payment" in html and not _audit(html)
    orders.record_payment(w.buyer, part, method="bank_transfer", reference="ACC-1", paid_on=fo.today())
    orders.ship(w.supplier_user, part, carrier="顺丰", tracking_number="SF1")
    html = client.get(url).get_data(as_text=True)
    assert "Record the acceptance" in html and not _audit(html)
    orders.accept(w.buyer, part, {part.sub_order.lines[0].id: (2, "1箱坏")})
    login(w.supplier_user)
    html = client.get(url).get_data(as_text=True)
    assert "Record the invoice" in html and not _audit(html)
    contract = client.get(f"{url}/contract").get_data(as_text=True)
    assert not _audit(contract) and "30" in contract
