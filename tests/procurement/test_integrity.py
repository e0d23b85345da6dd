"""Integrity checks on a fixed data set of last year (Asia/Shanghai times), built through the order services.

Unit U (approval threshold ¥1,000.00) buys plums (¥39.90) from supplier S:
  A1 20 (¥798.00) 3 Mar 10:00, A2 20 5 Mar 09:00 (2 days 23 hours later)  → split, together ¥1,596.00
  B1 12 (¥478.80) 1 Apr, B2 13 (¥518.70) 2 Apr: together ¥997.50, not above ¥1,000 → not flagged
  C1 20 1 May 10:00, C2 20 4 May 10:01 (3 days and a minute apart)          → not flagged
  D1, D2, D3 15 each (¥598.50) 1–3 Jun: one group of three (D2+D3 alone are not listed again)
  E1 30 (¥1,197.00, above the threshold: waited for an approver) 1 Jul, E2 10 2 Jul → not flagged
Products of supplier T:
  P ¥50 → ¥60 (product edit, 10 Aug 10:00): P1 200 × ¥60 = ¥12,000 on 24 Aug 09:00 (13 days 23 hours) → flagged;
     P2 166 × ¥60 = ¥9,960 (under ¥10,000) → not flagged
  Q ¥50 → ¥55 (5 Sep 10:00): Q1 200 × ¥55 on 19 Sep 10:01 (14 days and a minute) → not flagged
  R ¥40 (R0, 1 Oct) then ¥50 without an edit in the log: R1 200 × ¥50 = ¥10,000 on 10 Oct → flagged (previous line)
Unit changes: F shipped 1 Nov, moved to U2 by an administrator 2 Nov → flagged; G moved 3 Nov, shipped 4 Nov → not.
Plan ledger: Vjump ¥499.90 in March + ¥500.10 on 17 Dec 00:00:30 (50.01% in the last 15 days) → flagged;
  Veven ¥500 + ¥500 on 31 Dec (50.00%) → not; Vearly ¥400 + ¥600 on 16 Dec 23:59 → not;
  Vfar (another province) ¥100 + ¥900 on 20 Dec → flagged, seen only by a platform administrator.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from core import audit
from core.audit import AuditEntry
from core.extensions import db
from core.registry.models import RegionLevel
from procurement.models import BuyerUnit, UnitRole
from procurement.models_ledger import LedgerReason, PlanLedgerEntry, PurchaseChannel
from procurement.models_orders import ProcurementOrder
from procurement.services import integrity, orders
from procurement.services.common import LOCAL_TIMEZONE, local_year
from procurement.views.completion import excel_value
from shop.models import Category, Order, OrderLine, SubOrder
from tests import factories
from tests.procurement import factories_orders as fo
from tests.procurement import factories_procurement as fp
from tests.shop import factories_shop as fs

YEAR = local_year() - 1


def t(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(YEAR, month, day, hour, minute, second, tzinfo=LOCAL_TIMEZONE)


def _at(order: ProcurementOrder, when: datetime) -> None:
    """Date the order (its submission, the shop order and its lines' price snapshots) at ``when``."""
    db.session.execute(sa.update(ProcurementOrder).where(ProcurementOrder.id == order.id).values(submitted_at=when))
    db.session.execute(sa.update(Order).where(Order.id == order.order_id).values(created_at=when))
    sub_orders = sa.select(SubOrder.id).where(SubOrder.order_id == order.order_id)
    db.session.execute(sa.update(OrderLine).where(OrderLine.sub_order_id.in_(sub_orders)).values(created_at=when))


def _date_last_audit(action: str, target_id: int, when: datetime) -> None:
    entry_id = db.session.execute(
        sa.select(sa.func.max(AuditEntry.id)).where(AuditEntry.action == action,
                                                    AuditEntry.target_id == str(target_id))).scalar_one()
    db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(created_at=when))


def _raise_price(product, new_price_fen: int, when: datetime) -> None:
    """A price edit as ``shop.services.products.update_product`` records it: the changed fields before and after."""
    audit.record("product.updated", "product", product.id, before={"price_fen": product.price_fen},
                 after={"price_fen": new_price_fen})
    product.price_fen = new_price_fen
    db.session.flush()
    _date_last_audit("product.updated", product.id, when)


