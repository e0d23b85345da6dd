"""Every refused procurement transition: wrong state, wrong person, bad input — each refused, nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from procurement.errors import UnitNotActive
from procurement.models import UnitStatus
from procurement.models_ledger import PlanLedgerEntry
from procurement.models_orders import (
    PartStatus,
    PaymentTerms,
    ProcurementLine,
    ProcurementStatus,
)
from procurement.services import order_reads, orders
from shop.models_orders import Payment, PaymentProviderName
from tests.procurement import factories_orders as fo
from tests.procurement import factories_procurement as fp


def _shipped(w, terms: str = "deliver_first", quantity: int = 10):
    order = fo.submit(w, {w.plums: quantity}, payment_terms=terms)
    part = order.parts[0]
    orders.confirm(w.supplier_user, part)
    if terms == "pay_first":
        orders.record_payment(w.buyer, part, method="bank_transfer", reference=f"PAY-{part.id}-x",
                              paid_on=fo.today())
    orders.ship(w.supplier_user, part, carrier="顺丰", tracking_number="SF9")
    return order, part


ACTIONS = {
    "confirm": lambda w, part: orders.confirm(w.supplier_user, part),
    "decline": lambda w, part: orders.decline(w.supplier_user, part, "无货"),
    "ship": lambda w, part: orders.ship(w.supplier_user, part, carrier="顺丰", tracking_number="SF1"),
    "accept": lambda w, part: orders.accept(w.buyer, part, {part.sub_order.lines[0].id: (1, "坏")}),
    "invoice": lambda w, part: orders.record_invoice(w.supplier_user, part, number=f"N{part.id}", amount_fen=1,
                                                     invoice_date=fo.today()),
    "pay": lambda w, part: orders.record_payment(w.buyer, part, method="bank_transfer", reference=f"R-{part.id}-1",
                                                 paid_on=fo.today()),
}


def _refused_cases():
    for action in ACTIONS:
        for terms in PaymentTerms:
            for status in PartStatus:
                allowed = any(
                    start == status and name == action and orders.TERMS_OF.get((start, target), terms) == terms
                    for (start, target), name in orders.PART_TRANSITIONS.items()
                )
                if not allowed:
                    yield action, terms, status


@pytest.mark.parametrize(("action", "terms", "status"), list(_refused_cases()),
                         ids=lambda v: getattr(v, "value", v))
def test_a_part_step_from_the_wrong_state_is_refused(db_session, action, terms, status):
    w = fo.world(threshold_fen=1_000_000)
    order = fo.submit(w, {w.plums: 3}, payment_terms=terms.value)
    part = order.parts[0]
    part.accepted_fen = 3 * 3990
    part.status, part.decline_reason = status, "无货"
    db.session.flush()
    with pytest.raises(InvalidTransition):
        ACTIONS[action](w, part)
    assert part.status == status


@pytest.mark.parametrize("status", [s for s in ProcurementStatus if s != ProcurementStatus.PENDING_APPROVAL])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_decision_on_an_order_not_waiting_for_one_is_refused(db_session, status, decision):
    w = fo.world(threshold_fen=0)
    order = fo.submit(w, {w.plums: 1})
    order.status, order.decision_comment = status, "理由"
    with pytest.raises(InvalidTransition):
        getattr(orders, decision)(w.approver, order, "理由")
    assert order.status == status


def test_approving_your_own_order_is_refused(db_session):
    w = fo.world(threshold_fen=0)
    order = fo.submit(w, {w.plums: 1}, actor=w.unit_admin)  # the unit's administrator buys and also approves
    with pytest.raises(Forbidden, match="another approver"):
        orders.approve(w.unit_admin, order)
    assert order.status == ProcurementStatus.PENDING_APPROVAL


def test_a_buyer_cannot_approve_and_a_rejection_needs_a_comment(db_session):
    w = fo.world(threshold_fen=0)
    order = fo.submit(w, {w.plums: 1})
    with pytest.raises(Forbidden):
        orders.approve(fp.member(w.unit), order)
    with pytest.raises(ValidationFailed):
        orders.reject(w.approver, order, "  ")
    assert order.status == ProcurementStatus.PENDING_APPROVAL


def test_accepting_more_than_was_shipped_is_refused_and_counts_nothing(db_session):
    w = fo.world(threshold_fen=1_000_000)
    _order, part = _shipped(w)
    line = part.sub_order.lines[0]
    with pytest.raises(ValidationFailed, match="more of"):
        orders.accept(w.buyer, part, {line.id: (11, "")})
    with pytest.raises(ValidationFailed, match="why you refuse"):
        orders.accept(w.buyer, part, {line.id: (8, "")})
    with pytest.raises(ValidationFailed):
        orders.accept(w.buyer, part, {line.id: (0, "全坏")})
    assert part.status == PartStatus.SHIPPED
    assert db.session.execute(sa.select(sa.func.count()).select_from(PlanLedgerEntry)
                              .where(PlanLedgerEntry.order_line_id == line.id)).scalar_one() == 0
    assert db.session.execute(sa.select(sa.func.count()).select_from(ProcurementLine)
                              .where(ProcurementLine.part_id == part.id)).scalar_one() == 0


def test_an_invoice_above_the_accepted_amount_is_refused(db_session):
    w = fo.world(threshold_fen=1_000_000)
    _order, part = _shipped(w)
    line = part.sub_order.lines[0]
    orders.accept(w.buyer, part, {line.id: (6, "4箱烂果")})
    with pytest.raises(ValidationFailed, match="above the accepted amount"):
        orders.record_invoice(w.supplier_user, part, number="F1", amount_fen=6 * 3990 + 1, invoice_date=fo.today())
    with pytest.raises(ValidationFailed):
        orders.record_invoice(w.supplier_user, part, number="F1", amount_fen=100,
                              invoice_date=fo.today() + timedelta(days=1))
    assert part.status == PartStatus.ACCEPTED and part.invoice_number is None


def test_a_payment_reference_used_twice_is_refused(db_session):
    w = fo.world(threshold_fen=1_000_000)
    first = fo.submit(w, {w.plums: 1}, payment_terms="pay_first").parts[0]
    second = fo.submit(w, {w.plums: 1}, payment_terms="pay_first").parts[0]
    for part in (first, second):
        orders.confirm(w.supplier_user, part)
    orders.record_payment(w.buyer, first, method="bank_transfer", reference="ICBC-1001", paid_on=fo.today())
    with pytest.raises(orders.DuplicateReference):
        orders.record_payment(w.buyer, second, method="bank_transfer", reference="ICBC-1001", paid_on=fo.today())
    # A shop payment's reference is the platform's too.
    shop_payment = Payment(order_id=first.sub_order.order_id, provider=PaymentProviderName.MANUAL, amount_fen=100,
                           reference="SHOP-REF-1")
    db.session.add(shop_payment)
    db.session.flush()
    with pytest.raises(orders.DuplicateReference):
        orders.record_payment(w.buyer, second, method="official_card", reference="SHOP-REF-1", paid_on=fo.today())
    assert second.status == PartStatus.CONFIRMED and second.payment is None


def test_the_payment_date_is_extended_once_only(db_session):
    w = fo.world(threshold_fen=1_000_000)
    part = fo.submit(w, {w.plums: 1}, payment_terms="pay_first").parts[0]
    orders.confirm(w.supplier_user, part)
    orders.extend_payment_due(w.supplier_user, part)
    with pytest.raises(InvalidTransition):
        orders.extend_payment_due(w.supplier_user, part)
    deliver_first = fo.submit(w, {w.plums: 1}).parts[0]
    orders.confirm(w.supplier_user, deliver_first)
    with pytest.raises(InvalidTransition):
        orders.extend_payment_due(w.supplier_user, deliver_first)


def test_people_of_other_units_and_suppliers_do_not_reach_the_order(db_session):
    w = fo.world(threshold_fen=0)
    order = fo.submit(w, {w.plums: 1})
    stranger_unit = fo.world()
    for outsider in (stranger_unit.buyer, stranger_unit.approver, stranger_unit.supplier_user,
                     fp.admin(stranger_unit.chain[fp.RegionLevel.PROVINCE])):
        with pytest.raises(NotFound):
            order_reads.get_order(outsider, order.id)
    # Visible to its own people, its supplier and the region's administrator.
    for insider in (w.buyer, w.approver, w.supplier_user, fp.admin(w.chain[fp.RegionLevel.PROVINCE]), fp.admin()):
        assert order_reads.get_order(insider, order.id).id == order.id
    # A supplier without a part in the order cannot act on another's part either.
    with pytest.raises(Forbidden):
        orders.confirm(w.other_supplier_user, order.parts[0])
    with pytest.raises(Forbidden):
        orders.approve(stranger_unit.approver, order)


def test_the_unit_changes_only_before_shipment_and_never_after_acceptance(db_session):
    w = fo.world(threshold_fen=1_000_000)
    other = fp.unit(w.chain[fp.RegionLevel.CITY])
    sub = fp.unit(w.chain[fp.RegionLevel.CITY], parent_id=w.unit.id)
    order, part = _shipped(w)
    with pytest.raises(Forbidden, match="only an administrator"):
        orders.change_unit(w.unit_admin, order, sub.id)
    region_admin = fp.admin(w.chain[fp.RegionLevel.PROVINCE])
    with pytest.raises(ValidationFailed):
        orders.change_unit(region_admin, order, other.id, "")
    with pytest.raises(Forbidden):
        orders.change_unit(fp.admin(fo.world().chain[fp.RegionLevel.PROVINCE]), order, other.id, "错单位")
    line = part.sub_order.lines[0]
    orders.accept(w.buyer, part, {line.id: (10, "")})
    with pytest.raises(InvalidTransition):
        orders.change_unit(region_admin, order, other.id, "错单位")
    assert order.unit_id == w.unit.id
    # Before shipment a buyer (not the unit's administrator) cannot, nor can anyone move it to an outside unit.
    fresh = fo.submit(w, {w.plums: 1})
    with pytest.raises(Forbidden):
        orders.change_unit(w.buyer, fresh, sub.id)
    with pytest.raises(NotFound):
        orders.change_unit(w.unit_admin, fresh, other.id)


def test_bad_submissions_are_refused_and_reserve_nothing(db_session):
    w = fo.world()
    foreign_address = fp.address(fp.unit(w.chain[fp.RegionLevel.CITY]), w.chain[fp.RegionLevel.COUNTY])
    cases = [
        ({"address_id": foreign_address.id}, ValidationFailed),
        ({"wanted_on": fo.today() - timedelta(days=1)}, ValidationFailed),
        ({"channel": "personal"}, ValidationFailed),
        ({"payment_terms": "later"}, ValidationFailed),
    ]
    for kw, error in cases:
        with pytest.raises(error):
            fo.submit(w, {w.plums: 1}, **kw)
    with pytest.raises(ValidationFailed):
        fo.submit(w, {})
    with pytest.raises(Forbidden):
        fo.submit(w, {w.plums: 1}, actor=w.approver)
    w.unit.status = UnitStatus.SUSPENDED
    with pytest.raises(UnitNotActive):
        fo.submit(w, {w.plums: 1})
    assert db.session.get(type(w.plums), w.plums.id).stock == 100


def test_decline_needs_a_reason(db_session):
    w = fo.world(threshold_fen=1_000_000)
    part = fo.submit(w, {w.plums: 1}).parts[0]
    with pytest.raises(ValidationFailed):
        orders.decline(w.supplier_user, part, "")
    assert part.status == PartStatus.AWAITING_CONFIRMATION


def test_returning_more_than_was_accepted_is_refused(db_session):
    w = fo.world(threshold_fen=1_000_000)
    _order, part = _shipped(w, quantity=4)
    line = part.sub_order.lines[0]
    orders.accept(w.buyer, part, {line.id: (3, "1箱破损")})
    with pytest.raises(ValidationFailed):
        orders.record_return(w.buyer, part, {line.id: 4}, "变质")
    with pytest.raises(ValidationFailed):
        orders.record_return(w.buyer, part, {line.id: 1}, "")


def test_a_step_raced_by_someone_else_is_refused(db_session):
    from procurement.models_orders import ProcurementPart

    w = fo.world(threshold_fen=1_000_000)
    part = fo.submit(w, {w.plums: 1}).parts[0]
    # Another request confirmed the part after this one loaded it.
    db.session.execute(sa.update(ProcurementPart).where(ProcurementPart.id == part.id)
                       .values(status=PartStatus.DECLINED, decline_reason="无货")
                       .execution_options(synchronize_session=False))
    with pytest.raises(InvalidTransition, match="meanwhile"):
        orders.confirm(w.supplier_user, part)
    assert part.status == PartStatus.DECLINED
    assert part.sub_order.status.value == "pending_payment"  # the shop's sub-order was not touched


def test_the_administrators_start_page_and_the_suppliers_menu_lead_to_procurement_orders(client, login, db_session):
    w = fo.world(threshold_fen=1_000_000)
    fo.submit(w, {w.plums: 1})
    fo.submit(fo.world(), {w.plums: 1})  # another region's order is not counted
    login(fp.admin(w.chain[fp.RegionLevel.PROVINCE]))
    assert "1 procurement orders are under way." in client.get("/admin/").get_data(as_text=True)
    login(w.supplier_user)
    assert "/procurement/supplier/orders" in client.get("/").get_data(as_text=True)


@pytest.fixture()
def committed(app):
    """Real commits on connections of their own (a race needs PostgreSQL's row locks); cleaned up after."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the race needs PostgreSQL (set DATABASE_URL); SQLite serialises writers")
        yield
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables if t.name != "alembic_version")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.mark.postgres
def test_two_people_accepting_the_same_delivery_at_once_count_it_once(app, committed):
    import threading

    from core.accounts.models import User
    from procurement.models_orders import ProcurementPart
    from procurement.services import ledger
    from procurement.services.common import local_year

    w = fo.world(threshold_fen=1_000_000)
    second_buyer = fp.member(w.unit)
    _order, part = _shipped(w, quantity=5)
    db.session.commit()
    part_id, line_id, buyer_ids = part.id, part.sub_order.lines[0].id, [w.buyer.id, second_buyer.id]
    barrier, results = threading.Barrier(2), [None, None]

    def accept(i):
        with app.app_context():
            try:
                row = db.session.get(ProcurementPart, part_id)
                barrier.wait()
                orders.accept(db.session.get(User, buyer_ids[i]), row, {line_id: (5, "")})
                db.session.commit()
                results[i] = "ok"
            except Exception as exc:  # recorded and asserted on below
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results.count("ok") == 1
    assert any(isinstance(r, InvalidTransition) for r in results), results
    assert ledger.counted_fen([w.unit.id], local_year()) == 5 * 3990


def test_an_invoice_file_that_is_not_a_pdf_is_refused_on_the_page(client, login, db_session):
    import io

    w = fo.world(threshold_fen=1_000_000)
    order, part = _shipped(w, quantity=2)
    orders.accept(w.buyer, part, {part.sub_order.lines[0].id: (2, "")})
    login(w.supplier_user)
    page = client.post(f"/procurement/orders/{order.id}/parts/{part.id}/invoice", data={
        "number": "IMG-1", "amount": "10", "invoice_date": fo.today().isoformat(),
        "file": (io.BytesIO(b"\x89PNG not a pdf"), "fapiao.png")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "must be a PDF" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(part), part.id).invoice_number is None
