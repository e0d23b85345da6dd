"""Product review (审核): the state machine, the review queue, and the price check.

``PRODUCT_TRANSITIONS`` lists every allowed move with the name of the one
function that makes it; anything else is refused with ``InvalidTransition``.
Administrators review the products whose origin county lies in their region.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from core import audit
from core.database import utcnow
from core.errors import InvalidTransition, ValidationFailed
from core.extensions import db
from core.registry.models import Region
from core.registry.services import region_scope
from shop.models import PriceEvidence, Product, ProductStatus, Supplier, SupplierStatus
from shop.services.common import ensure_admin_scope, ensure_may_sell, ensure_member, is_member

P = ProductStatus
PRODUCT_TRANSITIONS: dict[tuple[ProductStatus, ProductStatus], str] = {
    (P.DRAFT, P.PENDING_REVIEW): "submit",
    (P.REJECTED, P.PENDING_REVIEW): "submit",
    (P.DELISTED, P.PENDING_REVIEW): "submit",
    (P.PENDING_REVIEW, P.LISTED): "approve",
    (P.PENDING_REVIEW, P.REJECTED): "reject",
    (P.LISTED, P.DELISTED): "delist",
    # Automatic: a listed product whose price or origin is edited is reviewed again.
    (P.LISTED, P.PENDING_REVIEW): "return_to_review",
}

def _check(product: Product, target: ProductStatus, via: str) -> None:
    if PRODUCT_TRANSITIONS.get((product.status, target)) != via:
        raise InvalidTransition(_("A product that is “%(current)s” cannot be moved to “%(target)s”.",
                                  current=product.status.value, target=target.value))


def _move(product: Product, target: ProductStatus, via: str) -> dict:
    _check(product, target, via)
    before = {"status": product.status.value}
    product.status = target
    return before


def _record(product: Product, via: str, before: dict, reason: str | None = None, actor=None) -> None:
    db.session.flush()
    audit.record(f"product.{via}", "product", product.id, before=before, after={"status": product.status.value},
                 reason=reason, actor_id=getattr(actor, "id", None))


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ValidationFailed(_("Give the reason; the supplier will read it."), field="reason")
    if reason and len(reason) > 500:
        raise ValidationFailed(_("Keep the reason under 500 characters."), field="reason")
    return reason


def submit_product(product: Product, actor, reason: str | None = None) -> Product:
    """The supplier asks for review: needs an accredited supplier and at least one piece of price evidence."""
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    ensure_may_sell(product.supplier)
    _check(product, ProductStatus.PENDING_REVIEW, "submit")
    has_evidence = db.session.execute(
        sa.select(PriceEvidence.id).where(PriceEvidence.product_id == product.id).limit(1)
    ).first()
    if not has_evidence:
        raise ValidationFailed(_("Add at least one piece of price evidence before asking for review."))
    before = _move(product, ProductStatus.PENDING_REVIEW, "submit")
    product.review_note = None
    _record(product, "submit", before, actor=actor)
    return product


def approve_product(product: Product, actor, reason: str | None = None) -> Product:
    ensure_admin_scope(actor, product.origin_county)
    _check(product, ProductStatus.LISTED, "approve")
    if product.supplier.status != SupplierStatus.APPROVED:
        raise InvalidTransition(_("The supplier is not accredited; its products cannot be listed."))
    before = _move(product, ProductStatus.LISTED, "approve")
    product.listed_at = utcnow()
    product.review_note = _reason(reason, required=False)
    _record(product, "approve", before, product.review_note, actor)
    return product


def reject_product(product: Product, actor, reason: str | None) -> Product:
    ensure_admin_scope(actor, product.origin_county)
    reason = _reason(reason, required=True)
    before = _move(product, ProductStatus.REJECTED, "reject")
    product.review_note = reason
    _record(product, "reject", before, reason, actor)
    return product


def delist_product(product: Product, actor, reason: str | None) -> Product:
    """Take a listed product off sale: its supplier at will, an administrator of its region with a reason."""
    own = is_member(actor, product.supplier_id)
    if not own:
        ensure_admin_scope(actor, product.origin_county)
    reason = _reason(reason, required=not own)
    before = _move(product, ProductStatus.DELISTED, "delist")
    product.review_note = reason
    _record(product, "delist", before, reason, actor)
    return product


def return_to_review(product: Product, actor, reason: str | None = None) -> Product:
    ensure_member(actor, product.supplier_id, not_found_message=_("No such product."))
    before = _move(product, ProductStatus.PENDING_REVIEW, "return_to_review")
    product.review_note = reason
    _record(product, "return_to_review", before, reason, actor)
    return product


PRODUCT_ACTIONS = {
    "submit": submit_product,
    "approve": approve_product,
    "reject": reject_product,
    "delist": delist_product,
    "return_to_review": return_to_review,
}


def transition_product(product: Product, target: ProductStatus, actor, reason: str | None = None) -> Product:
    via = PRODUCT_TRANSITIONS.get((product.status, ProductStatus(target)))
    if via is None:
        raise InvalidTransition(_("A product that is “%(current)s” cannot be moved to “%(target)s”.",
                                  current=product.status.value, target=ProductStatus(target).value))
    return PRODUCT_ACTIONS[via](product, actor, reason)


def products_in_review_scope(user, status: ProductStatus | None = None) -> sa.Select:
    county = aliased(Region)
    stmt = (
        sa.select(Product, Supplier, county)
        .join(Supplier, Supplier.id == Product.supplier_id)
        .join(county, county.id == Product.origin_county_id)
        .where(region_scope(user, Product.origin_county_id))
        .order_by(Product.updated_at, Product.id)
    )
    if status is not None:
        stmt = stmt.where(Product.status == status)
    return stmt


def ensure_reviewer(product: Product, actor) -> None:
    ensure_admin_scope(actor, product.origin_county)


@dataclass
class PriceComparison:
    price_fen: int
    evidence: list[tuple[PriceEvidence, Decimal]]  # each with the price's difference from it, in percent
    peer_count: int
    peer_average_fen: int | None
    peer_min_fen: int | None
    peer_max_fen: int | None
    same_unit_count: int
    same_unit_average_fen: int | None
    province: Region | None

    @property
    def peer_difference(self) -> Decimal | None:
        return _difference(self.price_fen, self.peer_average_fen)

    @property
    def same_unit_difference(self) -> Decimal | None:
        return _difference(self.price_fen, self.same_unit_average_fen)


def _difference(price: int, reference: int | None) -> Decimal | None:
    if not reference:
        return None
    return (Decimal(price - reference) * 100 / reference).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _average(total: int | None, count: int) -> int | None:
    if not count or total is None:
        return None
    return int((Decimal(int(total)) / count).quantize(Decimal(1), ROUND_HALF_UP))


def price_comparison(product: Product) -> PriceComparison:
    """The price against its evidence, and against listed products of the same category from the same
    province (one aggregate query; the same-unit figures come from the same scan with FILTER)."""
    province_id = int(product.origin_county.path.strip("/").split("/")[0])
    province = db.session.get(Region, province_id)
    county = aliased(Region)
    same_unit = Product.sales_unit == product.sales_unit
    row = db.session.execute(
        sa.select(
            sa.func.count(Product.id), sa.func.sum(Product.price_fen), sa.func.min(Product.price_fen),
            sa.func.max(Product.price_fen), sa.func.count(Product.id).filter(same_unit),
            sa.func.sum(Product.price_fen).filter(same_unit),
        )
        .join(county, county.id == Product.origin_county_id)
        .where(Product.status == ProductStatus.LISTED, Product.category_id == product.category_id,
               Product.id != product.id, county.path.startswith(f"/{province_id}/"))
    ).one()
    count, total, low, high, unit_count, unit_total = row
    evidence = [(e, _difference(product.price_fen, e.reference_price_fen)) for e in product.price_evidence]
    return PriceComparison(
        price_fen=product.price_fen, evidence=evidence, peer_count=count, peer_average_fen=_average(total, count),
        peer_min_fen=low, peer_max_fen=high, same_unit_count=unit_count,
        same_unit_average_fen=_average(unit_total, unit_count), province=province,
    )