def _ledger(unit: BuyerUnit, when: datetime, amount_fen: int, line: OrderLine, channel=PurchaseChannel.CANTEEN):
    db.session.add(PlanLedgerEntry(unit_id=unit.id, year=when.year, month=when.month, channel=channel,
                                   reason=LedgerReason.ACCEPTED, amount_fen=amount_fen, order_line_id=line.id,
                                   origin_county_id=line.product.origin_county_id,
                                   category_id=line.product.category_id, recorded_at=when))


@dataclass
class Data:
    w: fo.OrderWorld
    orders: dict[str, ProcurementOrder]
    units: dict[str, BuyerUnit]
    far_chain: dict

    def number(self, key: str) -> str:
        return self.orders[key].order.number


def build() -> Data:
    w = fo.world(threshold_fen=100_000)
    fs.add_lot(w.plums, 1000)
    village = w.chain[RegionLevel.VILLAGE]
    cat = db.session.get(Category, w.plums.category_id)
    p = fs.product(w.other_supplier, cat, village, price_fen=5000, stock=1000, name="城口老腊肉")
    q = fs.product(w.other_supplier, cat, village, price_fen=5000, stock=1000, name="秀山土鸡蛋")
    r = fs.product(w.other_supplier, cat, village, price_fen=4000, stock=1000, name="酉阳茶油")
    placed: dict[str, ProcurementOrder] = {}

    def order(key, product, quantity, when):
        placed[key] = fo.submit(w, {product: quantity})
        _at(placed[key], when)

    order("A1", w.plums, 20, t(3, 3, 10))
    order("A2", w.plums, 20, t(3, 6, 9))
    order("B1", w.plums, 12, t(4, 1))
    order("B2", w.plums, 13, t(4, 2))
    order("C1", w.plums, 20, t(5, 1, 10))
    order("C2", w.plums, 20, t(5, 4, 10, 1))
    for i, day in enumerate((1, 2, 3), start=1):
        order(f"D{i}", w.plums, 15, t(6, day))
    order("E1", w.plums, 30, t(7, 1))
    order("E2", w.plums, 10, t(7, 2))

    order("P0", p, 2, t(8, 1))
    _raise_price(p, 6000, t(8, 10, 10))
    order("P1", p, 200, t(8, 24, 9))
    order("P2", p, 166, t(8, 25))
    order("Q0", q, 2, t(9, 1))
    _raise_price(q, 5500, t(9, 5, 10))
    order("Q1", q, 200, t(9, 19, 10, 1))
    order("R0", r, 1, t(10, 1))
    r.price_fen = 5000  # changed without an entry in the log: only the snapshotted prices tell
    db.session.flush()
    order("R1", r, 200, t(10, 10))

    u2 = fp.unit(w.chain[RegionLevel.CITY], parent_id=w.unit.id, name="甲市食堂管理中心")
    admin = fp.admin(w.chain[RegionLevel.PROVINCE])
    order("F", w.plums, 2, t(11, 1, 8))
    part = placed["F"].parts[0]
    orders.confirm(w.supplier_user, part)
    orders.ship(w.supplier_user, part, carrier="顺丰", tracking_number="SF0001")
    orders.change_unit(admin, placed["F"], u2.id, "记账单位填错")
    db.session.execute(sa.update(SubOrder).where(SubOrder.id == part.sub_order_id).values(shipped_at=t(11, 1)))
    _date_last_audit("procurement_order.change_unit", placed["F"].id, t(11, 2))
    order("G", w.plums, 2, t(11, 3, 8))
    part = placed["G"].parts[0]
    orders.change_unit(w.unit_admin, placed["G"], u2.id, "")
    orders.confirm(w.supplier_user, part)
    orders.ship(w.supplier_user, part, carrier="顺丰", tracking_number="SF0002")
    _date_last_audit("procurement_order.change_unit", placed["G"].id, t(11, 3))
    db.session.execute(sa.update(SubOrder).where(SubOrder.id == part.sub_order_id).values(shipped_at=t(11, 4)))

    far_chain = factories.region_chain()
    units = {"U": w.unit, "U2": u2, "Vjump": fp.unit(w.chain[RegionLevel.CITY], name="甲市年底突击局"),
             "Veven": fp.unit(w.chain[RegionLevel.CITY], name="甲市平均局"),
             "Vearly": fp.unit(w.chain[RegionLevel.CITY], name="甲市提前局"),
             "Vfar": fp.unit(far_chain[RegionLevel.CITY], name="乙省远方局")}
    line = placed["A1"].parts[0].sub_order.lines[0]
    _ledger(units["Vjump"], t(3, 10), 49_990, line)
    _ledger(units["Vjump"], t(12, 17, 0, 0, 30), 50_010, line, PurchaseChannel.UNION)
    _ledger(units["Veven"], t(3, 10), 50_000, line)
    _ledger(units["Veven"], t(12, 31, 23), 50_000, line)
    _ledger(units["Vearly"], t(3, 10), 40_000, line)
    _ledger(units["Vearly"], t(12, 16, 23, 59), 60_000, line)
    _ledger(units["Vfar"], t(3, 10), 10_000, line)
    _ledger(units["Vfar"], t(12, 20), 90_000, line)
    db.session.flush()
    db.session.expire_all()
    return Data(w, placed, units, far_chain)


