"""Reviews by buyers of what they received, and their moderation by administrators.

Only the buyer of an order line whose sub-order is received or completed may
review it, once (the unique order line in ``product_review`` is the last word
when two submits race). Administrators of the product's origin region hide a
review that breaks the rules, or show it again; both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core import audit
from core.accounts.models import User
from core.database import utcnow
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.pagination import Page
from core.registry.services import region_scope
from shop.models import Order, OrderLine, OrderStatus, Product, SubOrder
from shop.models_benefit import REVIEW_TEXT_MAX, ProductReview
from shop.services.common import ensure_admin_scope

REVIEWABLE = (OrderStatus.RECEIVED, OrderStatus.COMPLETED)
PAGE_SIZE = 10
MAX_PAGES = 100


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


class NotReceivedYet(Conflict):
    code = "not_received"


def buyer_line(line_id: int, buyer) -> OrderLine:
    """An order line of ``buyer``'s own orders; anyone else's line does not exist for them."""
    line = db.session.execute(
        sa.select(OrderLine).join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .join(Order, Order.id == SubOrder.order_id)
        .where(OrderLine.id == line_id, Order.buyer_id == buyer.id)
        .options(joinedload(OrderLine.sub_order).joinedload(SubOrder.order), joinedload(OrderLine.product))
    ).scalar_one_or_none()
    if line is None:
        raise NotFound(_("No such order line among your orders."))
    return line


def existing_review(line_id: int) -> ProductReview | None:
    return db.session.execute(
        sa.select(ProductReview).where(ProductReview.order_line_id == line_id)
    ).scalar_one_or_none()


def ensure_reviewable(line: OrderLine) -> None:
    if line.sub_order.status not in REVIEWABLE:
        raise NotReceivedYet(_("You can review %(name)s once you have received it.", name=line.product_name))
    if existing_review(line.id) is not None:
        raise AlreadyReviewed(_("You have already reviewed %(name)s from this order.", name=line.product_name))


def _clean_rating(rating) -> int:
    # bool is an int in Python; a checkbox's True is not a rating.
    if isinstance(rating, str) and rating.strip().isdigit():
        rating = int(rating.strip())
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed(_("Choose a rating from 1 to 5 stars."), field="rating")
    return rating


def _clean_text(text) -> str:
    text = (text or "").strip()
    if len(text) > REVIEW_TEXT_MAX:
        raise ValidationFailed(_("Keep the review to %(n)d characters (it has %(m)d).", n=REVIEW_TEXT_MAX,
                                 m=len(text)), field="text")
    return text


def submit_review(line_id: int, buyer, *, rating, text: str = "") -> ProductReview:
    """The buyer reviews one line they received. Validates everything before writing anything."""
    line = buyer_line(line_id, buyer)
    rating = _clean_rating(rating)
    text = _clean_text(text)
    ensure_reviewable(line)
    review = ProductReview(order_line_id=line.id, buyer_id=buyer.id, product_id=line.product_id, rating=rating,
                           text=text)
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except IntegrityError as exc:  # the same line reviewed by a second submit at the same moment
        raise AlreadyReviewed(_("You have already reviewed %(name)s from this order.",
                                name=line.product_name)) from exc
    audit.record("review.create", "product_review", review.id,
                 after={"product_id": line.product_id, "order_line_id": line.id, "rating": rating})
    return review


def get_review(review_id: int) -> ProductReview:
    review = db.session.execute(
        sa.select(ProductReview).where(ProductReview.id == review_id)
        .options(joinedload(ProductReview.product).joinedload(Product.origin_county))
    ).scalar_one_or_none()
    if review is None:
        raise NotFound(_("No such review."))
    return review


def hide_review(review: ProductReview, actor, reason: str) -> ProductReview:
    """An administrator of the product's region hides a review (it stops counting and showing)."""
    ensure_admin_scope(actor, review.product.origin_county)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the review is hidden."), field="reason")
    if len(reason) > 500:
        raise ValidationFailed(_("Keep the reason to 500 characters."), field="reason")
    if review.is_hidden:
        raise InvalidTransition(_("This review is already hidden."))
    review.is_hidden, review.hidden_at, review.hidden_by_id, review.hidden_reason = True, utcnow(), actor.id, reason
    audit.record("review.hide", "product_review", review.id, before={"hidden": False}, after={"hidden": True},
                 reason=reason)
    return review


