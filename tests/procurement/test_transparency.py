"""The public transparency page: aggregate figures for anyone, nothing that identifies a person,
a household or a buyer unit. Figures from the data set of test_completion.py."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.registry.models import RegionLevel
from procurement.services import completion
from tests.procurement.test_completion import TODAY, build


@pytest.fixture()
def data(db_session, monkeypatch):
    monkeypatch.setattr(completion, "today", lambda: TODAY)
    return build()


def test_anyone_sees_aggregate_figures_without_logging_in(data, client):
    response = client.get("/transparency")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    county_a = data.chain_a[RegionLevel.COUNTY].name
    # County A, 水果: ¥5,199.50 (shop 3,990 + 3,990 + 11,970; ledger 500,000); county B, 粮油: ¥1,858.00.
    assert county_a in html and "¥5,199.50" in html and "¥1,858.00" in html
    # Province A: counted ¥5,897.90 of its guiding plan ¥20,000.00 = 29.49%.
    assert data.chain_a[RegionLevel.PROVINCE].name in html and "29.49%" in html
    assert "<h1>" in html and html.count("<h1") == 1
    assert "echarts.min.js" in html and 'src="http' not in html


def test_nothing_identifies_a_person_household_or_unit(data, client):
    html = client.get("/transparency").get_data(as_text=True)
    workbook = client.get("/transparency.xlsx")
    cells = " ".join(str(c) for ws in load_workbook(io.BytesIO(workbook.data)).worksheets
                     for row in ws.iter_rows(values_only=True) for c in row)
    for text in (html, cells):
        for unit in (data.u1, data.u2, data.u3, data.u4):
            assert unit.name not in text
        assert data.employee.display_name not in text and data.helper.display_name not in text
        assert "户主" not in text  # household heads' names
        assert "HELPU1" not in text


def test_excel_has_the_same_figures(data, client):
    response = client.get("/transparency.xlsx")
    assert response.status_code == 200
    sheets = {ws.title: list(ws.iter_rows(values_only=True))
              for ws in load_workbook(io.BytesIO(response.data)).worksheets}
    sold = next(v for k, v in sheets.items() if k.startswith("Amount sold"))
    amounts = {(r[0], r[1]): Decimal(str(r[2])).quantize(Decimal("0.01")) for r in sold[1:]}
    county_a = next(k for k in amounts if k[1] == "水果")
    assert amounts[county_a] == Decimal("5199.50")
    households = next(v for k, v in sheets.items() if k.startswith("Households"))
    assert households[1][1] == completion.households_reached(2025) == 3
