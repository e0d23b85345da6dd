"""Benefit attribution (联农带农): hand-computed shares on a fixed data set, reversal on refund, rounding,
the figures on the product and supplier pages, the region-scoped report and its Excel export.

The fixed data set (factories_benefit.plum_world): one line of 3 × ¥41.15 = ¥123.45 (12,345 fen) from a
supplier bound to household A at 30% (4 people) and household B at 20% (2 people). By hand:

    A: floor(12345 × 3000 / 10000) = floor(3703.5) = 3703 fen      B: 12345 × 2000 / 10000 = 2469 fen
    total 6172 fen ≤ 50% of 12345 = 6172.5; 2 households, 6 people, 6172 / 2 = 3086 fen per household.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from core.audit import AuditEntry
from core.database import utcnow
from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import OrderStatus
from shop.models_benefit import AttributionReason, BenefitAttribution
from shop.services import attribution, orders
from tests import factories
from tests.shop import factories_benefit, factories_shop

BA = BenefitAttribution


def _rows(line_id: int) -> list[tuple[int, int, str]]:
    return [(h, a, r.value) for h, a, r in db.session.execute(
        sa.select(BA.household_id, BA.amount_fen, BA.reason).where(BA.order_line_id == line_id)
        .order_by(BA.id)
    ).all()]


def _net(line_id: int) -> dict[int, int]:
    return dict(db.session.execute(
        sa.select(BA.household_id, sa.func.sum(BA.amount_fen)).where(BA.order_line_id == line_id)
        .group_by(BA.household_id)
    ).all())


def test_completion_attributes_the_declared_shares_rounded_down(db_session):
    pw = factories_benefit.plum_world()
    assert pw.line.amount_fen == 12345
    factories_benefit.completed(pw.sub_order)
    assert pw.sub_order.status == OrderStatus.COMPLETED
    # Only the two active, started links count: not the challenged, future or ended ones.
    assert sorted(_rows(pw.line.id)) == [(pw.first.id, 3703, "attributed"), (pw.second.id, 2469, "attributed")]
    row = db.session.execute(sa.select(BA).where(BA.household_id == pw.first.id)).scalar_one()
    assert (row.supplier_id, row.product_id, row.share_bp) == (pw.world.supplier.id, pw.product.id, 3000)
    assert (row.village_id, row.county_id) == (pw.world.village.id, pw.world.county.id)
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "benefit.attribute")).scalar_one()
    assert entry.after == {"rows": 2, "amount_fen": 6172}


def test_nothing_is_attributed_before_completion_or_without_links(db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.received(pw.sub_order)
    assert _rows(pw.line.id) == []
    w = factories_shop.world()
    lonely = factories_shop.product(w.supplier, w.category, w.village, stock=5)
    order, _payment = factories_benefit.paid_order(factories.UserFactory(), {lonely: 1})
    factories_benefit.completed(order.sub_orders[0])
    assert _rows(order.sub_orders[0].lines[0].id) == []
    assert attribution.supplier_figures(w.supplier.id) == attribution.BenefitFigures(0, 0, 0)


def test_time_based_completion_attributes_too(app, db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.received(pw.sub_order)
    later = utcnow() + timedelta(days=app.config["SHOP_COMPLETE_AFTER_DAYS"] + 1)
    assert orders.advance_by_time(now=later)["completed"] >= 1
    assert _net(pw.line.id) == {pw.first.id: 3703, pw.second.id: 2469}
    assert db.session.execute(sa.select(BA.created_at).where(BA.order_line_id == pw.line.id)).scalars().all() == [
        later, later]


def test_a_link_started_after_completion_does_not_count(db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.link(pw.world.supplier, factories.household(pw.world.village), 1000,
                           started_on=date.today() + timedelta(days=3))  # noqa: DTZ011
    factories_benefit.completed(pw.sub_order)
    assert len(_rows(pw.line.id)) == 2


def test_refund_reverses_household_attribution_proportionally(db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.completed(pw.sub_order)
    orders.request_refund(pw.sub_order, lines={pw.line.id: 1}, reason="一箱坏了", actor=pw.buyer)
    refund = orders.approve_refund(pw.sub_order, actor=pw.admin)
    assert pw.sub_order.status == OrderStatus.COMPLETED
    # Kept 2 × 41.15 = 82.30: A floor(8230 × 0.3) = 2469, B 1646. Reversal = kept share − attributed.
    assert sorted(_rows(pw.line.id)[2:]) == [(pw.first.id, 2469 - 3703, "reversed"),
                                             (pw.second.id, 1646 - 2469, "reversed")]
    assert db.session.execute(sa.select(sa.func.count()).where(BA.refund_request_id == refund.id)).scalar() == 2
    assert _net(pw.line.id) == {pw.first.id: 2469, pw.second.id: 1646}
    # The rest back too: the net returns to exactly zero and nobody counts as reached any more.
    orders.request_refund(pw.sub_order, lines={pw.line.id: 2}, reason="其余也坏了", actor=pw.buyer)
    orders.approve_refund(pw.sub_order, actor=pw.admin)
    assert pw.sub_order.status == OrderStatus.REFUNDED
    assert _net(pw.line.id) == {pw.first.id: 0, pw.second.id: 0}
    assert attribution.product_figures(pw.product.id) == attribution.BenefitFigures(0, 0, 0)


def test_a_refund_before_completion_is_left_out_of_the_attribution(db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.received(pw.sub_order)
    orders.request_refund(pw.sub_order, lines={pw.line.id: 1}, reason="一箱坏了", actor=pw.buyer)
    orders.approve_refund(pw.sub_order, actor=pw.admin)
    assert _rows(pw.line.id) == []  # nothing to reverse yet
    orders.complete(pw.sub_order)
    assert _net(pw.line.id) == {pw.first.id: 2469, pw.second.id: 1646}


def test_a_declined_refund_changes_nothing(db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.completed(pw.sub_order)
    orders.request_refund(pw.sub_order, lines={pw.line.id: 3}, reason="不想要了", actor=pw.buyer)
    orders.decline_refund(pw.sub_order, actor=pw.admin, note="已签收七天")
    assert _net(pw.line.id) == {pw.first.id: 3703, pw.second.id: 2469}


@pytest.mark.parametrize(("price", "quantity", "shares", "expected"), [
    (100, 1, [3333, 3333, 3333], [33, 33, 33]),  # 99 ≤ floor(100 × 99.99%) = 99
    (101, 1, [5000, 5000], [50, 50]),  # 101 × 50% = 50.5 each: 100 ≤ 101
    (999, 1, [1, 9999], [0, 998]),  # 0.0999 fen rounds to nothing: no row for that household
    (333, 3, [7000, 3000], [699, 299]),  # 999 fen: 699.3 and 299.7, down to 998
])
def test_rounding_never_attributes_more_than_the_share_total(db_session, price, quantity, shares, expected):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, price_fen=price, stock=10)
    households = [factories.household(w.village) for _ in shares]
    for household, share in zip(households, shares, strict=True):
        factories_benefit.link(w.supplier, household, share)
    order, _payment = factories_benefit.paid_order(factories.UserFactory(), {product: quantity})
    factories_benefit.completed(order.sub_orders[0])
    net = _net(order.sub_orders[0].lines[0].id)
    assert [net.get(h.id, 0) for h in households] == expected
    assert sum(expected) <= price * quantity * sum(shares) // 10000
    assert 0 not in net.values()


def test_product_and_supplier_pages_show_the_attributed_figures(client, db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.completed(pw.sub_order)
    expected = "Helps 2 households (6 people): ¥61.72 attributed, ¥30.86 per household."
    product_page = client.get(f"/shop/product/{pw.product.id}").get_data(as_text=True)
    assert expected in product_page
    supplier_page = client.get(f"/shop/supplier/{pw.world.supplier.id}").get_data(as_text=True)
    assert expected in supplier_page


def test_per_household_amount_rounds_half_up():
    assert attribution.BenefitFigures(3, 3, 100).per_household_fen == 33
    assert attribution.BenefitFigures(2, 2, 3703).per_household_fen == 1852
    assert attribution.BenefitFigures(0, 0, 0).per_household_fen == 0


def _two_regions():
    """The plum world completed in one province, and a second supplier's sale in another province."""
    here = factories_benefit.plum_world()
    factories_benefit.completed(here.sub_order)
    there = factories_shop.world()
    far_household = factories.household(there.village, members=5)
    factories_benefit.link(there.supplier, far_household, 1000)
    product = factories_shop.product(there.supplier, there.category, there.village, price_fen=10000, stock=5)
    order, _payment = factories_benefit.paid_order(factories.UserFactory(), {product: 1})
    factories_benefit.completed(order.sub_orders[0])
    return here, there


