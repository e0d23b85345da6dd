"""Every procurement page, with its forms, as the unit's administrator and as an administrator:
it renders, has one main heading, labels for every field, and no whole phone number."""

from __future__ import annotations

import pytest

from procurement.models import CanteenMode
from procurement.services import common, plans
from procurement.services.plans import Declaration
from tests.core.test_accessibility import _PageAudit
from tests.procurement import factories_procurement as fp

YEAR = common.local_year()


def _check(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    audit = _PageAudit()
    audit.feed(html)
    assert audit.h1 == 1, path
    unlabelled = [f.get("name") for f in audit.fields
                  if not (f["_wrapped"] or f.get("id") in audit.labels_for or f.get("aria-label"))]
    assert not unlabelled, f"{path}: fields without a label: {unlabelled}"
    assert "13912345678" not in html, f"{path} shows a whole phone number"
    return html


@pytest.fixture()
def full_world(db_session):
    w = fp.world()
    child = fp.unit(w.county, name="下属食堂单位", parent_id=w.unit.id)
    fp.address(w.unit, w.county, name="机关食堂", phone="13912345678")
    host = fp.world()
    plans.declare_plan(host.unit_admin, host.unit, YEAR, Declaration(CanteenMode.OWN, 1_000_000, 1000))
    plans.declare_plan(w.unit_admin, w.unit, YEAR, Declaration(CanteenMode.SHARED, host_unit_id=host.unit.id))
    plans.set_plan_figure(fp.admin(), w.unit, YEAR, plan_fen=1000, reason="通知")
    w.unit.promotion_code = "PAGE2345"
    return w, child


def test_unit_workspace_pages_render_for_the_unit_administrator(client, login, full_world):
    w, child = full_world
    login(w.unit_admin)
    home = _check(client, "/procurement/unit/")
    assert child.name in home and "/u/PAGE2345" in home
    assert 'name="canteen_mode"' in _check(client, f"/procurement/unit/plans/{YEAR}")
    assert 'name="email"' in _check(client, "/procurement/unit/members")
    assert "139****5678" in _check(client, "/procurement/unit/addresses")


def test_unit_workspace_pages_render_for_a_buyer_without_forms(client, login, full_world):
    w, _child = full_world
    login(w.buyer)
    for path in ("/procurement/unit/", f"/procurement/unit/plans/{YEAR}", "/procurement/unit/members",
                 "/procurement/unit/addresses"):
        html = _check(client, path)
        assert 'name="email"' not in html and 'name="canteen_mode"' not in html


def test_administrator_pages_render(client, login, full_world):
    w, child = full_world
    login(fp.admin(w.province))
    for path in ("/procurement/admin/units", "/procurement/admin/units/new", f"/procurement/admin/units/{w.unit.id}",
                 f"/procurement/admin/units/{w.unit.id}/edit", f"/procurement/admin/units/{child.id}",
                 f"/procurement/admin/plans?year={YEAR}", f"/procurement/admin/units/{w.unit.id}/plans/{YEAR}",
                 f"/procurement/admin/units/{child.id}/plans/{YEAR}", "/procurement/admin/guiding-plans"):
        _check(client, path)
    assert "139****5678" in _check(client, f"/procurement/admin/units/{w.unit.id}")


def test_administrators_start_page_links_to_units_and_plans(client, login, full_world):
    login(fp.admin())
    html = client.get("/admin/").get_data(as_text=True)
    assert "/procurement/admin/units?status=pending" in html
    assert "/procurement/admin/plans" in html


def test_people_pages_render(client, login, db_session):
    from tests import factories

    login(factories.UserFactory())
    _check(client, "/procurement/employer?q=测试")
    _check(client, "/procurement/register")
