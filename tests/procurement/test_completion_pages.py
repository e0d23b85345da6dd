"""The completion figures on screen, in the API and in the Excel files agree with each other and with
the hand-computed data set of test_completion.py (U1: plan ¥10,000.00, counted ¥3,597.90 = 35.98%,
time progress 49.86%, gap ¥1,388.10, help-sales ¥119.70)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.registry.models import RegionLevel
from procurement.models import UnitRole
from procurement.services import completion
from tests.procurement import factories_procurement as fp
from tests.procurement.test_completion import TODAY, YEAR, build


@pytest.fixture()
def data(db_session, monkeypatch):
    monkeypatch.setattr(completion, "today", lambda: TODAY)
    return build()


def _sheets(response) -> dict[str, list[list]]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(response.data), data_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _yuan(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _row(sheet: list[list], first: str) -> list:
    return next(r for r in sheet[1:] if r[0] == first)


def test_unit_page_api_and_excel_agree(data, client, login):
    login(fp.member(data.u1, UnitRole.ADMIN))
    html = client.get(f"/procurement/unit/completion?year={YEAR}").get_data(as_text=True)
    for text in ("¥3,597.90", "35.98%", "49.86%", "¥1,388.10", "¥119.70", "¥10,000.00", "甲县分局"):
        assert text in html
    assert "echarts.min.js" in html and 'src="http' not in html

    sheets = _sheets(client.get(f"/procurement/unit/completion.xlsx?year={YEAR}"))
    summary = sheets["Plan completion 2025"]
    assert summary[0][:2] == ["Scope", "Plan (yuan)"]
    # Scope, plan, canteen, union, employees, counted, completion, time progress, gap, help-sales.
    row = summary[1]
    assert row[0] == "甲市农业农村委"
    assert [_yuan(v) for v in row[1:6]] == [Decimal("10000.00"), Decimal("2500.00"), Decimal("1000.00"),
                                            Decimal("97.90"), Decimal("3597.90")]
    assert (_yuan(row[6]), _yuan(row[7]), _yuan(row[8]), _yuan(row[9])) == (
        Decimal("35.98"), Decimal("49.86"), Decimal("1388.10"), Decimal("119.70"))
    months = sheets["Month by month, 2025"]
    july = _row(months, "2025-07")
    assert (_yuan(july[5]), _yuan(july[6])) == (Decimal("3597.90"), Decimal("35.98"))
    assert _yuan(_row(months, "2025-06")[4]) == Decimal("-500.00")

    body = client.get(f"/api/v1/units/{data.u1.id}/completion?year={YEAR}").get_json()
    assert (body["plan_fen"], body["counted_fen"], body["employee_fen"], body["help_sales_fen"]) == (
        1_000_000, 359_790, 9_790, 11_970)
    assert (body["completion"], body["time_progress"], body["gap_fen"]) == ("35.98", "49.86", 138_810)
    assert body["months"][6]["cumulative_completion"] == "35.98"
    assert [s["unit_id"] for s in body["sub_units"]] == [data.u2.id]


def test_a_unit_member_sees_only_their_own_unit(data, client, login):
    login(fp.member(data.u2, UnitRole.BUYER))
    assert client.get(f"/api/v1/units/{data.u1.id}/completion?year={YEAR}").status_code == 404
    items = client.get(f"/api/v1/completion/units?year={YEAR}").get_json()["items"]
    assert [i["unit_id"] for i in items] == [data.u2.id]
    html = client.get(f"/procurement/unit/completion?year={YEAR}").get_data(as_text=True)
    assert "甲县分局" in html and "¥1,500.00" in html and "75.00%" in html


def test_regional_dashboard_api_and_excel_agree_and_stay_in_the_region(data, client, login):
    province = data.chain_a[RegionLevel.PROVINCE]
    login(fp.admin(province))
    html = client.get(f"/procurement/admin/completion?year={YEAR}").get_data(as_text=True)
    # Province A: plans 1,200,000, counted 589,790 (49.15%), guiding plan 2,000,000 (29.49%).
    for text in ("甲市农业农村委", "甲县分局", "甲县国企", "¥5,897.90", "49.15%", "29.49%", "¥20,000.00"):
        assert text in html
    assert "乙中央单位" not in html
    sheets = _sheets(client.get(f"/procurement/admin/completion.xlsx?year={YEAR}"))
    units = sheets["By unit"]
    assert {r[0] for r in units[1:]} == {"甲市农业农村委", "甲县分局", "甲县国企", "Total"}
    u3 = _row(units, "甲县国企")
    assert u3[3] == "—" and _yuan(u3[7]) == Decimal("800.00")  # no plan, counted ¥800.00
    assert _yuan(_row(units, "Total")[7]) == Decimal("5897.90")
    lagging = next(v for k, v in sheets.items() if k.startswith("Units more than"))
    assert [r[0] for r in lagging[1:]] == ["甲市农业农村委"]
    assert _yuan(lagging[1][7]) == Decimal("1388.10")
    counties = sheets["By county of origin where the "[:28]]
    assert sorted(_yuan(r[4]) for r in counties[1:]) == [Decimal("1858.00"), Decimal("4039.90")]

    region = client.get(f"/api/v1/completion/regions/{province.id}?year={YEAR}").get_json()
    assert (region["counted_fen"], region["completion"], region["guiding_plan_fen"], region["guiding_completion"]) == (
        589_790, "49.15", 2_000_000, "29.49")
    assert region["children"][0]["counted_fen"] == 589_790
    items = client.get(f"/api/v1/completion/units?year={YEAR}").get_json()["items"]
    assert {i["unit_id"] for i in items} == {data.u1.id, data.u2.id, data.u3.id}
    lag = client.get(f"/api/v1/completion/lagging?year={YEAR}&min_gap_points=10").get_json()["items"]
    assert [(i["unit_id"], i["gap_fen"], i["lag_points"]) for i in lag] == [(data.u1.id, 138_810, "13.88")]

    other = data.chain_b[RegionLevel.PROVINCE]
    assert client.get(f"/procurement/admin/completion?year={YEAR}&region_id={other.id}").status_code == 403
    assert client.get(f"/api/v1/completion/regions/{other.id}?year={YEAR}").status_code == 403
    assert client.get(f"/procurement/admin/completion/units/{data.u4.id}?year={YEAR}").status_code == 403
    assert client.get(f"/api/v1/units/{data.u4.id}/completion?year={YEAR}").status_code == 403


def test_platform_administrator_sees_every_region(data, client, login):
    login(fp.admin())
    html = client.get(f"/procurement/admin/completion?year={YEAR}&region_id={data.chain_b[RegionLevel.PROVINCE].id}"
                      ).get_data(as_text=True)
    assert "乙中央单位" in html and "20.00%" in html and "甲市农业农村委" not in html
    page = client.get(f"/procurement/admin/completion/units/{data.u4.id}?year={YEAR}")
    assert page.status_code == 200 and "¥1,493.00" in page.get_data(as_text=True)


def test_employee_channel_setting_moves_screen_api_and_excel_together(data, client, login, app):
    login(fp.member(data.u1, UnitRole.ADMIN))
    app.config["PLAN_COUNTED_CHANNELS"] = "canteen,union"
    try:
        html = client.get(f"/procurement/unit/completion?year={YEAR}").get_data(as_text=True)
        body = client.get(f"/api/v1/units/{data.u1.id}/completion?year={YEAR}").get_json()
        sheets = _sheets(client.get(f"/procurement/unit/completion.xlsx?year={YEAR}"))
    finally:
        app.config["PLAN_COUNTED_CHANNELS"] = completion.DEFAULT_COUNTED_CHANNELS
    # 350,000 counted: 35.00%; gap 498,600 − 350,000 = 148,600. Employees' ¥97.90 still shown apart.
    assert "¥3,500.00" in html and "35.00%" in html and "¥1,486.00" in html and "¥97.90" in html
    assert (body["counted_fen"], body["completion"], body["employee_fen"]) == (350_000, "35.00", 9_790)
    row = sheets["Plan completion 2025"][1]
    assert (_yuan(row[5]), _yuan(row[6]), _yuan(row[4])) == (Decimal("3500.00"), Decimal("35.00"), Decimal("97.90"))


def test_bad_api_input_is_refused(data, client, login):
    login(fp.admin())
    assert client.get("/api/v1/completion/lagging?min_gap_points=120").status_code == 422
    assert client.get("/api/v1/completion/units?year=1990").status_code in (400, 422)
    assert client.get("/api/v1/completion/regions/999999").status_code == 404


def _screen_text(value, header: str) -> str:
    """An Excel cell as the screen writes it: ¥ with thousands for yuan, two decimals and % for percentages."""
    from core.money import format_fen

    if value is None:  # an empty text cell (the totals row has no kind or region)
        return ""
    if value == "—":
        return "—"
    if header.endswith("(yuan)"):
        return format_fen(int((Decimal(str(value)) * 100).quantize(Decimal(1))))
    if header.endswith("(%)"):
        return f"{Decimal(str(value)).quantize(Decimal('0.01'))}%"
    return str(value)


@pytest.mark.parametrize("who", ["regional", "platform"])
def test_every_excel_cell_is_on_the_screen(data, client, login, who):
    import html as html_lib

    login(fp.admin(data.chain_a[RegionLevel.PROVINCE]) if who == "regional" else fp.admin())
    query = f"year={YEAR}&region_id={data.chain_a[RegionLevel.PROVINCE].id}"
    page = html_lib.unescape(client.get(f"/procurement/admin/completion?{query}").get_data(as_text=True))
    sheets = _sheets(client.get(f"/procurement/admin/completion.xlsx?{query}"))
    assert len(sheets) == 7
    checked = 0
    for rows in sheets.values():
        header = rows[0]
        for row in rows[1:]:
            cells = [_screen_text(v, h) for v, h in zip(row, header, strict=True)]
            # The row's cells appear on the screen in the same order, in one table row.
            assert "".join(c for c in cells if c) in "".join(
                part for part in _table_cells(page)), (header, cells)
            checked += 1
    assert checked >= 20


def _table_cells(page: str):
    """The text of every table cell on the page, cell after cell (tags and spacing removed)."""
    import re

    for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", page, flags=re.S):
        yield re.sub(r"<[^>]+>", "", cell).strip()


@pytest.mark.parametrize("which", ["unit", "transparency"])
def test_every_excel_cell_is_on_the_screen_of_the_unit_and_public_pages(data, client, login, which):
    import html as html_lib

    if which == "unit":
        login(fp.member(data.u1, UnitRole.ADMIN))
        url = f"/procurement/unit/completion?year={YEAR}"
        xlsx = f"/procurement/unit/completion.xlsx?year={YEAR}"
    else:
        url, xlsx = "/transparency", "/transparency.xlsx"
    screen = "".join(_table_cells(html_lib.unescape(client.get(url).get_data(as_text=True))))
    sheets = _sheets(client.get(xlsx))
    for rows in sheets.values():
        for row in rows[1:]:
            cells = [_screen_text(v, h) for v, h in zip(row, rows[0], strict=True)]
            assert "".join(cells) in screen, (rows[0], cells)


def _table(html: str, table_id: str) -> str:
    start = html.index(f'<table id="table-{table_id}">')
    return html[start:html.index("</table>", start)]


NAMES = ("甲市农业农村委", "甲县分局", "甲县国企", "乙中央单位")


def test_the_dashboard_pages_its_units_and_its_lagging_units_apart(data, client, login, monkeypatch):
    from procurement.views import completion as views

    monkeypatch.setattr(views, "UNITS_PER_PAGE", 1)
    login(fp.admin())
    first = client.get(f"/procurement/admin/completion?year={YEAR}").get_data(as_text=True)
    # Lagging, furthest behind first: U4 (29.86 points behind), then U1 (13.88).
    assert [n for n in NAMES if n in _table(first, "lagging")] == ["乙中央单位"]
    assert "lagging_page=2" in first
    shown = []
    for number in (1, 2, 3, 4):
        html = client.get(f"/procurement/admin/completion?year={YEAR}&lagging_page=2&page={number}"
                          ).get_data(as_text=True)
        assert [n for n in NAMES if n in _table(html, "lagging")] == ["甲市农业农村委"]  # the other list's page stays
        units = [n for n in NAMES if n in _table(html, "units")]
        assert len(units) == 1
        shown += units
    assert sorted(shown) == sorted(NAMES)
    # The workbook still has every row.
    sheets = _sheets(client.get(f"/procurement/admin/completion.xlsx?year={YEAR}"))
    lagging = next(v for k, v in sheets.items() if k.startswith("Units more than"))
    assert [r[0] for r in lagging[1:]] == ["乙中央单位", "甲市农业农村委"]
    assert len(sheets["By unit"]) == 1 + 4 + 1  # header, units, total


def test_the_unit_lists_of_the_api_come_a_page_at_a_time(data, client, login):
    login(fp.admin())
    whole = client.get(f"/api/v1/completion/units?year={YEAR}").get_json()
    assert (whole["total"], whole["page"], whole["per_page"], whole["pages"], len(whole["items"])) == (
        4, 1, 100, 1, 4)
    ids = [i["unit_id"] for i in whole["items"]]
    pages = [client.get(f"/api/v1/completion/units?year={YEAR}&per_page=3&page={n}").get_json() for n in (1, 2, 3)]
    assert [i["unit_id"] for p in pages for i in p["items"]] == ids
    assert [(p["total"], p["pages"], len(p["items"])) for p in pages] == [(4, 2, 3), (4, 2, 1), (4, 2, 0)]
    lag = client.get(f"/api/v1/completion/lagging?year={YEAR}&min_gap_points=10&per_page=1&page=2").get_json()
    assert (lag["total"], lag["pages"], [i["unit_id"] for i in lag["items"]]) == (2, 2, [data.u1.id])
    past = client.get(f"/api/v1/completion/lagging?year={YEAR}&min_gap_points=10&per_page=1&page=3").get_json()
    assert (past["total"], past["pages"], past["items"]) == (2, 2, [])
    assert client.get(f"/api/v1/completion/units?year={YEAR}&per_page=1001").status_code == 422
    assert client.get(f"/api/v1/completion/lagging?year={YEAR}&page=0").status_code == 422
