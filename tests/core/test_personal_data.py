"""Personal data: ID numbers are checked, kept only hashed and masked, never shown or logged whole."""

from __future__ import annotations

import io
import logging
import sys
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale

from core.audit import AuditEntry
from core.errors import ValidationFailed
from core.logging import configure_logging
from core.permissions import Role
from core.personal_data import (
    RedactingFilter,
    hash_id_number,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
    redact,
)
from core.registry.models import Household, HouseholdKind, RegionLevel
from core.registry.services import register_household
from tests import factories
from tests.core.test_accounts import new_browser, sign_in

ID_WITH_X = "50023719700606005X"  # factories.valid_id_number(5): its check digit is X


@pytest.fixture()
def browser(app, client):
    """A test client that runs each request in an application context of its own (see test_accounts.Browser)."""
    return new_browser(app)


@contextmanager
def english(app):
    with app.test_request_context(), force_locale("en"):
        yield


def _record(msg, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("test", logging.WARNING, __file__, 1, msg, args, exc_info)


def _registered(village, id_number, phone=None, head_name="张三"):
    return register_household(village=village, kind=HouseholdKind.POVERTY_LIFTED, head_name=head_name,
                              member_count=3, id_number=id_number, phone=phone)


# --- ID numbers -------------------------------------------------------------------------------


def test_id_number_with_correct_check_digit_is_accepted_and_x_upper_cased():
    assert normalise_id_number(factories.valid_id_number(11)) == factories.valid_id_number(11)
    assert normalise_id_number(" " + ID_WITH_X.lower() + " ") == ID_WITH_X


@pytest.mark.parametrize("raw", ["50023719700606005", "5002371970060600512", "0" + ID_WITH_X[1:], "50023719700606005Y",
                                 "", "5002371970O606005X"])
def test_id_number_of_wrong_shape_is_refused(app, raw):
    with english(app), pytest.raises(ValidationFailed, match="18 characters"):
        normalise_id_number(raw)


def test_id_number_with_wrong_check_digit_is_refused(app):
    good = factories.valid_id_number(11)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with english(app), pytest.raises(ValidationFailed, match="check digit"):
        normalise_id_number(bad)


def test_refusal_never_repeats_the_id_number(app):
    good = factories.valid_id_number(11)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with english(app), pytest.raises(ValidationFailed) as caught:
        normalise_id_number(bad)
    assert bad not in caught.value.message


def test_masked_id_number_hides_the_birth_date_and_sequence():
    assert mask_id_number("500237197001010012") == "500***********0012"
    assert mask_id_number(ID_WITH_X) == "500***********005X"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""


def test_id_number_hash_depends_on_the_secret_pepper():
    value = factories.valid_id_number(11)
    assert hash_id_number(value, "pepper-a") == hash_id_number(value, "pepper-a")
    assert hash_id_number(value, "pepper-a") != hash_id_number(value, "pepper-b")
    assert value not in hash_id_number(value, "pepper-a")


# --- phone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+8613812345678"])
def test_mobile_number_is_normalised(raw):
    assert normalise_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "023-12345678", "phone"])
def test_mobile_number_of_wrong_shape_is_refused(app, raw):
    with english(app), pytest.raises(ValidationFailed):
        normalise_phone(raw)


def test_mobile_number_is_shown_masked():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) == ""


# --- logs ---------------------------------------------------------------------------------------


def test_redact_masks_id_and_mobile_numbers_in_free_text():
    text = f"身份证号{ID_WITH_X}，电话13812345678；订单号 2024010112345678901234 保持不变"
    redacted = redact(text)
    assert ID_WITH_X not in redacted and "13812345678" not in redacted
    assert "500***********005X" in redacted and "138****5678" in redacted
    assert "2024010112345678901234" in redacted  # a longer digit run is not an ID number


def test_redacting_filter_masks_numbers_passed_as_log_arguments():
    record = _record("household %s phone %s", ID_WITH_X, "13812345678")
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "household 500***********005X phone 138****5678"


def test_redacting_filter_leaves_clean_records_alone():
    record = _record("imported %d rows", 5)
    RedactingFilter().filter(record)
    assert record.args == (5,)
    assert record.getMessage() == "imported 5 rows"


def test_redacting_filter_keeps_a_record_with_a_broken_format_string():
    record = _record("%d rows", "not-a-number")
    assert RedactingFilter().filter(record) is True


def test_redacting_filter_masks_numbers_in_an_exception_traceback():
    try:
        raise ValueError(f"insert failed: parameters {{'phone': '13812345678', 'id': '{ID_WITH_X}'}}")
    except ValueError:
        record = _record("unhandled error", exc_info=sys.exc_info())
    RedactingFilter().filter(record)
    output = logging.Formatter().format(record)
    assert "ValueError" in output
    assert "13812345678" not in output and ID_WITH_X not in output
    assert "138****5678" in output


def test_application_log_handler_masks_personal_data():
    # The suite's migrations reconfigure logging, so build the handler afresh the way create_app does.
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = [h for h in root.handlers if not getattr(h, "_marketplace", False)]
    stream = io.StringIO()
    try:
        bare = Flask("logging-test")
        bare.config["LOG_LEVEL"] = "INFO"
        configure_logging(bare)
        handler = next(h for h in root.handlers if getattr(h, "_marketplace", False))
        handler.setStream(stream)
        logging.getLogger("core.test").warning("call %s about household %s", "13812345678", ID_WITH_X)
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
    output = stream.getvalue()
    assert "138****5678" in output and "500***********005X" in output
    assert "13812345678" not in output and ID_WITH_X not in output


