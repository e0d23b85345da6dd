"""The employee link (职工个人) and the unit's promotion code and link (帮助销售)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.errors import Forbidden, NotFound, ValidationFailed
from core.extensions import db
from procurement.models import BuyerUnit, UnitEmployee, UnitStatus
from procurement.services import employees
from tests import factories
from tests.procurement import factories_procurement as fp

# --- employee link ------------------------------------------------------------------------------


def test_consumer_finds_and_names_the_unit_they_work_for(client, login, db_session):
    w = fp.world()
    fp.unit(w.county, name="重庆市某某局", status=UnitStatus.PENDING)
    user = login(factories.UserFactory())
    page = client.get("/procurement/employer?q=" + w.unit.name[-3:]).get_data(as_text=True)
    assert w.unit.name in page and "重庆市某某局" not in page
    response = client.post("/procurement/employer", data={"unit_id": str(w.unit.id)})
    assert response.status_code == 302
    link = db.session.get(UnitEmployee, user.id)
    assert link.unit_id == w.unit.id and link.since is not None
    assert w.unit.name in client.get("/procurement/employer").get_data(as_text=True)
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "unit.employee_named")).scalar_one()
    assert entry.after == {"unit_id": w.unit.id} and entry.before is None


def test_changing_and_clearing_the_employer(db_session):
    first, second = fp.world(), fp.world()
    user = factories.UserFactory()
    employees.name_employer(user, first.unit.id)
    employees.name_employer(user, second.unit.id)
    assert employees.employer_of(user).unit_id == second.unit.id
    assert employees.employee_count(first.unit.id) == 0 and employees.employee_count(second.unit.id) == 1
    employees.clear_employer(user)
    assert employees.employer_of(user) is None
    actions = list(db.session.execute(sa.select(AuditEntry.action).where(AuditEntry.target_type == "user")
                                      .order_by(AuditEntry.id)).scalars())
    assert actions == ["unit.employee_named", "unit.employee_named", "unit.employee_cleared"]


def test_only_an_active_unit_can_be_named(db_session):
    w = fp.world(status=UnitStatus.SUSPENDED)
    user = factories.UserFactory()
    with pytest.raises(ValidationFailed):
        employees.name_employer(user, w.unit.id)
    with pytest.raises(NotFound):
        employees.name_employer(user, 0)
    assert employees.employer_of(user) is None


def test_naming_an_employer_without_a_unit_is_refused(client, login, db_session):
    user = login(factories.UserFactory())
    assert client.post("/procurement/employer", data={"unit_id": "abc"}).status_code == 422
    assert client.post("/procurement/employer", data={"unit_id": "999999"}).status_code == 404
    assert db.session.get(UnitEmployee, user.id) is None


def test_the_account_page_section_points_to_the_employer_page(app, client, login, db_session):
    from procurement.admin_links import employer_section

    user = login(factories.UserFactory())
    w = fp.world()
    employees.name_employer(user, w.unit.id)
    with app.test_request_context():
        from flask_login import login_user

        login_user(user)
        section = employer_section()
    assert section["url"] == "/procurement/employer" and w.unit.name in section["text"]


# --- promotion codes ----------------------------------------------------------------------------


def test_unit_administrator_generates_a_new_random_unique_promotion_code(client, login, db_session):
    w = fp.world()
    w.unit.promotion_code = "OLD-CODE"
    db.session.flush()
    login(w.unit_admin)
    assert client.post("/procurement/unit/promotion-code", data={}).status_code == 422  # unconfirmed
    response = client.post("/procurement/unit/promotion-code", data={"confirm": "y"})
    assert response.status_code == 302
    code = db.session.get(BuyerUnit, w.unit.id).promotion_code
    assert code != "OLD-CODE" and len(code) == employees.CODE_LENGTH
    assert set(code) <= set(employees.CODE_ALPHABET)
    entry = db.session.execute(sa.select(AuditEntry).where(
        AuditEntry.action == "unit.promotion_code_generated")).scalar_one()
    assert entry.before == {"promotion_code": "OLD-CODE"} and entry.after == {"promotion_code": code}
    assert f"/u/{code}" in client.get("/procurement/unit/").get_data(as_text=True)


def test_generated_codes_differ(db_session):
    w = fp.world()
    codes = {employees.regenerate_promotion_code(w.unit_admin, w.unit) for _ in range(5)}
    assert len(codes) == 5


def test_a_buyer_cannot_regenerate_the_code(db_session):
    w = fp.world()
    with pytest.raises(Forbidden):
        employees.regenerate_promotion_code(w.buyer, w.unit)
    assert w.unit.promotion_code is None


def test_promotion_link_remembers_the_code_and_goes_home(client, db_session):
    w = fp.world()
    w.unit.promotion_code = "CQ-NYNCW"
    db.session.flush()
    response = client.get("/u/cq-nyncw")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    with client.session_transaction() as sess:
        assert sess["referral_code"] == "CQ-NYNCW"


@pytest.mark.parametrize("code", ["NOSUCH99", "x", "bad code!", "A" * 40])
def test_an_unknown_or_malformed_code_stores_nothing(client, db_session, code):
    response = client.get(f"/u/{code}")
    assert response.status_code == 302
    with client.session_transaction() as sess:
        assert "referral_code" not in sess


def test_a_suspended_units_code_no_longer_counts(client, db_session):
    w = fp.world(status=UnitStatus.SUSPENDED)
    w.unit.promotion_code = "SUSP1234"
    db.session.flush()
    client.get("/u/SUSP1234")
    with client.session_transaction() as sess:
        assert "referral_code" not in sess


def test_the_account_page_shows_the_employer_section(client, login, db_session):
    w = fp.world()
    user = login(factories.UserFactory())
    page = client.get("/account/").get_data(as_text=True)
    assert "Name the unit you work for" in page
    db.session.add(UnitEmployee(user_id=user.id, unit_id=w.unit.id))
    db.session.flush()
    page = client.get("/account/").get_data(as_text=True)
    assert f"You work for {w.unit.name}" in page
