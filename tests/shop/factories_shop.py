"""Shop test data: accredited suppliers with members, categories, products with lots, images."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image

from core.accounts.models import User
from core.extensions import db
from core.permissions import Role
from core.registry.models import Region, RegionLevel
from shop.models import (
    Category,
    EvidenceKind,
    PriceEvidence,
    Product,
    ProductLot,
    ProductStatus,
    Supplier,
    SupplierMember,
    SupplierStatus,
)
from tests import factories

_n = itertools.count(1)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def reload(obj):
    """The row's current state from the database.

    Always re-read after a request: a commit may have closed the session the test's
    objects came from (the search outbox's eager drain does), leaving them stale.
    """
    return db.session.get(type(obj), obj.id, populate_existing=True)


def licence_number(seed: int | None = None) -> str:
    """A unified social credit code with a correct check character."""
    seed = next(_n) if seed is None else seed
    body = f"93500237MA{seed:07d}"
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_ALPHABET[(31 - total % 31) % 31]


def admin(region: Region | None = None) -> User:
    """A regional administrator of ``region``, or a platform administrator when no region is given."""
    if region is None:
        return factories.UserFactory(role=Role.PLATFORM_ADMIN)
    # By id: ``region`` may come from a session that a commit has since closed.
    return factories.UserFactory(role=Role.REGIONAL_ADMIN, region_id=region.id)


def member(supplier: Supplier, *, owner: bool = True) -> User:
    user = factories.UserFactory(role=Role.SUPPLIER)
    db.session.add(SupplierMember(user_id=user.id, supplier_id=supplier.id, is_owner=owner))
    db.session.flush()
    return user


def category(name: str | None = None, parent: Category | None = None, code: str | None = None) -> Category:
    n = next(_n)
    row = Category(code=code or f"cat{n}", name=name or f"品类{n}", parent_id=parent.id if parent else None,
                   position=n)
    db.session.add(row)
    db.session.flush()
    return row


def product(supplier: Supplier, cat: Category, village: Region, *, status: ProductStatus = ProductStatus.LISTED,
            price_fen: int = 3990, stock: int = 0, name: str | None = None, **kw) -> Product:
    county_id = int(village.path.strip("/").split("/")[2])
    row = Product(supplier_id=supplier.id, category_id=cat.id, origin_village_id=village.id,
                  origin_county_id=county_id, name=name or f"巫山脆李{next(_n)}", sales_unit=kw.pop("sales_unit", "箱"),
                  price_fen=price_fen, shelf_life_days=kw.pop("shelf_life_days", 20), status=status,
                  listed_at=kw.pop("listed_at", factories_now() if status == ProductStatus.LISTED else None), **kw)
    db.session.add(row)
    db.session.flush()
    if stock:
        add_lot(row, stock)
    return row


def factories_now():
    from core.database import utcnow

    return utcnow()


def add_lot(p: Product, quantity: int, produced_on: date | None = None, remaining: int | None = None) -> ProductLot:
    produced_on = produced_on or date.today()  # noqa: DTZ011 — a calendar date for test data
    lot = ProductLot(product_id=p.id, quantity=quantity, remaining=quantity if remaining is None else remaining,
                     produced_on=produced_on, expires_on=produced_on + timedelta(days=p.shelf_life_days))
    db.session.add(lot)
    db.session.flush()
    p.stock = sum(x.remaining for x in db.session.query(ProductLot).filter_by(product_id=p.id))
    db.session.flush()
    return lot


def evidence(p: Product, reference_price_fen: int, url: str = "https://shop.example.test/item/1") -> PriceEvidence:
    row = PriceEvidence(product_id=p.id, kind=EvidenceKind.LINK, url=url, reference_price_fen=reference_price_fen)
    db.session.add(row)
    db.session.flush()
    return row


def png_bytes(size=(1600, 900), mode="RGB", fmt="PNG") -> bytes:
    out = io.BytesIO()
    colour = (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)
    Image.new(mode, size, colour).save(out, format=fmt)
    return out.getvalue()


@dataclass
class World:
    """A region chain with an accredited supplier, its owner, a category and a registry household."""

    chain: dict
    supplier: Supplier
    owner: User
    category: Category

    @property
    def village(self) -> Region:
        return self.chain[RegionLevel.VILLAGE]

    @property
    def county(self) -> Region:
        return self.chain[RegionLevel.COUNTY]

    @property
    def province(self) -> Region:
        return self.chain[RegionLevel.PROVINCE]


def world(status: SupplierStatus = SupplierStatus.APPROVED, county_flags: dict | None = None) -> World:
    chain = factories.region_chain(county_flags)
    supplier = factories.supplier(chain[RegionLevel.COUNTY], status=status)
    return World(chain=chain, supplier=supplier, owner=member(supplier), category=category())


def role_matrix_samples(chain: dict) -> dict:
    """URL parameter samples for tests/core/test_role_matrix.py, all inside ``chain`` (the regional
    administrator's region): a pending supplier to accredit, and an accredited one with a product
    awaiting review, a lot, a photo, a price-evidence document, a household link and an invitation."""
    from shop.models import HouseholdLink, LinkType, ProductImage, SupplierInvitation

    county, village = chain[RegionLevel.COUNTY], chain[RegionLevel.VILLAGE]
    pending = factories.supplier(county, status=SupplierStatus.PENDING)
    seller = factories.supplier(county)
    owner = member(seller)
    cat = category()
    item = product(seller, cat, village, status=ProductStatus.PENDING_REVIEW, stock=5)
    lot = db.session.query(ProductLot).filter_by(product_id=item.id).one()
    image = ProductImage(product_id=item.id, storage_key=f"{next(_n):032x}", alt_text="样品", width=10, height=10)
    document = PriceEvidence(product_id=item.id, kind=EvidenceKind.INVOICE, document_key=f"{next(_n):032x}.pdf",
                             reference_price_fen=3000)
    link = HouseholdLink(supplier_id=seller.id, household_id=factories.household(village).id,
                         link_type=LinkType.EMPLOYMENT, started_on=date(2025, 1, 1), benefit_share_bp=500)
    invitation = SupplierInvitation(supplier_id=seller.id, email="invitee@fupin-test.cn", invited_by_id=owner.id,
                                    expires_at=factories_now() + timedelta(days=14))
    db.session.add_all([image, document, link, invitation])
    db.session.flush()
    return {
        "supplier_id": pending.id,
        "product_id": item.id,
        "lot_id": lot.id,
        "image_id": image.id,
        "evidence_id": document.id,
        "link_id": link.id,
        "invitation_id": invitation.id,
        "category_id": cat.id,
        "shop.supplier_decision:action": "approve",
        "shop.product_decision:action": "approve",
        "shop.link_decision:action": "challenge",
        "shop.product_action:action": "submit",
    }
