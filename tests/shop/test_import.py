"""Product import from CSV and XLSX with line-numbered errors."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from core.errors import Forbidden
from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import Product, ProductLot, ProductStatus, SupplierStatus
from shop.services import imports
from tests import factories
from tests.shop import factories_shop as fs

HEADER = ("name,category,sales_unit,specification,price,shelf_life_days,harvest_months,origin_village_code,stock,"
          "certifications\n")


def _csv(w, rows: list[str]) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def _products(w) -> list[Product]:
    return list(db.session.execute(sa.select(Product).where(Product.supplier_id == w.supplier.id)
                                   .order_by(Product.id)).scalars())


def test_good_rows_are_imported_and_broken_rows_come_back_with_their_line(client, login, db_session):
    w = fs.world()
    v, c = w.village.code, w.category.code
    elsewhere = factories.region_chain()
    body = _csv(w, [
        f"巫山脆李,{c},箱,5斤/箱,39.90,15,7-8,{v},120,地理标志",       # line 2: good
        f"坏价格,{c},箱,,0,15,7,{v},10,",                              # line 3: price 0
        f"未知品类,nope,箱,,10,15,7,{v},10,",                          # line 4: category
        f"外县产地,{c},箱,,10,15,7,{elsewhere[RegionLevel.VILLAGE].code},10,",  # line 5: village elsewhere
        f"错误月份,{c},箱,,10,15,13,{v},10,",                          # line 6: month 13
        f"巫山脆李,{c},箱,,10,15,7,{v},10,",                           # line 7: repeats line 2
        f"奉节脐橙,{c},kg,,12.5,30,\"11,12,1\",{v},,绿色",              # line 8: good, no stock
    ])
    login(w.owner)
    db.session.commit()
    response = client.post("/shop/workspace/products/import", data={"file": (io.BytesIO(body), "products.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for line in (3, 4, 5, 6, 7):
        assert f'<td class="num">{line}</td>' in page
    created = _products(w)
    assert [p.name for p in created] == ["巫山脆李", "奉节脐橙"]
    plum, orange = created
    assert plum.status == ProductStatus.DRAFT and plum.price_fen == 3990 and plum.stock == 120
    assert plum.harvest_months == (1 << 6) | (1 << 7)
    lot = db.session.execute(sa.select(ProductLot).where(ProductLot.product_id == plum.id)).scalar_one()
    assert lot.remaining == 120 and lot.expires_on == lot.produced_on + timedelta(days=15)
    assert orange.stock == 0 and orange.harvest_months == (1 << 10) | (1 << 11) | 1
    assert [c.kind.value for c in plum.certifications] == ["geo_indication"]


def test_all_or_nothing_writes_nothing_when_a_row_is_broken(client, login, db_session):
    w = fs.world()
    body = _csv(w, [f"好行,{w.category.code},箱,,10,15,7,{w.village.code},5,",
                    f"坏行,{w.category.code},箱,,-1,15,7,{w.village.code},5,"])
    login(w.owner)
    db.session.commit()
    response = client.post("/shop/workspace/products/import", data={
        "file": (io.BytesIO(body), "products.csv"), "all_or_nothing": "y"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Nothing was imported" in response.get_data(as_text=True)
    assert _products(w) == []


def test_xlsx_import_with_chinese_headers(db_session):
    w = fs.world()
    wb = Workbook()
    ws = wb.active
    ws.append(["品名", "品类", "销售单位", "价格", "保质期", "产地村代码", "库存", "采收日期"])
    ws.append(["石柱黄连", w.category.name, "斤", 88, 365, w.village.code, 40,
               (date.today() - timedelta(days=2)).isoformat()])  # noqa: DTZ011
    out = io.BytesIO()
    wb.save(out)
    result = imports.import_products(w.supplier, w.owner, "黄连.xlsx", out.getvalue())
    assert result.ok and result.created == 1
    (product,) = _products(w)
    assert product.price_fen == 8800 and product.stock == 40 and product.category_id == w.category.id


@pytest.mark.parametrize(("content", "filename"), [(b"", "empty.csv"), (b"x,y\n1,2\n", "wrong.csv"),
                                                   (b"\x00\x01", "x.xlsx"), (b"a", "x.txt")])
def test_unreadable_files_are_refused_whole(client, login, db_session, content, filename):
    w = fs.world()
    login(w.owner)
    db.session.commit()
    response = client.post("/shop/workspace/products/import", data={"file": (io.BytesIO(content), filename)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert _products(w) == []


def test_unaccredited_suppliers_cannot_import(db_session):
    w = fs.world(status=SupplierStatus.PENDING)
    with pytest.raises(Forbidden):
        imports.import_products(w.supplier, w.owner, "p.csv", _csv(w, []))


@pytest.mark.parametrize(("text", "months"), [("6,7,8", [6, 7, 8]), ("6-8", [6, 7, 8]), ("11-2", [11, 12, 1, 2]),
                                               ("7月、8月", [7, 8]), ("", [])])
def test_harvest_month_notations(text, months):
    expected = sum(1 << (m - 1) for m in months)
    assert imports.parse_months(text) == expected