@pytest.fixture()
def data(db_session):
    return build()


EVERYWHERE = sa.true()


def test_split_orders_are_flagged_as_groups_and_only_above_the_threshold_together(data):
    rows = integrity.split_orders(YEAR, EVERYWHERE)
    groups: dict[int, list[str]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row.order_number)
    assert list(groups.values()) == [[data.number("A1"), data.number("A2")],
                                     [data.number("D1"), data.number("D2"), data.number("D3")]]
    first = rows[0]
    assert (first.unit_name, first.threshold_fen, first.orders_in_group, first.group_fen) == (
        data.units["U"].name, 100_000, 2, 159_600)
    assert (first.order_total_fen, first.supplier_fen) == (79_800, 79_800)
    assert {(r.orders_in_group, r.group_fen) for r in rows[2:]} == {(3, 179_550)}


def test_split_window_is_a_setting(data, app, monkeypatch):
    monkeypatch.setitem(app.config, "INTEGRITY_SPLIT_WINDOW_DAYS", "4")
    numbers = {r.order_number for r in integrity.split_orders(YEAR, EVERYWHERE)}
    assert {data.number("C1"), data.number("C2")} <= numbers  # 3 days and a minute apart: inside 4 days
    assert data.number("B1") not in numbers and data.number("E2") not in numbers


def test_unit_changed_after_shipment_is_flagged_with_when_and_why(data):
    rows = integrity.unit_changes_after_shipment(YEAR, EVERYWHERE)
    assert [r.order_number for r in rows] == [data.number("F")]  # G changed before it shipped
    row = rows[0]
    assert (row.from_unit_id, row.to_unit_id) == (data.units["U"].id, data.units["U2"].id)
    assert (row.from_unit_name, row.to_unit_name, row.reason) == (data.units["U"].name, "甲市食堂管理中心",
                                                                 "记账单位填错")
    assert (row.first_shipped_at, row.changed_at) == (t(11, 1), t(11, 2))


def test_price_raised_just_before_a_large_order_line(data):
    rows = integrity.price_raises(YEAR, EVERYWHERE)
    found = {r.order_number: (r.source, r.old_price_fen, r.new_price_fen, r.line_fen) for r in rows}
    assert found == {
        data.number("P1"): ("audit", 5000, 6000, 1_200_000),
        data.number("R1"): ("order_line", 4000, 5000, 1_000_000),
    }
    p1 = next(r for r in rows if r.order_number == data.number("P1"))
    assert (p1.raised_at, p1.ordered_at, str(p1.raise_percent)) == (t(8, 10, 10), t(8, 24, 9), "20.00")


def test_large_amount_and_days_are_settings(data, app, monkeypatch):
    monkeypatch.setitem(app.config, "INTEGRITY_LARGE_LINE_YUAN", "9960")
    monkeypatch.setitem(app.config, "INTEGRITY_PRICE_RAISE_DAYS", "15")
    numbers = {r.order_number for r in integrity.price_raises(YEAR, EVERYWHERE)}
    assert numbers == {data.number(k) for k in ("P1", "P2", "Q1", "R1")}


