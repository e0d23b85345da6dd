"""The units and plans JSON API: scoped lists, plans with a "missing" status, declarations and figures."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from procurement.models import UnitPlan
from procurement.services import common
from tests import factories
from tests.procurement import factories_procurement as fp

YEAR = common.local_year()


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/units?page=-5", None),
    ("GET", "/api/v1/units/1", None),
    ("GET", f"/api/v1/units/1/plans/{YEAR}", None),
    ("PUT", f"/api/v1/units/1/plans/{YEAR}", {"canteen_mode": "banquet", "canteen_budget_fen": "many"}),
])
def test_anonymous_calls_get_401_before_any_validation(client, db_session, method, path, body):
    response = client.open(path, method=method, json=body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_regional_administrator_lists_only_units_in_their_region(client, login, db_session):
    mine, other = fp.world(), fp.world()
    login(fp.admin(mine.province))
    body = client.get("/api/v1/units").get_json()
    ids = {u["id"] for u in body["items"]}
    assert mine.unit.id in ids and other.unit.id not in ids
    assert body["total"] == len(ids)
    assert client.get(f"/api/v1/units/{other.unit.id}").status_code == 403


def test_a_unit_administrator_sees_their_unit_and_sub_units_a_consumer_none(client, login, db_session):
    w = fp.world()
    child = fp.unit(w.county, parent_id=w.unit.id)
    fp.unit(w.county)
    login(w.unit_admin)
    assert {u["id"] for u in client.get("/api/v1/units").get_json()["items"]} == {w.unit.id, child.id}
    assert client.get(f"/api/v1/units/{child.id}").get_json()["parent_id"] == w.unit.id
    login(factories.UserFactory())
    assert client.get("/api/v1/units").get_json() == {"total": 0, "page": 1, "per_page": 50, "items": []}
    assert client.get(f"/api/v1/units/{w.unit.id}").status_code == 404


def test_a_unit_without_a_plan_answers_missing_not_404(client, login, db_session):
    w = fp.world()
    login(w.buyer)
    body = client.get(f"/api/v1/units/{w.unit.id}/plans/{YEAR}").get_json()
    assert body["status"] == "missing" and body["plan_fen"] is None


def test_unit_administrator_declares_through_the_api(client, login, db_session):
    w = fp.world()
    login(w.unit_admin)
    response = client.put(f"/api/v1/units/{w.unit.id}/plans/{YEAR}", json={
        "canteen_mode": "own", "canteen_budget_fen": 80_000_000, "reserved_share_bp": 1500})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "own" and body["plan_fen"] == 12_000_000 and body["minimum_share_bp"] == 1000
    again = client.get(f"/api/v1/units/{w.unit.id}/plans/{YEAR}").get_json()
    assert again["plan_fen"] == 12_000_000
    change = client.put(f"/api/v1/units/{w.unit.id}/plans/{YEAR}", json={"canteen_mode": "none"})
    assert change.status_code == 422
    assert change.get_json()["error"]["details"] == {"field": "reason"}


@pytest.mark.parametrize(("body", "status"), [
    ({"canteen_mode": "own", "canteen_budget_fen": 1000, "reserved_share_bp": 999}, 422),
    ({"canteen_mode": "own", "canteen_budget_fen": -1, "reserved_share_bp": 1000}, 422),
    ({"canteen_mode": "own", "canteen_budget_fen": 10.5, "reserved_share_bp": 1000}, 422),
    ({"canteen_mode": "canteen"}, 422),
    ({}, 422),
])
def test_bad_declarations_through_the_api_write_nothing(client, login, db_session, body, status):
    w = fp.world()
    login(w.unit_admin)
    response = client.put(f"/api/v1/units/{w.unit.id}/plans/{YEAR}", json=body)
    assert response.status_code == status
    assert set(response.get_json()) == {"error"}
    assert db.session.execute(sa.select(UnitPlan).where(UnitPlan.unit_id == w.unit.id)).first() is None


def test_a_year_out_of_range_is_refused_through_the_api(client, login, db_session):
    w = fp.world()
    login(w.unit_admin)
    assert client.get(f"/api/v1/units/{w.unit.id}/plans/3000").status_code == 422
    response = client.put(f"/api/v1/units/{w.unit.id}/plans/1999", json={"canteen_mode": "none"})
    assert response.status_code == 422


def test_a_buyer_cannot_declare_and_an_outsider_cannot_see(client, login, db_session):
    w, other = fp.world(), fp.world()
    login(w.buyer)
    assert client.put(f"/api/v1/units/{w.unit.id}/plans/{YEAR}", json={"canteen_mode": "none"}).status_code == 403
    login(other.unit_admin)
    assert client.put(f"/api/v1/units/{w.unit.id}/plans/{YEAR}", json={"canteen_mode": "none"}).status_code == 404
    assert client.get(f"/api/v1/units/{w.unit.id}/plans/{YEAR}").status_code == 404
    assert db.session.execute(sa.select(UnitPlan).where(UnitPlan.unit_id == w.unit.id)).first() is None


def test_an_administrator_sets_and_withdraws_a_figure_through_the_api(client, login, db_session):
    w = fp.world()
    login(fp.admin(w.province))
    url = f"/api/v1/units/{w.unit.id}/plans/{YEAR}"
    assert client.put(url, json={"plan_fen": 100}).status_code == 422  # no reason
    body = client.put(url, json={"plan_fen": 123_400, "reason": "通知"}).get_json()
    assert body["status"] == "admin" and body["plan_fen"] == 123_400 and body["admin_reason"] == "通知"
    body = client.put(url, json={"clear_figure": True, "reason": "撤回"}).get_json()
    assert body["status"] == "missing"


def test_the_api_is_in_the_openapi_document(client, db_session):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/units", "/api/v1/units/{unit_id}", "/api/v1/units/{unit_id}/plans/{year}"} <= set(paths)
    assert {"get", "put"} <= set(paths["/api/v1/units/{unit_id}/plans/{year}"])


def test_each_side_sends_only_its_own_fields(client, login, db_session):
    w = fp.world()
    login(w.unit_admin)
    url = f"/api/v1/units/{w.unit.id}/plans/{YEAR}"
    assert client.put(url, json={"canteen_mode": "none", "plan_fen": 1, "reason": "x"}).status_code == 403
    login(fp.admin())
    assert client.put(url, json={"plan_fen": 1, "canteen_mode": "none", "reason": "x"}).status_code == 422
    assert db.session.execute(sa.select(UnitPlan).where(UnitPlan.unit_id == w.unit.id)).first() is None