def _screen_rows(html: str, caption: str) -> list[list[str]]:
    table = html.split(f"<caption>{caption}</caption>", 1)[1].split("</table>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        rows.append(cells)
    return rows


def test_the_report_is_limited_to_the_regional_administrators_region(client, login, db_session):
    here, there = _two_regions()
    login(factories_shop.admin(here.world.chain[RegionLevel.PROVINCE]))
    page = client.get("/shop/admin/benefit/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    by_county = _screen_rows(html, "Benefit by county of the households")
    assert by_county[1:] == [[here.world.county.name, "2", "6", "¥61.72", "¥30.86"],
                             ["Total", "2", "6", "¥61.72", "¥30.86"]]
    assert there.county.name not in html and there.supplier.name not in html
    login(factories_shop.admin())  # a platform administrator sees both provinces
    html = client.get("/shop/admin/benefit/").get_data(as_text=True)
    by_supplier = _screen_rows(html, "Benefit by supplier")
    assert by_supplier[1:] == [[here.world.supplier.name, "2", "6", "¥61.72", "¥30.86"],
                               [there.supplier.name, "1", "5", "¥10.00", "¥10.00"],
                               ["Total", "3", "11", "¥71.72", "¥23.91"]]


def test_the_excel_export_has_the_same_figures_as_the_screen(client, login, db_session):
    _two_regions()
    login(factories_shop.admin())
    html = client.get("/shop/admin/benefit/").get_data(as_text=True)
    response = client.get("/shop/admin/benefit.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(response.data))
    for sheet, caption in ((workbook["By county"], "Benefit by county of the households"),
                           (workbook["By supplier"], "Benefit by supplier")):
        screen = _screen_rows(html, caption)
        cells = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert len(cells) == len(screen)
        for shown, stored in zip(screen[1:], cells[1:], strict=True):
            assert shown[0] == stored[0]
            assert [int(shown[1]), int(shown[2])] == [stored[1], stored[2]]
            assert [shown[3], shown[4]] == [f"¥{stored[3]:,.2f}", f"¥{stored[4]:,.2f}"]


def test_people_outside_administration_cannot_open_the_report(client, as_role, db_session):
    as_role("consumer")
    assert client.get("/shop/admin/benefit/").status_code == 403
    assert client.get("/shop/admin/benefit.xlsx").status_code == 403


def test_attribution_rows_cannot_carry_the_wrong_sign(db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.completed(pw.sub_order)
    row = db.session.execute(sa.select(BA).where(BA.household_id == pw.first.id)).scalar_one()
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(BA(order_line_id=row.order_line_id, household_id=row.household_id,
                          supplier_id=row.supplier_id, product_id=row.product_id, village_id=row.village_id,
                          county_id=row.county_id, share_bp=row.share_bp, amount_fen=5,
                          reason=AttributionReason.REVERSED))
        db.session.flush()


def test_completion_writes_all_lines_in_one_insert(db_session):
    w = factories_shop.world()
    products = [factories_shop.product(w.supplier, w.category, w.village, price_fen=1000 + n, stock=5)
                for n in range(3)]
    for share in (3000, 2000):
        factories_benefit.link(w.supplier, factories.household(w.village), share)
    order, _payment = factories_benefit.paid_order(factories.UserFactory(), {p: 1 for p in products})
    factories_benefit.received(order.sub_orders[0])
    statements: list[str] = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        orders.complete(order.sub_orders[0])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", remember)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO BENEFIT_ATTRIBUTION")]
    assert len(inserts) == 1
    assert db.session.execute(sa.select(sa.func.count(BA.id))
                              .where(BA.supplier_id == w.supplier.id)).scalar() == 6


def test_the_backlog_attributes_orders_completed_without_the_hook_once(db_session):
    pw = factories_benefit.plum_world()
    factories_benefit.received(pw.sub_order)
    # As the demo seed writes them: completed in bulk, without orders.complete.
    pw.sub_order.status, pw.sub_order.completed_at = OrderStatus.COMPLETED, utcnow() - timedelta(days=2)
    db.session.flush()
    assert attribution.attribute_backlog() == 2
    assert _net(pw.line.id) == {pw.first.id: 3703, pw.second.id: 2469}
    assert attribution.attribute_backlog() == 0
    # A link that starts after the completion date does not reach back.
    factories_benefit.link(pw.world.supplier, factories.household(pw.world.village), 500,
                           started_on=date.today())  # noqa: DTZ011 (after the completion date in any time zone)
    assert attribution.attribute_backlog() == 0


def test_the_report_can_be_limited_to_one_calendar_year(client, login, db_session):
    from datetime import UTC, datetime

    last_year = factories_benefit.plum_world()
    factories_benefit.received(last_year.sub_order)
    # The last minute of 2025 in Shanghai: the rows belong to 2025 there, whatever the UTC date.
    last_year.sub_order.status = OrderStatus.COMPLETED
    last_year.sub_order.completed_at = datetime(2025, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    db.session.flush()
    attribution.attribute_backlog()
    admin = factories_shop.admin()
    assert attribution.report(admin, 2025).total == attribution.BenefitFigures(2, 6, 6172)
    assert attribution.report(admin, 2024).total == attribution.BenefitFigures(0, 0, 0)
    assert 2025 in attribution.report_years(admin)
    login(admin)
    html = client.get("/shop/admin/benefit/?year=2025").get_data(as_text=True)
    assert _screen_rows(html, "Benefit by supplier")[-1] == ["Total", "2", "6", "¥61.72", "¥30.86"]
    assert 'href="/shop/admin/benefit.xlsx?year=2025"' in html
    workbook = load_workbook(io.BytesIO(client.get("/shop/admin/benefit.xlsx?year=2024").data))
    assert list(workbook["By supplier"].iter_rows(values_only=True))[-1][:3] == ("Total", 0, 0)