def test_year_end_jump_compares_the_last_days_with_the_year(data):
    rows = integrity.year_end_jumps(YEAR, EVERYWHERE)
    assert [(r.unit_name, r.year_fen, r.year_end_fen, str(r.share)) for r in rows] == [
        ("乙省远方局", 100_000, 90_000, "90.00"),
        ("甲市年底突击局", 100_000, 50_010, "50.01"),
    ]


def test_bad_settings_are_refused_at_start():
    with pytest.raises(ValueError, match="INTEGRITY_YEAR_END_PERCENT"):
        integrity.parse_settings({"INTEGRITY_YEAR_END_PERCENT": "150"})
    with pytest.raises(ValueError, match="INTEGRITY_LARGE_LINE_YUAN"):
        integrity.parse_settings({"INTEGRITY_LARGE_LINE_YUAN": "ten thousand"})
    with pytest.raises(ValueError, match="INTEGRITY_SPLIT_WINDOW_DAYS"):
        integrity.parse_settings({"INTEGRITY_SPLIT_WINDOW_DAYS": "0"})
    assert integrity.parse_settings({}) == integrity.Settings(3, 14, 1_000_000, 15, 5000)


def _sheets(response) -> dict[str, list[list]]:
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data), data_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _norm(value):
    """A workbook cell compared by value: numbers to the fen or hundredth of a percent, the rest as text."""
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


def _screen_tables(client):
    """The tables as the page draws them: {table id: rows of cell texts}."""
    import re
    from html import unescape

    html = client.get(f"/procurement/admin/integrity?year={YEAR}").get_data(as_text=True)
    out = {}
    for table_id, body in re.findall(r'<table id="table-([\w-]+)">.*?<tbody>(.*?)</tbody>', html, re.S):
        rows = []
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
            rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
        out[table_id] = rows
    return html, out


def test_page_and_excel_show_the_same_rows(data, client, login):
    from procurement.views.completion import cell_text
    from procurement.views.integrity import tables_for

    admin = fp.admin()
    login(admin)
    html, screen = _screen_tables(client)
    assert "<h1>" in html and data.number("A1") in html and "乙省远方局" in html
    assert f'href="/procurement/orders/{data.orders["F"].id}"' in html
    assert f'href="/procurement/admin/units/{data.units["Vjump"].id}"' in html
    sheets = list(_sheets(client.get(f"/procurement/admin/integrity.xlsx?year={YEAR}")).values())
    with client.application.test_request_context():
        from flask_login import login_user

        login_user(admin)
        report = integrity.report(YEAR, EVERYWHERE)
        tables = tables_for(report)
    assert [len(t.rows) for t in tables] == [5, 1, 2, 2]
    for table, sheet in zip(tables, sheets, strict=True):
        assert [[_norm(v) for v in r] for r in sheet[1:]] == [
            [_norm(excel_value(v, c.kind)) for v, c in zip(row, table.columns, strict=True)] for row in table.rows]
        assert screen[table.id] == [[cell_text(v, c.kind) for v, c in zip(row, table.columns, strict=True)]
                                    for row in table.rows]
    assert sheets[3][1][0] == "乙省远方局" and float(sheets[3][1][4]) == 90.0


def test_a_regional_administrator_sees_only_their_region(data, client, login):
    login(fp.admin(data.w.chain[RegionLevel.PROVINCE]))
    html, screen = _screen_tables(client)
    assert "甲市年底突击局" in html and "乙省远方局" not in html
    assert len(screen["split"]) == 5 and len(screen["unit-changes"]) == 1
    sheet = list(_sheets(client.get(f"/procurement/admin/integrity.xlsx?year={YEAR}")).values())[3]
    assert [r[0] for r in sheet[1:]] == ["甲市年底突击局"]
    assert client.get(f"/procurement/orders/{data.orders['F'].id}").status_code == 200  # the flag's link opens
    start = client.get("/admin/").get_data(as_text=True)
    assert "Integrity checks" in start and 'href="/procurement/admin/integrity"' in start

    login(fp.admin(data.far_chain[RegionLevel.PROVINCE]))
    html, screen = _screen_tables(client)
    assert data.number("A1") not in html and data.number("F") not in html and data.number("P1") not in html
    assert [r[0] for r in screen["year-end"]] == ["乙省远方局"]


def test_unit_members_may_not_see_the_checks(data, client, login):
    login(fp.member(data.units["U"], UnitRole.ADMIN))
    assert client.get("/procurement/admin/integrity").status_code == 403