# --- storage and display ----------------------------------------------------------------------


def test_id_number_is_never_stored_whole(db_session):
    chain = factories.region_chain()
    id_number = factories.valid_id_number(4242)
    household = _registered(chain[RegionLevel.VILLAGE], id_number, phone="13812345678")
    db_session.flush()

    row = db_session.execute(sa.select(Household.__table__).where(Household.id == household.id)).one()
    values = [str(v) for v in row._mapping.values() if v is not None]
    assert all(id_number not in v for v in values)
    # Not even the birth date and sequence part survives.
    assert all(id_number[6:14] not in v for v in values)
    assert row.id_number_masked == mask_id_number(id_number)

    audit = db_session.execute(sa.select(AuditEntry).where(AuditEntry.target_type == "household",
                                                            AuditEntry.target_id == str(household.id))).scalar_one()
    assert id_number not in str(audit.after)


def test_households_page_shows_masked_id_and_phone_only(browser, db_session):
    chain = factories.region_chain()
    id_number = factories.valid_id_number(4243)
    _registered(chain[RegionLevel.VILLAGE], id_number, phone="13812345678", head_name="李四")
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()

    html = browser.get("/admin/registry/households", query_string={"q": "李四"}).get_data(as_text=True)
    assert "李四" in html
    assert mask_id_number(id_number) in html and "138****5678" in html
    assert id_number not in html and "13812345678" not in html


def test_households_api_shows_masked_id_only(browser, db_session):
    chain = factories.region_chain()
    id_number = factories.valid_id_number(4244)
    household = _registered(chain[RegionLevel.VILLAGE], id_number, phone="13812345678")
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()

    response = browser.get("/api/v1/households", query_string={"village_id": chain[RegionLevel.VILLAGE].id})
    assert response.status_code == 200
    (item,) = response.get_json()["items"]
    assert item["id"] == household.id
    assert item["id_number_masked"] == mask_id_number(id_number)
    assert id_number not in response.get_data(as_text=True)
    assert "13812345678" not in response.get_data(as_text=True)


def test_import_never_logs_an_id_number_from_a_rejected_row(browser, db_session, caplog):
    chain = factories.region_chain()
    village = chain[RegionLevel.VILLAGE]
    good = factories.valid_id_number(4245)
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()
    body = (
        "village_code,kind,head_name,member_count,id_number,phone\n"
        f"{village.code},poverty_lifted,王五,3,{good},13812345678\n"
        f"{village.code},poverty_lifted,王五,0,{good},13812345678\n"  # same number again, and no members
        f"{village.code},poverty_lifted,赵六,2,{wrong_check},\n"
        f"{good},poverty_lifted,钱七,2,{factories.valid_id_number(4246)},\n"  # columns shifted
    ).encode()

    with caplog.at_level(logging.DEBUG):
        response = browser.post("/admin/registry/import", data={"kind": "households",
                                                               "file": (io.BytesIO(body), "households.csv")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Rejected rows" in html
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (good, wrong_check, "13812345678"):
        assert secret not in logged
        assert secret not in html


# --- regional scope ---------------------------------------------------------------------------


def test_regional_administrator_sees_only_households_of_their_region(browser, db_session):
    own = factories.region_chain()
    other = factories.region_chain()
    _registered(own[RegionLevel.VILLAGE], factories.valid_id_number(4247), head_name="本区户主")
    _registered(other[RegionLevel.VILLAGE], factories.valid_id_number(4248), head_name="外区户主")
    sign_in(browser, factories.user_with_role(Role.REGIONAL_ADMIN, region=own[RegionLevel.COUNTY]))
    db_session.commit()

    html = browser.get("/admin/registry/households").get_data(as_text=True)
    assert "本区户主" in html and "外区户主" not in html

    data = browser.get("/api/v1/households").get_json()
    assert data["total"] == 1
    assert [item["head_name"] for item in data["items"]] == ["本区户主"]

    # Asking for the other village by id does not get around the scope.
    data = browser.get("/api/v1/households", query_string={"village_id": other[RegionLevel.VILLAGE].id}).get_json()
    assert data == {"total": 0, "page": 1, "items": []}
    assert browser.get(f"/admin/registry/regions/{other[RegionLevel.COUNTY].id}").status_code == 403


def test_regional_administrator_of_a_township_does_not_see_the_county_next_door(browser, db_session):
    chain = factories.region_chain()
    from core.registry.services import create_region

    sibling_township = create_region(code=chain[RegionLevel.COUNTY].code + "002", name="邻镇",
                                     level=RegionLevel.TOWNSHIP, parent=chain[RegionLevel.COUNTY])
    sibling_village = create_region(code=sibling_township.code + "201", name="邻村", level=RegionLevel.VILLAGE,
                                    parent=sibling_township)
    _registered(chain[RegionLevel.VILLAGE], factories.valid_id_number(4249), head_name="本镇户主")
    _registered(sibling_village, factories.valid_id_number(4250), head_name="邻镇户主")
    sign_in(browser, factories.user_with_role(Role.REGIONAL_ADMIN, region=chain[RegionLevel.TOWNSHIP]))
    db_session.commit()

    names = [item["head_name"] for item in browser.get("/api/v1/households").get_json()["items"]]
    assert names == ["本镇户主"]
