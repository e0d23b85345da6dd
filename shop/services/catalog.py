"""What buyers see: listed products of accredited suppliers, by section, category and product.

Every query here is set-based: a page of products comes with its supplier,
origin county and photos through joins and ``selectinload``, never a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from core.errors import NotFound
from core.extensions import db
from core.pagination import Page
from core.registry.models import Region
from core.registry.services import ancestors
from shop.models import Category, Product, ProductLot, ProductStatus, Supplier, SupplierStatus
from shop.services.common import SHOP_TIMEZONE, is_member, may_administer
from shop.services.links import households_helped

SECTION_SIZE = 8
PAGE_SIZE = 24
MAX_PAGES = 50  # bounded offset: deeper pages are reached by narrowing the category or the sort
SORTS = {
    "newest": (Product.listed_at.desc(), Product.id.desc()),
    "price_asc": (Product.price_fen.asc(), Product.id.asc()),
    "price_desc": (Product.price_fen.desc(), Product.id.desc()),
    "sales": (Product.sold_quantity.desc(), Product.id.desc()),
}


def on_sale() -> sa.ColumnElement[bool]:
    """A product buyers can see: listed, from a supplier that is accredited right now."""
    return sa.and_(Product.status == ProductStatus.LISTED, Supplier.status == SupplierStatus.APPROVED)


def _card_query() -> sa.Select:
    return (
        sa.select(Product)
        .join(Supplier, Supplier.id == Product.supplier_id)
        .where(on_sale())
        .options(
            # The join above already brings the supplier's row; load it from there.
            contains_eager(Product.supplier).joinedload(Supplier.county),
            joinedload(Product.origin_county),
            selectinload(Product.images),
        )
    )


def current_month() -> int:
    return datetime.now(SHOP_TIMEZONE).month


def in_season_products(month: int | None = None, limit: int = SECTION_SIZE) -> list[Product]:
    bit = 1 << ((month or current_month()) - 1)
    stmt = _card_query().where(Product.harvest_months.op("&")(bit) != 0, Product.stock > 0)
    return list(db.session.execute(stmt.order_by(Product.listed_at.desc(), Product.id.desc()).limit(limit))
                .unique().scalars())


def key_county_products(limit: int = SECTION_SIZE) -> list[Product]:
    county_ids = sa.select(Region.id).where(Region.is_key_assistance_county)
    stmt = _card_query().where(Product.origin_county_id.in_(county_ids))
    return list(db.session.execute(stmt.order_by(Product.listed_at.desc(), Product.id.desc()).limit(limit))
                .unique().scalars())


def urgent_sale_products(limit: int = SECTION_SIZE) -> list[Product]:
    stmt = _card_query().where(Product.is_urgent_sale, Product.stock > 0)
    return list(db.session.execute(stmt.order_by(Product.listed_at.desc(), Product.id.desc()).limit(limit))
                .unique().scalars())


def new_arrivals(limit: int = SECTION_SIZE) -> list[Product]:
    stmt = _card_query().order_by(Product.listed_at.desc(), Product.id.desc()).limit(limit)
    return list(db.session.execute(stmt).unique().scalars())


def categories() -> list[Category]:
    return list(db.session.execute(sa.select(Category).order_by(Category.position, Category.id)).scalars())


def category_tree() -> list[tuple[Category, list[Category]]]:
    """Top-level categories with their children (the table is small: one query)."""
    rows = categories()
    children: dict[int | None, list[Category]] = {}
    for c in rows:
        children.setdefault(c.parent_id, []).append(c)
    return [(top, children.get(top.id, [])) for top in children.get(None, [])]


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(_("No such category."))
    return category


def descendant_ids(category: Category) -> list[int]:
    rows = db.session.execute(sa.select(Category.id, Category.parent_id)).all()
    children: dict[int, list[int]] = {}
    for cid, parent in rows:
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    found, todo = [], [category.id]
    while todo:
        cid = todo.pop()
        if cid in found:
            continue  # a cycle in hand-edited data must not hang the page
        found.append(cid)
        todo.extend(children.get(cid, []))
    return found


def category_page(category: Category | None, *, sort: str, page: int, per_page: int = PAGE_SIZE) -> BoundedPage:
    """One page of a category (and its subcategories), sorted; pages beyond ``MAX_PAGES`` are not served."""
    order = SORTS.get(sort, SORTS["newest"])
    stmt = _card_query()
    count_stmt = (sa.select(sa.func.count(Product.id)).select_from(Product)
                  .join(Supplier, Supplier.id == Product.supplier_id).where(on_sale()))
    if category is not None:
        ids = descendant_ids(category)
        stmt = stmt.where(Product.category_id.in_(ids))
        count_stmt = count_stmt.where(Product.category_id.in_(ids))
    total = db.session.execute(count_stmt).scalar_one()
    pages = max(1, min(MAX_PAGES, -(-total // per_page)))
    page = min(max(page, 1), pages)
    items = list(db.session.execute(stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page))
                 .unique().scalars())
    return BoundedPage(items=items, page=page, per_page=per_page, total=total)


@dataclass
class BoundedPage(Page):
    """A page of a listing that serves at most ``max_pages`` pages however many rows match."""

    max_pages: int = MAX_PAGES

    @property
    def pages(self) -> int:
        return min(self.max_pages, max(1, -(-self.total // self.per_page)))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class ProductView:
    product: Product
    origin_chain: list[Region]
    lots: list[ProductLot]
    households: int
    people: int
    on_sale: bool


def product_view(product_id: int, viewer) -> ProductView:
    """Everything the product page shows. Products not on sale are shown only to their supplier's
    members and to the administrators of their region (as a preview); to anyone else they do not exist."""
    product = db.session.execute(
        sa.select(Product).where(Product.id == product_id).options(
            joinedload(Product.supplier).joinedload(Supplier.county),
            joinedload(Product.category),
            joinedload(Product.origin_village),
            joinedload(Product.origin_county),
            selectinload(Product.images),
            selectinload(Product.certifications),
        )
    ).unique().scalar_one_or_none()
    if product is None:
        raise NotFound(_("No such product."))
    visible = product.status == ProductStatus.LISTED and product.supplier.status == SupplierStatus.APPROVED
    if not visible and not (is_member(viewer, product.supplier_id)
                            or (getattr(viewer, "is_authenticated", False)
                                and may_administer(viewer, product.origin_county))):
        raise NotFound(_("No such product."))
    lots = list(db.session.execute(
        sa.select(ProductLot).where(ProductLot.product_id == product.id, ProductLot.remaining > 0)
        .order_by(ProductLot.expires_on, ProductLot.id)
    ).scalars())
    households, people = households_helped([product.supplier_id]).get(product.supplier_id, (0, 0))
    return ProductView(product=product, origin_chain=ancestors(product.origin_village), lots=lots,
                       households=households, people=people, on_sale=visible)


@dataclass
class SupplierView:
    supplier: Supplier
    products: list[Product]
    households: int
    people: int


def supplier_view(supplier_id: int) -> SupplierView:
    supplier = db.session.execute(
        sa.select(Supplier).where(Supplier.id == supplier_id).options(joinedload(Supplier.county))
    ).scalar_one_or_none()
    if supplier is None or supplier.status != SupplierStatus.APPROVED:
        raise NotFound(_("No such supplier."))
    products = list(db.session.execute(
        _card_query().where(Product.supplier_id == supplier.id)
        .order_by(Product.listed_at.desc(), Product.id.desc()).limit(60)
    ).unique().scalars())
    households, people = households_helped([supplier.id]).get(supplier.id, (0, 0))
    return SupplierView(supplier=supplier, products=products, households=households, people=people)
