"""The signed-in buyer's cart. Visitors' carts live in the session (see ``shop.services.cart``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db
from shop.models import Product


class CartItem(db.Model):
    """One product in a buyer's cart. Prices are not kept here: the cart always shows today's price,
    and checkout snapshots it into the order line."""

    __tablename__ = "cart_item"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.UniqueConstraint("user_id", "product_id", name="uq_cart_item_user_product"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship()