def show_review(review: ProductReview, actor, reason: str = "") -> ProductReview:
    """Undo a hide: the review counts and shows again."""
    ensure_admin_scope(actor, review.product.origin_county)
    if not review.is_hidden:
        raise InvalidTransition(_("This review is not hidden."))
    review.is_hidden, review.hidden_at, review.hidden_by_id, review.hidden_reason = False, None, None, None
    audit.record("review.show", "product_review", review.id, before={"hidden": True}, after={"hidden": False},
                 reason=(reason or "").strip()[:500] or None)
    return review


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class RatingSummary:
    count: int
    total: int

    @property
    def average(self) -> Decimal | None:
        """The mean rating to one decimal, rounded half up (None without reviews)."""
        if not self.count:
            return None
        return (Decimal(self.total) / self.count).quantize(Decimal("0.1"), ROUND_HALF_UP)


def summary(product_id: int) -> RatingSummary:
    count, total = db.session.execute(
        sa.select(sa.func.count(ProductReview.id), sa.func.coalesce(sa.func.sum(ProductReview.rating), 0))
        .where(ProductReview.product_id == product_id, ProductReview.is_hidden.is_(False))
    ).one()
    return RatingSummary(int(count), int(total))


def reviewer_label(name: str | None) -> str:
    """What the page shows of a reviewer: the first character of their display name, the rest masked."""
    name = (name or "").strip()
    return f"{name[0]}**" if name else "**"


def visible_reviews(product_id: int, page: int = 1, per_page: int = PAGE_SIZE) -> Page:
    """One page of the product's visible reviews, newest first, with the reviewers' names (one join)."""
    where = (ProductReview.product_id == product_id, ProductReview.is_hidden.is_(False))
    total = db.session.execute(sa.select(sa.func.count(ProductReview.id)).where(*where)).scalar_one()
    pages = max(1, min(MAX_PAGES, -(-total // per_page)))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        sa.select(ProductReview, User.display_name).join(User, User.id == ProductReview.buyer_id).where(*where)
        .order_by(ProductReview.created_at.desc(), ProductReview.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [(review, reviewer_label(name)) for review, name in rows]
    return Page(items=items, page=page, per_page=per_page, total=min(total, MAX_PAGES * per_page))


def lines_to_review(buyer, product_id: int, limit: int = 5) -> list[OrderLine]:
    """The buyer's received lines of this product that have no review yet (for the product page)."""
    if buyer is None or not getattr(buyer, "is_authenticated", False):
        return []
    return list(db.session.execute(
        sa.select(OrderLine).join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .join(Order, Order.id == SubOrder.order_id)
        .outerjoin(ProductReview, ProductReview.order_line_id == OrderLine.id)
        .where(Order.buyer_id == buyer.id, OrderLine.product_id == product_id, SubOrder.status.in_(REVIEWABLE),
               ProductReview.id.is_(None))
        .options(joinedload(OrderLine.sub_order).joinedload(SubOrder.order))
        .order_by(OrderLine.id.desc()).limit(limit)
    ).scalars())


def reviews_in_scope(user, *, hidden: bool | None) -> sa.Select:
    """Reviews of products from ``user``'s region, newest first, for the moderation list."""
    stmt = (
        sa.select(ProductReview, Product)
        .join(Product, Product.id == ProductReview.product_id)
        .where(region_scope(user, Product.origin_county_id))
        .order_by(ProductReview.created_at.desc(), ProductReview.id.desc())
    )
    if hidden is not None:
        stmt = stmt.where(ProductReview.is_hidden.is_(hidden))
    return stmt
