"""Products: create and edit, stock lots, photos and price evidence.

A price or origin edit of a listed product goes back to review (``shop.services.review``).
``Product.stock`` is always the sum of its lots' ``remaining``; only ``refresh_stock`` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from core import audit
from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Permission, role_allows
from core.registry.models import Region, RegionLevel
from shop.models import (
    Category,
    Certification,
    EvidenceKind,
    PriceEvidence,
    Product,
    ProductCertification,
    ProductImage,
    ProductLot,
    ProductStatus,
    Supplier,
)
from shop.services import media
from shop.services.common import ensure_admin_scope, ensure_may_sell, ensure_member, is_member, local_today

MAX_PRICE_FEN = 10_000_000  # ¥100,000 per sales unit: anything above is a typing mistake
MAX_LOT_QUANTITY = 1_000_000
MAX_IMAGES = 8
MAX_EVIDENCE = 10


@dataclass
class ProductInput:
    """What a supplier states about a product, already parsed (money in fen, months as a bitmask)."""

    name: str
    category_id: int
    sales_unit: str
    price_fen: int
    shelf_life_days: int
    origin_village_id: int
    specification: str = ""
    min_order_qty: int = 1
    harvest_months: int = 0
    description: str = ""
    certifications: dict[Certification, str] = field(default_factory=dict)


def months_to_mask(months) -> int:
    mask = 0
    for m in months or ():
        m = int(m)
        if not 1 <= m <= 12:
            raise ValidationFailed(_("Harvest months run from 1 to 12."), field="harvest_months")
        mask |= 1 << (m - 1)
    return mask


def mask_to_months(mask: int) -> list[int]:
    return [m for m in range(1, 13) if mask & (1 << (m - 1))]


def get_product(product_id: int) -> Product:
    product = db.session.execute(
        sa.select(Product).where(Product.id == product_id)
        .options(joinedload(Product.supplier).joinedload(Supplier.county), joinedload(Product.origin_county),
                 selectinload(Product.certifications))
    ).scalar_one_or_none()
    if product is None:
        raise NotFound(_("No such product."))
    return product


def product_for_member(product_id: int, actor) -> Product:
    """A product of the actor's own supplier; any other product is answered as missing."""
    product = db.session.get(Product, product_id)
    if product is None or not is_member(actor, product.supplier_id):
        raise NotFound(_("No such product."))
    return get_product(product_id)


def _origin(supplier: Supplier, village_id: int | None) -> tuple[Region, int]:
    village = db.session.get(Region, village_id) if village_id else None
    county_path = supplier.county.path
    if village is None or village.level != RegionLevel.VILLAGE or not village.path.startswith(county_path):
        raise ValidationFailed(_("Choose a village in your supplier's county as the origin."),
                               field="origin_village_id")
    return village, supplier.county_id


