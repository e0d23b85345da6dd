"""Importing products from CSV or XLSX (core.tabular), with an error for each bad row.

Every row is checked before anything is written; products come in as drafts of
the importing supplier, with an optional first stock lot. With
``all_or_nothing`` one bad row stops the whole file. Lookups are done once per
file (categories, the supplier's villages, its existing product names), so the
check is set-based however long the file is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from core import audit
from core.errors import DomainError, ValidationFailed
from core.extensions import db
from core.money import parse_yuan
from core.registry.models import Region, RegionLevel
from core.tabular import MAX_ROWS, ImportResult, RowError, map_header, pick, read_table
from shop.models import Category, Certification, Product, ProductCertification, ProductLot, ProductStatus, Supplier
from shop.services.common import ensure_may_sell, ensure_member, local_today
from shop.services.products import MAX_LOT_QUANTITY, MAX_PRICE_FEN

PRODUCT_COLUMNS = {
    "name": ("品名", "商品名称", "名称"),
    "category": ("品类", "类别", "category_code"),
    "sales_unit": ("销售单位", "单位"),
    "specification": ("规格",),
    "price": ("价格", "单价", "price_yuan"),
    "min_order_qty": ("起订量",),
    "shelf_life_days": ("保质期", "保质期天数"),
    "harvest_months": ("采收月份", "上市月份"),
    "origin_village_code": ("产地村代码", "产地代码", "village_code"),
    "stock": ("库存", "数量"),
    "produced_on": ("采收日期", "生产日期"),
    "description": ("描述", "介绍"),
    "certifications": ("认证",),
}
REQUIRED = {"name", "category", "sales_unit", "price", "shelf_life_days", "origin_village_code"}
CERT_WORDS = {
    "green": Certification.GREEN, "绿色": Certification.GREEN, "绿色食品": Certification.GREEN,
    "organic": Certification.ORGANIC, "有机": Certification.ORGANIC, "有机产品": Certification.ORGANIC,
    "geo_indication": Certification.GEOGRAPHICAL_INDICATION, "gi": Certification.GEOGRAPHICAL_INDICATION,
    "地理标志": Certification.GEOGRAPHICAL_INDICATION,
}
TEMPLATE_HEADER = ("name,category,sales_unit,specification,price,min_order_qty,shelf_life_days,harvest_months,"
                   "origin_village_code,stock,produced_on,description,certifications\n")


@dataclass
class ProductImportResult(ImportResult):
    created_ids: list[int] = field(default_factory=list)  # announced by the view after commit


class _RowProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_months(text: str) -> int:
    """"6,7,8", "6-8", "6、7月" or "11-2" (across the new year) → bitmask."""
    text = text.replace("月", "").replace("、", ",").replace("，", ",").replace("；", ",").replace(";", ",")
    mask = 0
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "-" in part:
            start_s, _sep, end_s = part.partition("-")
            if not (start_s.strip().isdigit() and end_s.strip().isdigit()):
                raise _RowProblem(_("harvest months must look like 6,7,8 or 6-8"))
            start, end = int(start_s), int(end_s)
            if not (1 <= start <= 12 and 1 <= end <= 12):
                raise _RowProblem(_("harvest months run from 1 to 12"))
            month = start
            while True:
                mask |= 1 << (month - 1)
                if month == end:
                    break
                month = month % 12 + 1
        elif part.isdigit() and 1 <= int(part) <= 12:
            mask |= 1 << (int(part) - 1)
        else:
            raise _RowProblem(_("harvest months must look like 6,7,8 or 6-8"))
    return mask


def _whole(text: str, *, what: str, low: int, high: int, default: int | None = None) -> int:
    if not text and default is not None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise _RowProblem(_("%(what)s must be a whole number from %(low)d to %(high)d", what=what, low=low,
                            high=high))
    return int(text)


def _date(text: str, what: str) -> date | None:
    if not text:
        return None
    text = text.split(" ")[0].replace("/", "-")  # Excel gives "2026-07-01 00:00:00"
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _RowProblem(_("%(what)s must be a date like 2026-07-01", what=what)) from exc


def import_products(supplier: Supplier, actor, filename: str, data: bytes, *,
                    all_or_nothing: bool = False) -> ProductImportResult:
    ensure_member(actor, supplier.id)
    ensure_may_sell(supplier)
    header, rows = read_table(filename, data)
    positions = map_header(header, PRODUCT_COLUMNS, REQUIRED)

    categories: dict[str, int] = {}
    for cid, code, name in db.session.execute(sa.select(Category.id, Category.code, Category.name)).all():
        categories[code.lower()] = cid
        categories.setdefault(name.lower(), cid)
    villages = dict(db.session.execute(
        sa.select(Region.code, Region.id).where(Region.level == RegionLevel.VILLAGE,
                                                Region.path.startswith(supplier.county.path, autoescape=True))
    ).all())
    existing_names = set(db.session.execute(
        sa.select(Product.name).where(Product.supplier_id == supplier.id)).scalars())

    result = ProductImportResult()
    parsed: list[dict] = []
    seen: dict[str, int] = {}
    today = local_today()
    for line, cells in rows:
        if line > MAX_ROWS + 1:
            result.errors.append(RowError(line, _("The file has more than %(n)d rows; split it.", n=MAX_ROWS)))
            break
        try:
            name = pick(cells, positions, "name")
            if not name or len(name) > 120:
                raise _RowProblem(_("name is missing or longer than 120 characters"))
            if name in existing_names:
                raise _RowProblem(_("a product named “%(name)s” already exists; edit it on its page", name=name))
            if name in seen:
                raise _RowProblem(_("“%(name)s” repeats line %(line)d", name=name, line=seen[name]))
            category_id = categories.get(pick(cells, positions, "category").lower())
            if category_id is None:
                raise _RowProblem(_("category “%(c)s” is not a known category code or name",
                                    c=pick(cells, positions, "category")))
            unit = pick(cells, positions, "sales_unit")
            if not unit or len(unit) > 10:
                raise _RowProblem(_("sales unit is missing or longer than 10 characters"))
            spec = pick(cells, positions, "specification")
            if len(spec) > 60:
                raise _RowProblem(_("specification is longer than 60 characters"))
            try:
                price_fen = parse_yuan(pick(cells, positions, "price"))
            except DomainError as exc:
                raise _RowProblem(_("price “%(p)s” is not an amount in yuan",
                                    p=pick(cells, positions, "price"))) from exc
            if not 0 < price_fen <= MAX_PRICE_FEN:
                raise _RowProblem(_("price must be more than ¥0 and at most ¥100,000"))
            min_qty = _whole(pick(cells, positions, "min_order_qty"), what=_("minimum order"), low=1,
                             high=10_000, default=1)
            shelf = _whole(pick(cells, positions, "shelf_life_days"), what=_("shelf life"), low=1, high=3650)
            months = parse_months(pick(cells, positions, "harvest_months"))
            village_code = pick(cells, positions, "origin_village_code")
            village_id = villages.get(village_code)
            if village_id is None:
                raise _RowProblem(_("origin village code “%(c)s” is not a village of your county",
                                    c=village_code))
            stock = _whole(pick(cells, positions, "stock"), what=_("stock"), low=0, high=MAX_LOT_QUANTITY,
                           default=0)
            produced_on = _date(pick(cells, positions, "produced_on"), _("harvest date")) or today
            if produced_on > today:
                raise _RowProblem(_("the harvest date cannot be in the future"))
            if stock and produced_on + timedelta(days=shelf) < today:
                raise _RowProblem(_("this stock has already expired"))
            description = pick(cells, positions, "description")
            if len(description) > 5000:
                raise _RowProblem(_("description is longer than 5000 characters"))
            certs: set[Certification] = set()
            for word in pick(cells, positions, "certifications").replace("、", ",").split(","):
                word = word.strip().lower()
                if not word:
                    continue
                if word not in CERT_WORDS:
                    raise _RowProblem(_("certification “%(c)s” must be 绿色, 有机 or 地理标志", c=word))
                certs.add(CERT_WORDS[word])
        except _RowProblem as exc:
            result.errors.append(RowError(line, exc.message))
            continue
        seen[name] = line
        parsed.append({
            "name": name, "category_id": category_id, "sales_unit": unit, "specification": spec,
            "price_fen": price_fen, "min_order_qty": min_qty, "shelf_life_days": shelf, "harvest_months": months,
            "origin_village_id": village_id, "stock": stock, "produced_on": produced_on,
            "description": description, "certs": certs,
        })
    if not parsed and not result.errors:
        raise ValidationFailed(_("The file has no product rows."))
    if result.errors and all_or_nothing:
        result.written = False
        return result

    products = []
    for row in parsed:
        product = Product(
            supplier_id=supplier.id, category_id=row["category_id"], origin_village_id=row["origin_village_id"],
            origin_county_id=supplier.county_id, name=row["name"], description=row["description"],
            sales_unit=row["sales_unit"], specification=row["specification"], price_fen=row["price_fen"],
            stock=row["stock"], min_order_qty=row["min_order_qty"], shelf_life_days=row["shelf_life_days"],
            harvest_months=row["harvest_months"], status=ProductStatus.DRAFT,
            certifications=[ProductCertification(kind=k) for k in sorted(row["certs"])],
        )
        if row["stock"]:
            # The lot and the stock column are written together, so stock = sum of remaining holds.
            product.lots = [ProductLot(quantity=row["stock"], remaining=row["stock"], produced_on=row["produced_on"],
                                       expires_on=row["produced_on"] + timedelta(days=row["shelf_life_days"]))]
        products.append(product)
    db.session.add_all(products)
    db.session.flush()
    result.created = len(products)
    result.created_ids = [p.id for p in products]
    audit.record("product.imported", "supplier", supplier.id,
                 after={"file": filename[:120], "created": result.created, "rejected": len(result.errors)})
    return result
