"""The board, a warning's page and its actions, the rules page, notifications and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from alerts import job, rules
from alerts.models import AlertRuleSetting, Notification, Warning, WarningCause, WarningStatus
from alerts.services import TRANSITIONS
from core.extensions import db
from tests.alerts.conftest import TODAY, AlertWorld
from tests.alerts.factories_alerts import lot
from tests.shop import factories_shop
from tests.shop.factories_shop import reload


def _open_warning(world) -> Warning:
    p = world.product(price_fen=10_000)
    lot(p, 200, TODAY + timedelta(days=12))
    job.run(TODAY)
    return db.session.execute(sa.select(Warning).where(Warning.product_id == p.id,
                                                       Warning.cause == WarningCause.SPOILAGE)).scalar_one()


@pytest.fixture()
def other(db_session):
    shop_world = factories_shop.world()
    return AlertWorld(shop=shop_world, admin=factories_shop.admin(shop_world.province))


def test_a_regional_administrator_sees_their_region_s_warnings_only(client, login, world, other):
    mine = _open_warning(world)
    theirs_product = other.product(price_fen=10_000, name="别处的苹果")
    lot(theirs_product, 200, TODAY + timedelta(days=12))
    job.run(TODAY + timedelta(days=1))
    login(world.admin)
    page = client.get("/alerts/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert reload(mine.product).name in html and "别处的苹果" not in html
    assert "Level 3 (yellow)" in html and world.county.name in html
    # Filters: by level and by county.
    assert reload(mine.product).name not in client.get("/alerts/?level=red").get_data(as_text=True)
    assert reload(mine.product).name in client.get(f"/alerts/?county={world.county.id}").get_data(as_text=True)
    theirs = db.session.execute(sa.select(Warning).where(Warning.product_id == theirs_product.id)).scalars().first()
    assert client.get(f"/alerts/{theirs.id}").status_code == 404


def test_the_board_shows_households_and_the_trend(client, login, world):
    from shop.models import HouseholdLink, LinkType
    from tests import factories

    for _ in range(2):
        db.session.add(HouseholdLink(supplier_id=world.supplier.id, household_id=factories.household(world.village).id,
                                     link_type=LinkType.EMPLOYMENT, started_on=TODAY, benefit_share_bp=500))
    w = _open_warning(world)
    lot(db.session.get(type(w.product), w.product_id), 10, TODAY + timedelta(days=12))
    job.run(TODAY + timedelta(days=1))
    login(world.admin)
    html = client.get("/alerts/").get_data(as_text=True)
    assert "worse: up" in html
    assert ">2</td>" in html  # two households behind the product


def test_a_supplier_sees_its_own_warnings_and_not_another_s(client, login, world, other):
    mine = _open_warning(world)
    login(other.owner)
    assert reload(mine.product).name not in client.get("/alerts/").get_data(as_text=True)
    assert client.get(f"/alerts/{mine.id}").status_code == 404
    assert client.post(f"/api/v1/warnings/{mine.id}/acknowledge", json={}).status_code == 404
    assert reload(mine).status == WarningStatus.OPEN
    login(world.owner)
    assert client.get(f"/alerts/{mine.id}").status_code == 200


def test_the_supplier_acknowledges_and_marks_a_response_taken_on_the_page(client, login, world):
    w = _open_warning(world)
    login(world.owner)
    response = client.post(f"/alerts/{w.id}", data={"kind": "acknowledge", "note": ""})
    assert response.status_code == 302
    assert reload(w).status == WarningStatus.ACKNOWLEDGED
    refused = client.post(f"/alerts/{w.id}", data={"kind": "respond", "note": ""})
    assert refused.status_code == 422 and "Say which response was taken." in refused.get_data(as_text=True)
    assert reload(w).status == WarningStatus.ACKNOWLEDGED
    client.post(f"/alerts/{w.id}", data={"kind": "respond", "note": "联系了三家单位食堂"})
    assert reload(w).status == WarningStatus.HANDLED
    assert "联系了三家单位食堂" in client.get(f"/alerts/{w.id}").get_data(as_text=True)


def test_api_lists_gets_acknowledges_assigns_and_resolves(client, login, world):
    w = _open_warning(world)
    login(world.admin)
    body = client.get("/api/v1/warnings").get_json()
    assert w.id in {i["id"] for i in body["items"]}
    got = client.get(f"/api/v1/warnings/{w.id}").get_json()
    assert got["level"] == "yellow" and got["amount_at_risk_fen"] == 2_000_000 and got["figures"]["stock"] == 200
    assert client.post(f"/api/v1/warnings/{w.id}/acknowledge", json={}).get_json()["status"] == "acknowledged"
    again = client.post(f"/api/v1/warnings/{w.id}/acknowledge", json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"
    stranger = factories_shop.member(factories_shop.world().supplier)
    refused = client.post(f"/api/v1/warnings/{w.id}/assign", json={"assignee_id": stranger.id})
    assert refused.status_code == 422 and reload(w).assignee_id is None
    assigned = client.post(f"/api/v1/warnings/{w.id}/assign", json={"assignee_id": world.owner.id})
    assert assigned.get_json()["assignee_id"] == world.owner.id
    resolved = client.post(f"/api/v1/warnings/{w.id}/resolve", json={"note": "单位已集中采购"})
    assert resolved.get_json()["status"] == "resolved"
    assert not reload(w.product).is_urgent_sale
    assert client.post(f"/api/v1/warnings/{w.id}/resolve", json={}).status_code == 409
    assert w.id not in {i["id"] for i in client.get("/api/v1/warnings").get_json()["items"]}
    assert w.id in {i["id"] for i in client.get("/api/v1/warnings?status=resolved").get_json()["items"]}


def test_a_consumer_has_no_warnings(client, login, world):
    from core.permissions import Role
    from tests import factories

    login(factories.user_with_role(Role.CONSUMER))
    assert client.get("/api/v1/warnings").status_code == 403
    assert client.get("/alerts/").status_code == 403


def test_notifications_show_an_unread_count_and_can_be_marked_read(client, login, world):
    _open_warning(world)
    login(world.owner)
    html = client.get("/alerts/notifications").get_data(as_text=True)
    assert "Early warning Level 3 (yellow)" in html
    assert '<span class="badge">1</span>' in html
    client.post("/alerts/notifications/read")
    assert db.session.execute(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == world.owner.id, Notification.read_at.is_(None))).scalar_one() == 0
    assert '<span class="badge">' not in client.get("/alerts/notifications").get_data(as_text=True)


# --- the rules page ---------------------------------------------------------------------------


def _form(**changes) -> dict:
    return {**{k: str(v) for k, v in rules.DEFAULTS.items()}, **{k: str(v) for k, v in changes.items()}}


def test_a_platform_administrator_edits_the_thresholds(client, login, world):
    login(factories_shop.admin())
    response = client.post("/alerts/rules", data=_form(amount_red_fen=3_000_000, reason="季节调整"))
    assert response.status_code == 302
    assert rules.current()["amount_red_fen"] == 3_000_000


@pytest.mark.parametrize(("changes", "message"), [
    ({"days_blue": -1}, "cannot be negative"),
    ({"amount_red_fen": 50_000}, "Amounts at risk must rise from blue to yellow to orange to red."),
    ({"days_red": 30}, "Days left must shrink from blue to yellow to orange to red."),
    ({"rise_after_runs": 0}, "must be at least one run"),
    ({"sales_drop_percent": 150}, "must be between 1 and 100"),
    ({"pace_error_percent": 301}, "must be at most 300"),
])
def test_a_threshold_edit_that_makes_no_sense_is_refused_and_changes_nothing(client, login, world, changes, message):
    login(factories_shop.admin())
    response = client.post("/alerts/rules", data=_form(**changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.execute(sa.select(AlertRuleSetting)).first() is None
    assert rules.current() == rules.DEFAULTS


def test_a_regional_administrator_may_not_edit_the_thresholds(client, login, world):
    login(world.admin)
    assert client.post("/alerts/rules", data=_form(days_blue=40)).status_code == 403
    assert rules.current() == rules.DEFAULTS


def test_the_warning_and_rules_pages_have_one_heading_and_labelled_fields(client, login, world):
    from tests.core.test_accessibility import _PageAudit

    w = _open_warning(world)
    login(factories_shop.admin())
    for path in (f"/alerts/{w.id}", "/alerts/rules", "/alerts/", "/alerts/notifications"):
        response = client.get(path)
        assert response.status_code == 200, path
        audit = _PageAudit()
        audit.feed(response.get_data(as_text=True))
        assert audit.h1 == 1, path
        unlabelled = [f.get("name") for f in audit.fields
                      if not (f["_wrapped"] or f.get("id") in audit.labels_for or f.get("aria-label"))]
        assert not unlabelled, (path, unlabelled)


def test_the_service_refuses_someone_else_s_warning_and_changes_nothing(world, other):
    from alerts import services
    from alerts.models import ActionKind
    from core.errors import Forbidden

    w = _open_warning(world)
    for outsider in (other.owner, other.admin):
        with pytest.raises(Forbidden):
            services.act(outsider, w, ActionKind.ACKNOWLEDGE)
    assert reload(w).status == WarningStatus.OPEN and reload(w).actions == []


@pytest.mark.parametrize(("kind", "start", "allowed"), [
    (kind, start, start in allowed_from)
    for kind, (allowed_from, _to) in TRANSITIONS.items()
    for start in (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED, WarningStatus.HANDLED, WarningStatus.RESOLVED)
])
def test_every_action_from_every_status_follows_the_transition_table(world, kind, start, allowed):
    from alerts import services
    from core.errors import DomainError

    w = _open_warning(world)
    w.status = start
    db.session.flush()
    try:
        services.act(world.admin, w, kind, note="备注", assignee_id=world.owner.id)
    except DomainError:
        assert not allowed
        assert reload(w).status == start
    else:
        assert allowed
