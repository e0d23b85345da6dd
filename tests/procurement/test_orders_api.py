"""The procurement-order JSON API: the whole flow, refusals with their status codes, and scoping."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core.extensions import db
from procurement.models_orders import ProcurementOrder
from procurement.services import ledger
from procurement.services.common import local_year
from tests.procurement import factories_orders as fo
from tests.procurement import factories_procurement as fp

BASE = "/api/v1/procurement-orders"


def _create(client, w, items, **kw):
    body = {"items": [{"product_id": p.id, "quantity": q} for p, q in items.items()], "address_id": w.address.id,
            "wanted_on": (fo.today() + timedelta(days=5)).isoformat(), "channel": "canteen",
            "payment_terms": "deliver_first", "idempotency_key": uuid.uuid4().hex, **kw}
    return client.post(BASE, json=body)


def test_the_whole_flow_through_the_api_counts_the_accepted_amount(client, login, db_session):
    w = fo.world(threshold_fen=0)
    year = local_year()
    login(w.buyer)
    response = _create(client, w, {w.plums: 10})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "pending_approval" and order["total_fen"] == 39900
    assert order["contract_url"].endswith(f"/procurement/orders/{order['id']}/contract")
    oid, part = order["id"], order["parts"][0]

    login(w.approver)
    assert client.post(f"{BASE}/{oid}/approve", json={"comment": "同意"}).get_json()["status"] == "approved"

    login(w.supplier_user)
    assert client.post(f"{BASE}/{oid}/parts/{part['id']}/confirm").get_json()["parts"][0]["status"] == "confirmed"
    shipped = client.post(f"{BASE}/{oid}/parts/{part['id']}/ship", json={"carrier": "顺丰", "tracking_number": "SF7"})
    assert shipped.get_json()["parts"][0]["carrier"] == "顺丰"

    login(w.buyer)
    line_id = part["lines"][0]["order_line_id"]
    accepted = client.post(f"{BASE}/{oid}/parts/{part['id']}/accept", json={
        "lines": [{"order_line_id": line_id, "accepted_quantity": 8, "reason": "2箱压坏"}]}).get_json()
    assert accepted["parts"][0]["accepted_fen"] == 8 * 3990
    assert accepted["parts"][0]["lines"][0]["refused_quantity"] == 2
    assert ledger.counted_fen([w.unit.id], year) == 8 * 3990

    login(w.supplier_user)
    invoiced = client.post(f"{BASE}/{oid}/parts/{part['id']}/invoice", json={
        "number": "API-INV-1", "amount_fen": 8 * 3990, "invoice_date": fo.today().isoformat()})
    assert invoiced.get_json()["parts"][0]["status"] == "invoiced"

    login(w.buyer)
    paid = client.post(f"{BASE}/{oid}/parts/{part['id']}/pay", json={
        "method": "bank_transfer", "reference": "API-PAY-1", "paid_on": fo.today().isoformat()}).get_json()
    assert paid["status"] == "closed" and paid["parts"][0]["status"] == "settled"
    assert paid["parts"][0]["payment"]["amount_fen"] == 8 * 3990
    assert ledger.counted_fen([w.unit.id], year) == 8 * 3990

    # The contract is there for both sides.
    for person in (w.buyer, w.supplier_user):
        login(person)
        page = client.get(f"/procurement/orders/{oid}/contract")
        assert page.status_code == 200 and "巫山脆李" in page.get_data(as_text=True)
        download = client.get(f"/procurement/orders/{oid}/contract/download")
        assert download.headers["Content-Disposition"].startswith("attachment")


def test_refusals_answer_with_a_status_and_change_nothing(client, login, db_session):
    w = fo.world(threshold_fen=0)
    order = fo.submit(w, {w.plums: 3}, actor=w.unit_admin)
    oid, pid = order.id, order.parts[0].id
    login(w.unit_admin)
    selfish = client.post(f"{BASE}/{oid}/approve", json={})
    assert selfish.status_code == 403 and "another approver" in selfish.get_json()["error"]["message"]
    login(w.supplier_user)
    early = client.post(f"{BASE}/{oid}/parts/{pid}/ship", json={"carrier": "顺丰", "tracking_number": "SF"})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "invalid_transition"
    login(w.approver)
    no_comment = client.post(f"{BASE}/{oid}/reject", json={"comment": ""})
    assert no_comment.status_code == 422
    bad = client.post(f"{BASE}/{oid}/approve", json={"comment": 5})
    assert bad.status_code == 422
    db.session.expire_all()
    assert client.get(f"{BASE}/{oid}").get_json()["status"] == "pending_approval"

    client.post(f"{BASE}/{oid}/approve", json={})
    login(w.supplier_user)
    client.post(f"{BASE}/{oid}/parts/{pid}/confirm")
    client.post(f"{BASE}/{oid}/parts/{pid}/ship", json={"carrier": "顺丰", "tracking_number": "SF"})
    login(w.buyer)
    line_id = order.parts[0].sub_order.lines[0].id
    too_many = client.post(f"{BASE}/{oid}/parts/{pid}/accept",
                           json={"lines": [{"order_line_id": line_id, "accepted_quantity": 4}]})
    assert too_many.status_code == 422
    assert ledger.counted_fen([w.unit.id], local_year()) == 0
    client.post(f"{BASE}/{oid}/parts/{pid}/accept", json={"lines": [{"order_line_id": line_id, "accepted_quantity": 2,
                                                                        "reason": "1箱坏"}]})
    login(w.supplier_user)
    above = client.post(f"{BASE}/{oid}/parts/{pid}/invoice", json={
        "number": "X1", "amount_fen": 3 * 3990, "invoice_date": fo.today().isoformat()})
    assert above.status_code == 422
    assert client.get(f"{BASE}/{oid}").get_json()["parts"][0]["invoice_number"] is None


def test_a_reused_payment_reference_is_refused_through_the_api(client, login, db_session):
    w = fo.world(threshold_fen=1_000_000)
    first = fo.submit(w, {w.plums: 1}, payment_terms="pay_first")
    second = fo.submit(w, {w.plums: 1}, payment_terms="pay_first")
    login(w.supplier_user)
    for o in (first, second):
        client.post(f"{BASE}/{o.id}/parts/{o.parts[0].id}/confirm")
    login(w.buyer)
    body = {"method": "official_card", "reference": "CARD-0001", "paid_on": fo.today().isoformat()}
    assert client.post(f"{BASE}/{first.id}/parts/{first.parts[0].id}/pay", json=body).status_code == 200
    again = client.post(f"{BASE}/{second.id}/parts/{second.parts[0].id}/pay", json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "duplicate_reference"
    assert client.get(f"{BASE}/{second.id}").get_json()["parts"][0]["status"] == "confirmed"


def test_lists_are_scoped_to_the_unit_the_region_and_the_supplier(client, login, db_session):
    mine, other = fo.world(), fo.world()
    a = fo.submit(mine, {mine.plums: 1})
    b = fo.submit(other, {other.plums: 1})
    cases = [
        (mine.buyer, {a.id}),
        (other.approver, {b.id}),
        (mine.supplier_user, {a.id}),
        (mine.other_supplier_user, set()),  # no part in either order
        (fp.admin(mine.chain[fp.RegionLevel.PROVINCE]), {a.id}),
    ]
    for person, expected in cases:
        login(person)
        ids = {o["id"] for o in client.get(BASE).get_json()["items"]}
        assert ids & {a.id, b.id} == expected, person.email
    login(mine.buyer)
    assert client.get(f"{BASE}/{b.id}").status_code == 404
    assert client.post(f"{BASE}/{b.id}/parts/{b.parts[0].id}/accept", json={
        "lines": [{"order_line_id": 1, "accepted_quantity": 1}]}).status_code == 404
    login(fp.admin(mine.chain[fp.RegionLevel.PROVINCE]))
    assert client.get(f"{BASE}/{b.id}").status_code == 404
    login(fp.admin())
    assert {o["id"] for o in client.get(BASE).get_json()["items"]} >= {a.id, b.id}


def test_creation_validates_input_and_a_double_submit_returns_the_first_order(client, login, db_session):
    w = fo.world()
    login(w.buyer)
    bad = _create(client, w, {w.plums: 1}, channel="personal")
    assert bad.status_code == 422
    key = uuid.uuid4().hex
    first = _create(client, w, {w.plums: 2}, idempotency_key=key).get_json()
    second = _create(client, w, {w.plums: 2}, idempotency_key=key).get_json()
    assert first["id"] == second["id"]
    assert db.session.query(ProcurementOrder).filter_by(unit_id=w.unit.id).count() == 1
    login(w.approver)
    assert _create(client, w, {w.plums: 1}).status_code == 403  # approvers approve, buyers buy


@pytest.mark.parametrize("path", [
    "/api/v1/procurement-orders", "/api/v1/procurement-orders/{procurement_order_id}",
    "/api/v1/procurement-orders/{procurement_order_id}/approve",
    "/api/v1/procurement-orders/{procurement_order_id}/reject",
    "/api/v1/procurement-orders/{procurement_order_id}/unit",
    *[f"/api/v1/procurement-orders/{{procurement_order_id}}/parts/{{part_id}}/{step}"
      for step in ("confirm", "decline", "extend", "ship", "accept", "invoice", "pay", "returns")],
])
def test_every_endpoint_is_in_the_openapi_document(client, db_session, path):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert path in spec["paths"]


def test_listing_many_orders_takes_a_fixed_number_of_queries(client, login, db_session):
    import sqlalchemy as sa

    w = fo.world(threshold_fen=1_000_000)
    for _ in range(2):
        fo.submit(w, {w.plums: 1, w.oranges: 1})
    login(w.buyer)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(BASE)  # warm up: whatever a process loads once is not the list's cost
        statements.clear()
        client.get(BASE)
        few = len(statements)
        for _ in range(6):
            fo.submit(w, {w.plums: 1, w.oranges: 1})
        client.get(BASE)  # the set-up above is committed (and indexed) on this request's way in
        statements.clear()
        body = client.get(BASE).get_json()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert body["total"] == 8 and len(body["items"][0]["parts"]) == 2
    assert few > 3 and len(statements) == few