def _validate(supplier: Supplier, data: ProductInput) -> tuple[Region, int]:
    name = (data.name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed(_("Give the product a name of up to 120 characters."), field="name")
    data.name = name
    if data.category_id is None or db.session.get(Category, data.category_id) is None:
        raise ValidationFailed(_("Choose a category."), field="category_id")
    data.sales_unit = (data.sales_unit or "").strip()
    if not data.sales_unit or len(data.sales_unit) > 10:
        raise ValidationFailed(_("Give the sales unit (斤, kg, 箱 ...) in up to 10 characters."), field="sales_unit")
    data.specification = (data.specification or "").strip()
    if len(data.specification) > 60:
        raise ValidationFailed(_("Keep the specification under 60 characters."), field="specification")
    if isinstance(data.price_fen, bool) or not isinstance(data.price_fen, int) or data.price_fen <= 0:
        raise ValidationFailed(_("The price must be more than ¥0."), field="price")
    if data.price_fen > MAX_PRICE_FEN:
        raise ValidationFailed(_("The price is above ¥100,000 per unit; check it."), field="price")
    if not isinstance(data.min_order_qty, int) or not 1 <= data.min_order_qty <= 10_000:
        raise ValidationFailed(_("The minimum order is a whole number from 1 to 10,000."), field="min_order_qty")
    if not isinstance(data.shelf_life_days, int) or not 1 <= data.shelf_life_days <= 3650:
        raise ValidationFailed(_("Shelf life is a whole number of days from 1 to 3650."), field="shelf_life_days")
    if not isinstance(data.harvest_months, int) or not 0 <= data.harvest_months < 4096:
        raise ValidationFailed(_("Harvest months run from 1 to 12."), field="harvest_months")
    data.description = (data.description or "").strip()
    if len(data.description) > 5000:
        raise ValidationFailed(_("Keep the description under 5000 characters."), field="description")
    for kind, number in data.certifications.items():
        Certification(kind)
        if len((number or "").strip()) > 60:
            raise ValidationFailed(_("A certificate number has up to 60 characters."), field=f"cert_{kind}")
    return _origin(supplier, data.origin_village_id)


def _snapshot(product: Product) -> dict:
    return {
        "name": product.name, "category_id": product.category_id, "sales_unit": product.sales_unit,
        "specification": product.specification, "price_fen": product.price_fen,
        "min_order_qty": product.min_order_qty, "shelf_life_days": product.shelf_life_days,
        "harvest_months": product.harvest_months, "origin_village_id": product.origin_village_id,
        "certifications": sorted(c.kind.value for c in product.certifications),
        "status": product.status.value if product.status else None,
    }


def _apply(product: Product, data: ProductInput, village: Region, county_id: int) -> None:
    product.name = data.name
    product.category_id = data.category_id
    product.sales_unit = data.sales_unit
    product.specification = data.specification
    product.price_fen = data.price_fen
    product.min_order_qty = data.min_order_qty
    product.shelf_life_days = data.shelf_life_days
    product.harvest_months = data.harvest_months
    product.description = data.description
    product.origin_village_id = village.id
    product.origin_county_id = county_id
    wanted = {Certification(k): (v or "").strip() for k, v in data.certifications.items()}
    for cert in list(product.certifications):
        if cert.kind not in wanted:
            product.certifications.remove(cert)
        else:
            cert.certificate_number = wanted.pop(cert.kind)
    for kind, number in wanted.items():
        product.certifications.append(ProductCertification(kind=kind, certificate_number=number))


def create_product(supplier: Supplier, actor, data: ProductInput) -> Product:
    """A new product of the actor's supplier, as a draft until submitted for review."""
    ensure_member(actor, supplier.id, not_found_message=_("No such supplier."))
    ensure_may_sell(supplier)
    village, county_id = _validate(supplier, data)
    product = Product(supplier_id=supplier.id, status=ProductStatus.DRAFT, stock=0, certifications=[])
    _apply(product, data, village, county_id)
    db.session.add(product)
    db.session.flush()
    audit.record("product.created", "product", product.id, after=_snapshot(product))
    return product


@dataclass
class UpdateOutcome:
    product: Product
    returned_to_review: bool


def update_product(product: Product, actor, data: ProductInput) -> UpdateOutcome:
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    ensure_may_sell(product.supplier)
    village, county_id = _validate(product.supplier, data)
    before = _snapshot(product)
    price_or_origin_changed = (data.price_fen != product.price_fen or village.id != product.origin_village_id)
    _apply(product, data, village, county_id)
    returned = False
    if product.status == ProductStatus.LISTED and price_or_origin_changed:
        from shop.services.review import return_to_review  # review imports this module

        return_to_review(product, actor, _("The price or origin changed."))
        returned = True
    db.session.flush()
    after = _snapshot(product)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        audit.record("product.updated", "product", product.id,
                     before={k: before[k] for k in changed}, after=changed)
    return UpdateOutcome(product=product, returned_to_review=returned)


# --- stock lots -----------------------------------------------------------------------------


def refresh_stock(product: Product) -> None:
    """Set ``product.stock`` to the sum of its lots' remaining quantities, in one statement."""
    db.session.flush()
    remaining = (sa.select(sa.func.coalesce(sa.func.sum(ProductLot.remaining), 0))
                 .where(ProductLot.product_id == product.id).scalar_subquery())
    db.session.execute(
        sa.update(Product).where(Product.id == product.id).values(stock=remaining)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(product, ["stock"])


def add_lot(product: Product, actor, *, quantity: int, produced_on: date | None,
            expires_on: date | None = None) -> ProductLot:
    """A harvest or production batch; its expiry defaults to the production date plus the shelf life."""
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    ensure_may_sell(product.supplier)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_LOT_QUANTITY:
        raise ValidationFailed(_("The quantity is a whole number from 1 to 1,000,000."), field="quantity")
    today = local_today()
    produced_on = produced_on or today
    if produced_on > today:
        raise ValidationFailed(_("The harvest or production date cannot be in the future."), field="produced_on")
    expires_on = expires_on or produced_on + timedelta(days=product.shelf_life_days)
    if expires_on < produced_on:
        raise ValidationFailed(_("A lot cannot expire before it was produced."), field="expires_on")
    if expires_on < today:
        raise ValidationFailed(_("This lot has already expired; it cannot be put on sale."), field="expires_on")
    lot = ProductLot(product_id=product.id, quantity=quantity, remaining=quantity, produced_on=produced_on,
                     expires_on=expires_on)
    db.session.add(lot)
    refresh_stock(product)
    audit.record("product.lot_added", "product", product.id, after={
        "lot_id": lot.id, "quantity": quantity, "produced_on": produced_on.isoformat(),
        "expires_on": expires_on.isoformat(),
    })
    return lot


def write_off_lot(lot: ProductLot, actor, *, quantity: int, reason: str) -> ProductLot:
    """Take spoiled or damaged units out of a lot (报损)."""
    product = lot.product
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationFailed(_("Say why the stock is written off (up to 200 characters)."), field="reason")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= lot.remaining:
        raise ValidationFailed(_("Write off between 1 and %(n)d units.", n=lot.remaining), field="quantity")
    before = {"remaining": lot.remaining}
    lot.remaining -= quantity
    refresh_stock(product)
    audit.record("product.lot_written_off", "product", product.id, before=before,
                 after={"lot_id": lot.id, "remaining": lot.remaining}, reason=reason)
    return lot


def lots_of(product_id: int, *, with_remaining_only: bool = False) -> list[ProductLot]:
    stmt = sa.select(ProductLot).where(ProductLot.product_id == product_id)
    if with_remaining_only:
        stmt = stmt.where(ProductLot.remaining > 0)
    return list(db.session.execute(stmt.order_by(ProductLot.expires_on, ProductLot.id)).scalars())


# --- images and price evidence --------------------------------------------------------------


def add_image(product: Product, actor, data: bytes, alt_text: str) -> ProductImage:
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    ensure_may_sell(product.supplier)
    alt_text = (alt_text or "").strip()
    if not alt_text or len(alt_text) > 200:
        raise ValidationFailed(_("Describe the photo for people who cannot see it (up to 200 characters)."),
                               field="alt_text")
    count = db.session.execute(
        sa.select(sa.func.count(ProductImage.id), sa.func.coalesce(sa.func.max(ProductImage.position), -1))
        .where(ProductImage.product_id == product.id)
    ).one()
    if count[0] >= MAX_IMAGES:
        raise ValidationFailed(_("A product has at most %(n)d photos.", n=MAX_IMAGES), field="image")
    key, width, height = media.save_product_image(data)
    image = ProductImage(product_id=product.id, storage_key=key, alt_text=alt_text, width=width, height=height,
                         position=count[1] + 1)
    db.session.add(image)
    db.session.flush()
    audit.record("product.image_added", "product", product.id, after={"image_id": image.id})
    return image


def remove_image(product: Product, actor, image_id: int) -> str:
    """Delete a photo's row; returns its storage key so the caller removes the files after commit."""
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    image = db.session.get(ProductImage, image_id)
    if image is None or image.product_id != product.id:
        raise NotFound(_("No such photo."))
    key = image.storage_key
    db.session.delete(image)
    db.session.flush()
    audit.record("product.image_removed", "product", product.id, before={"image_id": image_id})
    return key


def add_price_evidence(product: Product, actor, *, kind: EvidenceKind | str, reference_price_fen: int,
                       url: str | None = None, document: bytes | None = None, document_name: str | None = None,
                       note: str = "") -> PriceEvidence:
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    ensure_may_sell(product.supplier)
    try:
        kind = EvidenceKind(kind)
    except ValueError as exc:
        raise ValidationFailed(_("Choose the kind of evidence."), field="kind") from exc
    if isinstance(reference_price_fen, bool) or not isinstance(reference_price_fen, int) or reference_price_fen <= 0:
        raise ValidationFailed(_("The reference price must be more than ¥0."), field="reference_price")
    if reference_price_fen > MAX_PRICE_FEN:
        raise ValidationFailed(_("The reference price is above ¥100,000; check it."), field="reference_price")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed(_("Keep the note under 200 characters."), field="note")
    existing = db.session.execute(
        sa.select(sa.func.count(PriceEvidence.id)).where(PriceEvidence.product_id == product.id)
    ).scalar_one()
    if existing >= MAX_EVIDENCE:
        raise ValidationFailed(_("A product has at most %(n)d pieces of price evidence.", n=MAX_EVIDENCE))
    evidence = PriceEvidence(product_id=product.id, kind=kind, reference_price_fen=reference_price_fen, note=note)
    if kind == EvidenceKind.LINK:
        url = (url or "").strip()
        if not url.lower().startswith(("https://", "http://")) or len(url) > 500 or any(c.isspace() for c in url):
            raise ValidationFailed(_("Give the web address (https://...) of the same product elsewhere."),
                                   field="url")
        evidence.url = url
    else:
        if not document:
            raise ValidationFailed(_("Upload the contract or invoice."), field="document")
        evidence.document_key = media.save_evidence_document(document)
        evidence.document_name = (document_name or "")[:120] or None
    db.session.add(evidence)
    db.session.flush()
    audit.record("product.price_evidence_added", "product", product.id, after={
        "evidence_id": evidence.id, "kind": kind.value, "reference_price_fen": reference_price_fen,
    })
    return evidence


def evidence_for_viewer(evidence_id: int, viewer) -> PriceEvidence:
    """A stored evidence document, for the supplier's members and the administrators who review the product."""
    evidence = db.session.get(PriceEvidence, evidence_id)
    if evidence is None or evidence.document_key is None:
        raise NotFound(_("No such document."))
    product = evidence.product
    if is_member(viewer, product.supplier_id):
        return evidence
    if not role_allows(getattr(viewer, "role", None), Permission.ACCREDIT):
        raise NotFound(_("No such document."))  # private: nobody else learns that it exists
    ensure_admin_scope(viewer, product.origin_county)
    return evidence


# --- urgent sale (set by the alerts domain) -------------------------------------------------


def set_urgent_sale(product_ids: list[int], urgent: bool, *, reason: str | None = None) -> int:
    """Mark products for the home page's urgent-sale zone (or clear the mark), in one statement.

    The alerts domain calls this when its warning job finds produce at risk; the
    caller commits and then announces ``product_changed`` for the ids.
    """
    ids = sorted({int(i) for i in product_ids})
    if not ids:
        return 0
    changed = db.session.execute(
        sa.update(Product).where(Product.id.in_(ids), Product.is_urgent_sale.is_not(urgent))
        .values(is_urgent_sale=urgent).execution_options(synchronize_session="fetch")
    ).rowcount
    audit.record("product.urgent_sale_set" if urgent else "product.urgent_sale_cleared", "product",
                 ",".join(map(str, ids))[:64], after={"product_ids": ids, "urgent": urgent}, reason=reason)
    return changed
