"""Importing regions and households from CSV (UTF-8 or GB18030) and Excel files."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from core.audit import AuditEntry
from core.errors import ValidationFailed
from core.permissions import Role
from core.personal_data import mask_id_number
from core.registry.imports import import_households, import_regions
from core.registry.models import Household, HouseholdKind, Region, RegionLevel
from core.registry.services import region_scope, register_household, subtree_ids
from tests import factories
from tests.core.test_accounts import new_browser, sign_in

HOUSEHOLD_HEADER = ["village_code", "kind", "head_name", "member_count", "id_number", "phone"]
REGION_HEADER = ["code", "name", "level", "parent_code", "poverty_lifted", "key_assistance"]


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def id_number(seed: int) -> str:
    return factories.valid_id_number(seed, area="500238")


def with_wrong_check_digit(value: str) -> str:
    return value[:17] + ("0" if value[17] != "0" else "1")


def errors_of(result) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in result.errors]


def households_in(db_session, village: Region | int) -> list[Household]:
    # Views roll back or close the session an object was loaded in: pages' tests pass the id.
    village_id = village if isinstance(village, int) else village.id
    return list(db_session.execute(
        sa.select(Household).where(Household.village_id == village_id).order_by(Household.id)
    ).scalars())


def household_count(db_session) -> int:
    return db_session.execute(sa.select(sa.func.count()).select_from(Household)).scalar_one()


def region_count(db_session) -> int:
    return db_session.execute(sa.select(sa.func.count()).select_from(Region)).scalar_one()


def region(db_session, code: str) -> Region:
    return db_session.execute(sa.select(Region).where(Region.code == code)).scalar_one()


@pytest.fixture()
def browser(app, client):
    """A test client that runs each request in an application context of its own (see test_accounts.Browser)."""
    return new_browser(app)


@pytest.fixture()
def cli(app):
    """The ``flask`` command line. Its tests run without the request context below, as the real command does."""
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _request_context(request, app, db_session):
    # Messages are translated for the visitor's language, chosen in a request; the assertions read English.
    if "cli" in request.fixturenames:
        yield
        return
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.fixture()
def village(db_session) -> Region:
    return factories.region_chain()[RegionLevel.VILLAGE]


# --- households ----------------------------------------------------------------------------------


def test_household_csv_good_rows_are_created_with_masked_id_numbers(db_session, village):
    first, second = id_number(1), id_number(2)
    data = csv_bytes([HOUSEHOLD_HEADER,
                      [village.code, "poverty_lifted", "张大山", "4", first, "138 0013 8000"],
                      [village.code, "monitored", "李小河", "1", second.lower(), ""]])

    result = import_households("households.csv", data)

    assert errors_of(result) == []
    assert (result.created, result.updated, result.written) == (2, 0, True)
    big, small = households_in(db_session, village)
    assert (big.head_name, big.kind, big.member_count, big.phone) == (
        "张大山", HouseholdKind.POVERTY_LIFTED, 4, "13800138000")
    assert (small.head_name, small.kind, small.member_count, small.phone) == (
        "李小河", HouseholdKind.MONITORED, 1, None)
    assert big.id_number_masked == mask_id_number(first)
    assert small.id_number_masked == mask_id_number(second)
    audit = db_session.execute(sa.select(AuditEntry).where(AuditEntry.action == "registry.households_imported"))
    assert audit.scalar_one().after == {"created": 2, "updated": 0, "rejected": 0}


def test_household_bad_rows_come_back_with_line_numbers_and_reasons(db_session, village):
    good, other = id_number(3), id_number(4)
    data = csv_bytes([
        HOUSEHOLD_HEADER,
        [village.code, "poverty_lifted", "好户一", "3", good, ""],  # line 2
        [village.code, "poverty_lifted", "校验错", "3", with_wrong_check_digit(id_number(5)), ""],
        ["999999999999", "poverty_lifted", "无此村", "3", id_number(6), ""],
        [village.code, "monitored", "重复号", "2", good, ""],  # line 5
        [village.code, "贫困户", "类别错", "2", id_number(7), ""],
        [village.code, "monitored", "零口人", "0", id_number(8), ""],
        [village.code, "监测户", "好户二", "2", other, ""],  # line 8
        [village.code, "monitored", "电话错", "2", id_number(9), "023-6888"],
        [village.code, "monitored", "", "2", id_number(10), ""],
        [village.code, "monitored", "号太短", "2", "50023819700101", ""],
    ])

    result = import_households("households.csv", data)

    assert result.created == 2
    lines = [line for line, _ in errors_of(result)]
    assert lines == [3, 4, 5, 6, 7, 9, 10, 11]
    reasons = dict(errors_of(result))
    assert "check digit" in reasons[3]
    assert reasons[4] == "village code “999999999999” is not a registered village"
    assert reasons[5] == "same ID number as line 2"
    assert "kind must be" in reasons[6]
    assert reasons[7] == "member count must be a whole number from 1 to 30"
    assert "Mobile number" in reasons[9]
    assert "name is missing" in reasons[10]
    assert "18 characters" in reasons[11]
    assert [h.head_name for h in households_in(db_session, village)] == ["好户一", "好户二"]


def test_household_file_missing_a_column_is_refused_with_a_clear_message(db_session, village):
    data = csv_bytes([HOUSEHOLD_HEADER[:4], [village.code, "monitored", "缺列", "2"]])
    with pytest.raises(ValidationFailed, match=r"Missing columns: id_number \(户主身份证号\)"):
        import_households("households.csv", data)
    assert household_count(db_session) == 0


def test_household_all_or_nothing_writes_nothing_when_a_row_is_bad(db_session, village):
    before = household_count(db_session)
    data = csv_bytes([HOUSEHOLD_HEADER,
                      [village.code, "monitored", "好户", "2", id_number(11), ""],
                      [village.code, "monitored", "坏户", "0", id_number(12), ""]])

    result = import_households("households.csv", data, all_or_nothing=True)

    assert result.written is False
    assert result.created == 0
    assert [line for line, _ in errors_of(result)] == [3]
    assert household_count(db_session) == before
    assert db_session.execute(sa.select(AuditEntry).where(
        AuditEntry.action == "registry.households_imported")).first() is None


def test_household_gb18030_csv_with_chinese_headers_is_read(db_session, village):
    data = csv_bytes([["村代码", "类别", "户主姓名", "家庭人口", "户主身份证号", "联系电话"],
                      [village.code, "脱贫户", "黄连种植户", "5", id_number(13), ""],
                      [village.code, "监测户", "李子果农", "3", id_number(14), "13900139000"]], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    result = import_households("户籍.csv", data)

    assert errors_of(result) == []
    kinds = {h.head_name: h.kind for h in households_in(db_session, village)}
    assert kinds == {"黄连种植户": HouseholdKind.POVERTY_LIFTED, "李子果农": HouseholdKind.MONITORED}


def test_household_utf8_csv_with_a_byte_order_mark_is_read(db_session, village):
    data = "\ufeff".encode() + csv_bytes([["村代码", "类别", "户主", "人口数", "身份证号"],
                                          [village.code, "脱贫户", "带BOM", "2", id_number(15)]])
    assert errors_of(import_households("households.csv", data)) == []


def test_household_xlsx_is_read_with_numbers_as_codes_and_blank_rows_skipped(db_session, village):
    data = xlsx_bytes([
        ["村代码", "类别", "户主姓名", "家庭人口", "户主身份证号"],
        [int(village.code), "脱贫户", "表格户一", 3, id_number(16)],
        [None, None, None, None, None],
        [int(village.code), "监测户", "表格户二", 0, id_number(17)],  # line 4
        [int(village.code), "监测户", "表格户三", 2.0, id_number(18)],
    ])

    result = import_households("households.xlsx", data)

    assert errors_of(result) == [(4, "member count must be a whole number from 1 to 30")]
    assert [h.head_name for h in households_in(db_session, village)] == ["表格户一", "表格户三"]


def test_reimporting_a_known_id_number_updates_the_household(db_session, village):
    other_village = factories.region_chain()[RegionLevel.VILLAGE]
    number = id_number(19)
    import_households("a.csv", csv_bytes([HOUSEHOLD_HEADER, [village.code, "poverty_lifted", "旧名", "3", number, ""]]))
    before = household_count(db_session)

    result = import_households("b.csv", csv_bytes([
        HOUSEHOLD_HEADER, [other_village.code, "monitored", "新名", "5", " " + number.lower(), "13700137000"]]))

    assert (result.created, result.updated) == (0, 1)
    assert household_count(db_session) == before
    db_session.expire_all()
    (household,) = households_in(db_session, other_village)
    assert (household.head_name, household.kind, household.member_count, household.phone) == (
        "新名", HouseholdKind.MONITORED, 5, "13700137000")
    assert household.updated_at > household.created_at
    assert households_in(db_session, village) == []


def test_an_unreadable_file_is_refused_with_a_clear_message(db_session):
    with pytest.raises(ValidationFailed, match=r"Upload a \.csv or \.xlsx file\."):
        import_households("households.txt", b"village_code")
    with pytest.raises(ValidationFailed, match="could not be read as an Excel workbook"):
        import_households("households.xlsx", b"not a zip file")
    with pytest.raises(ValidationFailed, match="empty"):
        import_households("households.csv", b"")
    with pytest.raises(ValidationFailed, match="neither UTF-8 nor GB18030"):
        import_households("households.csv", b"\xff\xfe\x00\x81\x30")


# --- regions -------------------------------------------------------------------------------------


def test_region_import_builds_paths_so_the_subtree_finds_new_villages(db_session):
    chain = factories.region_chain()
    city = chain[RegionLevel.CITY]
    # Deepest first: the importer must not depend on the order of the file.
    data = csv_bytes([
        REGION_HEADER,
        ["610201101201", "新村", "village", "610201101", "", ""],
        ["610201101", "新镇", "township", "610201", "", ""],
        ["610201", "新县", "county", city.code, "是", "否"],
        ["620000", "新省", "省", "", "", ""],
        ["620100", "新市", "市", "620000", "", ""],
    ])

    result = import_regions("regions.csv", data)

    assert errors_of(result) == []
    assert (result.created, result.updated) == (5, 0)
    db_session.expire_all()
    county, township, new_village = (region(db_session, c) for c in ("610201", "610201101", "610201101201"))
    assert county.path == f"{city.path}{county.id}/"
    assert township.path == f"{county.path}{township.id}/"
    assert new_village.path == f"{township.path}{new_village.id}/"
    assert county.is_poverty_lifted_county and not county.is_key_assistance_county
    province = region(db_session, "620000")
    assert province.path == f"/{province.id}/"
    assert region(db_session, "620100").path == f"/{province.id}/{region(db_session, '620100').id}/"

    under_province = set(db_session.execute(subtree_ids(chain[RegionLevel.PROVINCE])).scalars())
    assert {county.id, township.id, new_village.id} <= under_province
    assert province.id not in under_province

    # A regional administrator of the old province now sees households in the new village.
    household = factories.household(new_village)
    admin = factories.user_with_role(Role.REGIONAL_ADMIN, region=chain[RegionLevel.PROVINCE])
    visible = db_session.execute(sa.select(Household.id).where(region_scope(admin, Household.village_id)))
    assert household.id in set(visible.scalars())


def test_region_child_of_a_rejected_row_is_rejected_too(db_session):
    city = factories.region_chain()[RegionLevel.CITY]
    data = csv_bytes([
        REGION_HEADER,
        ["610202", "坏县", "county", city.code, "也许", ""],  # line 2: bad flag
        ["610202101", "坏县的镇", "township", "610202", "", ""],
        ["610202101201", "坏县的村", "village", "610202101", "", ""],
        ["610203", "孤县", "county", "659999", "", ""],  # line 5: unknown parent
        ["610203101", "孤县的镇", "township", "610203", "", ""],
    ])

    result = import_regions("regions.csv", data)

    assert result.created == 0
    assert errors_of(result) == [
        (2, "flags must be 是/否, yes/no or 1/0"),
        (3, "parent 610202 was rejected (line 2)"),
        (4, "parent 610202101 was rejected (line 3)"),
        (5, "parent code 659999 is not registered"),
        (6, "parent 610203 was rejected (line 5)"),
    ]


def test_region_bad_rows_come_back_with_reasons(db_session):
    chain = factories.region_chain()
    county = chain[RegionLevel.COUNTY]
    data = csv_bytes([
        REGION_HEADER,
        ["61020", "短码", "county", chain[RegionLevel.CITY].code, "", ""],
        ["610204", "", "county", chain[RegionLevel.CITY].code, "", ""],
        ["610205", "怪级", "hamlet", chain[RegionLevel.CITY].code, "", ""],
        ["630000", "有上级的省", "province", chain[RegionLevel.CITY].code, "", ""],
        ["610206", "无上级", "county", "", "", ""],
        ["610207101", "旗帜镇", "township", county.code, "是", ""],
        ["610208101201", "越级村", "village", county.code, "", ""],
        ["610209", "好县", "county", chain[RegionLevel.CITY].code, "", "yes"],  # line 9
        ["610209", "又一个", "county", chain[RegionLevel.CITY].code, "", ""],
        [county.code, "搬家县", "county", "640100", "", ""],
    ])

    result = import_regions("regions.csv", data)

    assert result.created == 1
    reasons = dict(errors_of(result))
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 10, 11]
    assert reasons[2] == "code “61020” must have 6, 9 or 12 digits"
    assert "name is missing" in reasons[3]
    assert "level must be one of" in reasons[4]
    assert reasons[5] == "a province has no parent"
    assert reasons[6] == "parent_code is required below province level"
    assert "only a county" in reasons[7]
    assert reasons[8] == "a village cannot sit under a county"
    assert reasons[10] == "code 610209 repeats line 9"
    assert "is not registered" in reasons[11] or "another place" in reasons[11]
    assert region(db_session, "610209").is_key_assistance_county


def test_region_moved_to_another_parent_is_refused(db_session):
    chain, other = factories.region_chain(), factories.region_chain()
    county = chain[RegionLevel.COUNTY]
    data = csv_bytes([REGION_HEADER, [county.code, county.name, "county", other[RegionLevel.CITY].code, "", ""]])
    result = import_regions("regions.csv", data)
    assert errors_of(result) == [(2, f"code {county.code} is already registered at another place in the tree")]


def test_region_all_or_nothing_writes_nothing_when_a_row_is_bad(db_session):
    city = factories.region_chain()[RegionLevel.CITY]
    before = region_count(db_session)
    data = csv_bytes([REGION_HEADER,
                      ["610210", "好县", "county", city.code, "", ""],
                      ["610210101", "坏镇", "township", "610210", "", "是"]])

    result = import_regions("regions.csv", data, all_or_nothing=True)

    assert result.written is False
    assert [line for line, _ in errors_of(result)] == [3]
    assert region_count(db_session) == before


def test_region_reimport_updates_name_and_flags(db_session):
    chain = factories.region_chain()
    county = chain[RegionLevel.COUNTY]
    data = csv_bytes([REGION_HEADER,
                      [county.code, "改名县", "county", chain[RegionLevel.CITY].code, "1", "1"],
                      [chain[RegionLevel.CITY].code, chain[RegionLevel.CITY].name, "city",
                       chain[RegionLevel.PROVINCE].code, "", ""]])

    result = import_regions("regions.csv", data)

    assert errors_of(result) == []
    assert (result.created, result.updated) == (0, 1)  # the unchanged city is not counted
    db_session.expire_all()
    county = region(db_session, county.code)
    assert (county.name, county.is_poverty_lifted_county, county.is_key_assistance_county) == ("改名县", True, True)


def test_region_xlsx_with_chinese_headers_and_numeric_codes(db_session):
    data = xlsx_bytes([
        ["区划代码", "名称", "级别", "上级代码", "脱贫县", "重点帮扶县"],
        [650000, "西部省", "省", None, None, None],
        [650100, "西部市", "市", 650000, None, None],
        [650101, "西部县", "区县", 650100, "是", "√"],
        [650101001, "西部镇", "乡镇", 650101, None, None],
        [650101001201, "西部村", "村", 650101001, None, None],
    ])

    result = import_regions("regions.xlsx", data)

    assert errors_of(result) == []
    county = region(db_session, "650101")
    assert county.is_poverty_lifted_county and county.is_key_assistance_county
    db_session.expire_all()
    new_village = region(db_session, "650101001201")
    assert new_village.id in set(db_session.execute(subtree_ids(region(db_session, "650000"))).scalars())


# --- the import page and the command line --------------------------------------------------------


def _upload(browser, kind, filename, data, **fields):
    return browser.post("/admin/registry/import",
                        data={"kind": kind, "file": (io.BytesIO(data), filename), **fields})


def test_import_page_shows_the_rejected_rows_and_keeps_the_good_ones(browser, db_session, village):
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()
    data = csv_bytes([HOUSEHOLD_HEADER,
                      [village.code, "poverty_lifted", "页面户", "3", id_number(20), ""],
                      [village.code, "poverty_lifted", "零人户", "0", id_number(21), ""]])

    response = _upload(browser, "households", "households.csv", data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Rejected rows" in html
    assert '<td class="num">3</td><td>member count must be a whole number from 1 to 30</td>' in html
    assert "1 created, 0 updated, 1 rejected." in html
    assert [h.head_name for h in households_in(db_session, village)] == ["页面户"]


def test_import_page_all_or_nothing_imports_nothing(browser, db_session, village):
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()
    data = csv_bytes([HOUSEHOLD_HEADER,
                      [village.code, "poverty_lifted", "页面户", "3", id_number(22), ""],
                      [village.code, "poverty_lifted", "零人户", "0", id_number(23), ""]])

    village_id = village.id

    response = _upload(browser, "households", "households.csv", data, all_or_nothing="y")

    assert response.status_code == 422
    assert "Nothing was imported: 1 rows are invalid." in response.get_data(as_text=True)
    assert households_in(db_session, village_id) == []


def test_import_page_imports_regions_from_excel(browser, db_session):
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()
    data = xlsx_bytes([REGION_HEADER, ["660000", "页面省", "province", None, None, None]])

    response = _upload(browser, "regions", "regions.xlsx", data)

    assert response.status_code == 200
    assert "1 created, 0 updated, 0 rejected." in response.get_data(as_text=True)
    assert region(db_session, "660000").path.startswith("/")


def test_import_page_explains_a_missing_column(browser, db_session):
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()
    response = _upload(browser, "households", "households.csv", csv_bytes([["village_code", "kind"]]))
    assert response.status_code == 422
    assert "Missing columns: head_name (户主姓名), id_number (户主身份证号), member_count (家庭人口)." in (
        response.get_data(as_text=True))


def test_import_page_refuses_other_file_types(browser, db_session):
    sign_in(browser, factories.user_with_role(Role.PLATFORM_ADMIN))
    db_session.commit()
    response = _upload(browser, "households", "households.txt", b"village_code\n")
    assert response.status_code == 422
    assert "Upload a .csv or .xlsx file." in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.CONSUMER, Role.SUPPLIER, Role.UNIT_BUYER])
def test_only_administrators_may_import(browser, db_session, village, role):
    sign_in(browser, factories.user_with_role(role))
    db_session.commit()
    data = csv_bytes([HOUSEHOLD_HEADER, [village.code, "poverty_lifted", "越权户", "3", id_number(24), ""]])

    assert browser.get("/admin/registry/import").status_code == 403
    assert _upload(browser, "households", "households.csv", data).status_code == 403
    assert households_in(db_session, village) == []


def test_visitors_are_sent_to_log_in_before_importing(browser, db_session):
    response = browser.get("/admin/registry/import")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_regional_administrator_imports_only_inside_their_region(browser, db_session):
    own, other = factories.region_chain(), factories.region_chain()
    elsewhere_number = id_number(31)
    elsewhere = register_household(village=other[RegionLevel.VILLAGE], kind=HouseholdKind.MONITORED,
                                   head_name="外区旧户", member_count=2, id_number=elsewhere_number)
    sign_in(browser, factories.user_with_role(Role.REGIONAL_ADMIN, region=own[RegionLevel.COUNTY]))
    db_session.commit()
    data = csv_bytes([
        HOUSEHOLD_HEADER,
        [own[RegionLevel.VILLAGE].code, "poverty_lifted", "本区户", "3", id_number(25), ""],
        [other[RegionLevel.VILLAGE].code, "poverty_lifted", "外区户", "3", id_number(26), ""],  # line 3
        [own[RegionLevel.VILLAGE].code, "poverty_lifted", "搬来户", "3", elsewhere_number, ""],  # line 4
    ])

    response = _upload(browser, "households", "households.csv", data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"village code “{other[RegionLevel.VILLAGE].code}” is outside your region" in html
    assert "a household with this ID number is registered outside your region" in html
    assert [h.head_name for h in households_in(db_session, own[RegionLevel.VILLAGE])] == ["本区户"]
    db_session.expire_all()
    assert db_session.get(Household, elsewhere.id).village_id == other[RegionLevel.VILLAGE].id


def test_regional_administrator_cannot_add_regions_outside_their_region(browser, db_session):
    own, other = factories.region_chain(), factories.region_chain()
    own_county, own_name = own[RegionLevel.COUNTY].code, own[RegionLevel.COUNTY].name
    own_city = own[RegionLevel.CITY].code
    other_county = other[RegionLevel.COUNTY].code
    sign_in(browser, factories.user_with_role(Role.REGIONAL_ADMIN, region=own[RegionLevel.COUNTY]))
    db_session.commit()
    data = csv_bytes([
        REGION_HEADER,
        [own_county + "009", "本县新镇", "township", own_county, "", ""],
        [own_county + "009201", "本县新村", "village", own_county + "009", "", ""],
        [other_county + "009", "外县新镇", "township", other_county, "", ""],
        ["670000", "新省", "province", "", "", ""],
        [own_county, "改自己的县名", "county", own_city, "", ""],  # the root of their subtree is not theirs to edit
    ])

    response = _upload(browser, "regions", "regions.csv", data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "2 created, 0 updated, 3 rejected." in html
    for code in (other_county + "009", "670000", own_county):
        assert f"region {code} is outside your region" in html
    assert region(db_session, own_county).name == own_name
    assert region(db_session, own_county + "009201").path.startswith(region(db_session, own_county).path)


def test_command_line_imports_good_rows(cli, db_session, village, tmp_path):
    db_session.commit()
    village_id, code = village.id, village.code
    path = tmp_path / "households.csv"
    path.write_bytes(csv_bytes([HOUSEHOLD_HEADER, [code, "脱贫户", "命令行户", "3", id_number(32), ""]],
                               encoding="gb18030"))

    result = cli.invoke(args=["registry", "import", "households", str(path)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "created 1, updated 0, rejected 0" in result.output
    assert [h.head_name for h in households_in(db_session, village_id)] == ["命令行户"]


def test_command_line_import_reports_rejected_rows(cli, db_session, village, tmp_path):
    db_session.commit()
    path = tmp_path / "households.csv"
    path.write_bytes(csv_bytes([HOUSEHOLD_HEADER,
                                [village.code, "poverty_lifted", "命令行户", "3", id_number(27), ""],
                                [village.code, "贫困户", "坏行", "3", id_number(28), ""]]))

    result = cli.invoke(args=["registry", "import", "households", str(path)], catch_exceptions=False)

    assert result.exit_code == 1
    assert "created 1, updated 0, rejected 1" in result.output
    assert "line 3: " in result.output
    assert [h.head_name for h in households_in(db_session, village)] == ["命令行户"]


def test_command_line_all_or_nothing_writes_nothing(cli, db_session, village, tmp_path):
    db_session.commit()
    path = tmp_path / "households.xlsx"
    path.write_bytes(xlsx_bytes([HOUSEHOLD_HEADER,
                                 [village.code, "poverty_lifted", "命令行户", 3, id_number(29), None],
                                 [village.code, "poverty_lifted", "坏行", 31, id_number(30), None]]))

    result = cli.invoke(args=["registry", "import", "households", str(path), "--all-or-nothing"],
                        catch_exceptions=False)

    assert result.exit_code == 1
    assert "nothing written" in result.output
    assert households_in(db_session, village) == []
