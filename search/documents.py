"""What an index entry says about a product, built set-based from the shop's tables.

Both backends index the same ``IndexDocument``. A product that is not on sale (not listed,
or its supplier not accredited right now, or deleted) has no document: its entry is removed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.registry.models import Region
from shop.models import Category, Product, ProductCertification, ProductStatus, Supplier, SupplierStatus

BATCH_SIZE = 500


def on_sale() -> sa.ColumnElement[bool]:
    """What buyers can see (the shop's catalog uses the same rule): listed, from an accredited supplier."""
    return sa.and_(Product.status == ProductStatus.LISTED, Supplier.status == SupplierStatus.APPROVED)


@dataclass
class IndexDocument:
    product_id: int
    name: str
    category_id: int
    category_path_ids: list[int]
    category_names: list[str]
    province_id: int | None
    city_id: int | None
    county_id: int
    origin_names: list[str]  # province, city, county, township, village (those that exist)
    supplier_id: int
    supplier_name: str
    supplier_type: str
    specification: str
    description: str
    price_fen: int
    stock: int
    sold_quantity: int
    harvest_months: list[int]
    certifications: list[str]
    is_key_assistance_county: bool
    is_urgent_sale: bool
    listed_at: str | None  # ISO 8601, UTC; the creation time for products listed before listed_at existed
    fingerprint: str = field(default="", compare=False)

    # The four text segments, in decreasing weight (see the ranking in search/README.md).
    @property
    def category_text(self) -> str:
        return " ".join(self.category_names)

    @property
    def origin_text(self) -> str:
        return " ".join(self.origin_names)

    @property
    def extra_text(self) -> str:
        return " ".join(x for x in (self.supplier_name, self.specification, self.description) if x)

    def body(self) -> dict:
        data = asdict(self)
        data.pop("fingerprint")
        return data

    def text_fingerprint(self) -> str:
        """Fingerprint of the text alone: what the database backend stores."""
        return _sha1([self.name, self.category_text, self.origin_text, self.extra_text])


def _sha1(value) -> str:
    canonical = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(canonical.encode("utf-8"), usedforsecurity=False).hexdigest()


def _months(mask: int) -> list[int]:
    return [m for m in range(1, 13) if mask & (1 << (m - 1))]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def build_documents(session: Session, product_ids: list[int]) -> dict[int, IndexDocument]:
    """Documents of those of ``product_ids`` that are on sale, in four queries whatever their number."""
    if not product_ids:
        return {}
    rows = session.execute(
        sa.select(Product, Supplier.name, Supplier.type)
        .join(Supplier, Supplier.id == Product.supplier_id)
        .where(Product.id.in_(product_ids), on_sale())
    ).all()
    if not rows:
        return {}
    products = [r[0] for r in rows]
    ids = [p.id for p in products]
    certs: dict[int, list[str]] = {}
    for product_id, kind in session.execute(
        sa.select(ProductCertification.product_id, ProductCertification.kind)
        .where(ProductCertification.product_id.in_(ids))
        .order_by(ProductCertification.product_id, ProductCertification.kind)
    ):
        certs.setdefault(product_id, []).append(kind.value)
    origin_ids = {p.origin_village_id for p in products} | {p.origin_county_id for p in products}
    regions = regions_with_ancestors(session, origin_ids)
    categories = {c.id: c for c in session.execute(sa.select(Category)).scalars()}

    docs: dict[int, IndexDocument] = {}
    for product, supplier_name, supplier_type in rows:
        chain = _chain(regions, product.origin_village_id) or _chain(regions, product.origin_county_id)
        by_level = {r.level.value: r for r in chain}
        county = regions.get(product.origin_county_id)
        cat_chain = _category_chain(categories, product.category_id)
        doc = IndexDocument(
            product_id=product.id,
            name=product.name,
            category_id=product.category_id,
            category_path_ids=[c.id for c in cat_chain],
            category_names=[c.name for c in cat_chain],
            province_id=by_level["province"].id if "province" in by_level else None,
            city_id=by_level["city"].id if "city" in by_level else None,
            county_id=product.origin_county_id,
            origin_names=[r.name for r in chain],
            supplier_id=product.supplier_id,
            supplier_name=supplier_name,
            supplier_type=supplier_type.value,
            specification=product.specification or "",
            description=product.description or "",
            price_fen=product.price_fen,
            stock=product.stock,
            sold_quantity=product.sold_quantity,
            harvest_months=_months(product.harvest_months),
            certifications=certs.get(product.id, []),
            is_key_assistance_county=bool(county and county.is_key_assistance_county),
            is_urgent_sale=product.is_urgent_sale,
            listed_at=_iso(product.listed_at or product.created_at),
        )
        doc.fingerprint = _sha1(doc.body())
        docs[product.id] = doc
    return docs


def regions_with_ancestors(session: Session, ids: set[int]) -> dict[int, Region]:
    """The regions ``ids`` and all their ancestors (read from their materialised paths)."""
    found = {r.id: r for r in session.execute(sa.select(Region).where(Region.id.in_(ids))).scalars()}
    ancestors = {int(x) for r in found.values() for x in r.path.strip("/").split("/") if x} - set(found)
    if ancestors:
        found.update({r.id: r for r in session.execute(sa.select(Region).where(Region.id.in_(ancestors))).scalars()})
    return found


def _chain(regions: dict[int, Region], region_id: int) -> list[Region]:
    region = regions.get(region_id)
    if region is None:
        return []
    ids = [int(x) for x in region.path.strip("/").split("/") if x] or [region.id]
    return [regions[i] for i in ids if i in regions]


def _category_chain(categories: dict[int, Category], category_id: int) -> list[Category]:
    chain: list[Category] = []
    seen: set[int] = set()
    current = categories.get(category_id)
    while current is not None and current.id not in seen:  # a cycle in hand-edited data must not hang
        seen.add(current.id)
        chain.append(current)
        current = categories.get(current.parent_id) if current.parent_id else None
    return list(reversed(chain))


def on_sale_ids(session: Session, batch: int = BATCH_SIZE) -> Iterator[list[int]]:
    """Ids of every product on sale, in batches, by keyset (no offsets)."""
    last = 0
    while True:
        ids = list(session.execute(
            sa.select(Product.id).join(Supplier, Supplier.id == Product.supplier_id)
            .where(on_sale(), Product.id > last).order_by(Product.id).limit(batch)
        ).scalars())
        if not ids:
            return
        yield ids
        last = ids[-1]


def iter_documents(session: Session, batch: int = BATCH_SIZE) -> Iterator[list[IndexDocument]]:
    for ids in on_sale_ids(session, batch):
        docs = build_documents(session, ids)
        yield [docs[i] for i in ids if i in docs]
