"""The cart: in the session for visitors, in the database for signed-in buyers, merged at log-in.

The cart keeps only ``product_id → quantity``. Prices and stock are read fresh
every time the cart is shown, and checkout takes its prices from the database
(``shop.services.checkout``), so nothing a browser sends can change a price.
Services add and flush; the caller commits once (visitors' carts live in the
signed session cookie and are written by Flask when the response goes out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import session
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core.database import utcnow
from core.errors import ValidationFailed
from core.extensions import db
from shop.models import Product, ProductStatus, Supplier, SupplierStatus
from shop.models_cart import CartItem
from shop.services.checkout import MAX_LINES, MAX_QUANTITY

SESSION_KEY = "cart"


# ---------------------------------------------------------------- input


def parse_quantity(raw: object) -> int:
    """A whole number from 1 to MAX_QUANTITY, from a form field or JSON; anything else is refused."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValidationFailed(_("The quantity must be a whole number."), field="quantity")
    text = str(raw).strip()
    digits = text[1:] if text.startswith(("-", "+")) else text
    if not digits.isdigit():
        raise ValidationFailed(_("The quantity must be a whole number."), field="quantity")
    quantity = int(text)
    if quantity < 1:
        raise ValidationFailed(_("The quantity must be at least 1."), field="quantity")
    if quantity > MAX_QUANTITY:
        raise ValidationFailed(_("At most %(n)d at a time.", n=MAX_QUANTITY), field="quantity")
    return quantity


def parse_product_id(raw: object) -> int:
    text = str(raw if raw is not None else "").strip()
    if isinstance(raw, bool) or not text.isdigit() or len(text) > 18:
        raise ValidationFailed(_("This product is not on sale."), field="product_id")
    return int(text)


def _on_sale(product_ids) -> dict[int, Product]:
    """Listed products of approved suppliers among ``product_ids`` (one query)."""
    if not product_ids:
        return {}
    rows = db.session.execute(
        sa.select(Product).join(Supplier, Supplier.id == Product.supplier_id)
        .where(Product.id.in_(list(product_ids)), Product.status == ProductStatus.LISTED,
               Supplier.status == SupplierStatus.APPROVED)
        .options(joinedload(Product.supplier))
    ).scalars().all()
    return {p.id: p for p in rows}


def _check(product: Product, quantity: int) -> None:
    if quantity < product.min_order_qty:
        raise ValidationFailed(_("%(name)s is sold from %(n)d %(unit)s.", name=product.name, n=product.min_order_qty,
                                 unit=product.sales_unit), field="quantity")
    if quantity > product.stock:
        if product.stock <= 0:
            raise ValidationFailed(_("%(name)s is sold out.", name=product.name), field="quantity")
        raise ValidationFailed(_("Only %(n)d %(unit)s of %(name)s are left.", n=product.stock,
                                 unit=product.sales_unit, name=product.name), field="quantity")
    if quantity > MAX_QUANTITY:
        raise ValidationFailed(_("At most %(n)d at a time.", n=MAX_QUANTITY), field="quantity")


def _product_on_sale(product_id: int) -> Product:
    product = _on_sale([product_id]).get(product_id)
    if product is None:
        raise ValidationFailed(_("This product is not on sale."), field="product_id")
    return product


# ---------------------------------------------------------------- storage


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _session_items() -> dict[int, int]:
    raw = session.get(SESSION_KEY) or {}
    items: dict[int, int] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            if str(key).isdigit() and isinstance(value, int) and not isinstance(value, bool) and value > 0:
                items[int(key)] = value
    return items


def _save_session(items: dict[int, int]) -> None:
    session[SESSION_KEY] = {str(k): v for k, v in items.items()}


def quantities(user) -> dict[int, int]:
    """``{product_id: quantity}`` of the cart of ``user`` (or of the visitor's session)."""
    if not _signed_in(user):
        return _session_items()
    return dict(db.session.execute(
        sa.select(CartItem.product_id, CartItem.quantity).where(CartItem.user_id == user.id)
    ).all())


def _store(user, product_id: int, quantity: int, current: dict[int, int]) -> None:
    if product_id not in current and len(current) >= MAX_LINES:
        raise ValidationFailed(_("At most %(n)d different products per order.", n=MAX_LINES), field="product_id")
    if not _signed_in(user):
        items = dict(current)
        items[product_id] = quantity
        _save_session(items)
        return
    row = db.session.execute(
        sa.select(CartItem).where(CartItem.user_id == user.id, CartItem.product_id == product_id)
    ).scalar_one_or_none()
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(CartItem(user_id=user.id, product_id=product_id, quantity=quantity))
            return
        except sa.exc.IntegrityError:
            # Another tab added the same product a moment ago (the user + product constraint): update that row.
            row = db.session.execute(
                sa.select(CartItem).where(CartItem.user_id == user.id, CartItem.product_id == product_id)
            ).scalar_one()
    row.quantity = quantity
    row.updated_at = utcnow()
    db.session.flush()


# ---------------------------------------------------------------- changes


def add(user, product_id: object, quantity: object) -> int:
    """Add ``quantity`` of a product; returns the product's new quantity in the cart."""
    pid = parse_product_id(product_id)
    qty = parse_quantity(quantity)
    product = _product_on_sale(pid)
    current = quantities(user)
    total = current.get(pid, 0) + qty
    _check(product, total)
    _store(user, pid, total, current)
    return total


def set_quantity(user, product_id: object, quantity: object) -> int:
    """Set the quantity of a product (adding it when it is not in the cart yet)."""
    pid = parse_product_id(product_id)
    qty = parse_quantity(quantity)
    product = _product_on_sale(pid)
    _check(product, qty)
    _store(user, pid, qty, quantities(user))
    return qty


def remove(user, product_id: int) -> bool:
    """Take a product out of the cart; False when it was not there."""
    if not _signed_in(user):
        items = _session_items()
        found = items.pop(int(product_id), None) is not None
        _save_session(items)
        return found
    result = db.session.execute(
        sa.delete(CartItem).where(CartItem.user_id == user.id, CartItem.product_id == int(product_id))
    )
    return bool(result.rowcount)


def remove_ordered(user, ordered: dict[int, int]) -> None:
    """After checkout: drop the products just ordered from the cart (one statement)."""
    if not ordered:
        return
    if not _signed_in(user):
        _save_session({k: v for k, v in _session_items().items() if k not in ordered})
        return
    db.session.execute(
        sa.delete(CartItem).where(CartItem.user_id == user.id, CartItem.product_id.in_(list(ordered)))
    )


def merge_session_cart(user) -> int:
    """At log-in: move the visitor's cart into the buyer's saved cart; returns the lines merged.

    Quantities of a product in both carts are added, then kept within the stock
    (and at least the minimum order); products no longer on sale are dropped.
    """
    visitor = _session_items()
    session.pop(SESSION_KEY, None)
    if not visitor:
        return 0
    products = _on_sale(visitor)
    saved = {row.product_id: row for row in db.session.execute(
        sa.select(CartItem).where(CartItem.user_id == user.id, CartItem.product_id.in_(list(visitor)))
    ).scalars()}
    count = len(saved) + db.session.execute(
        sa.select(sa.func.count(CartItem.id)).where(CartItem.user_id == user.id,
                                                    CartItem.product_id.not_in(list(visitor)))
    ).scalar_one()
    merged = 0
    for product_id, quantity in sorted(visitor.items()):
        product = products.get(product_id)
        if product is None:
            continue
        row = saved.get(product_id)
        wanted = min(quantity + (row.quantity if row else 0), product.stock, MAX_QUANTITY)
        if wanted < max(product.min_order_qty, 1):
            continue
        if row is not None:
            row.quantity, row.updated_at = wanted, utcnow()
        elif count < MAX_LINES:
            db.session.add(CartItem(user_id=user.id, product_id=product_id, quantity=wanted))
            count += 1
        else:
            continue
        merged += 1
    db.session.flush()
    return merged


# ---------------------------------------------------------------- reading


@dataclass
class CartLine:
    product: Product
    quantity: int
    problem: str | None = None

    @property
    def amount_fen(self) -> int:
        return self.product.price_fen * self.quantity


@dataclass
class SupplierGroup:
    supplier: Supplier
    lines: list[CartLine] = field(default_factory=list)

    @property
    def subtotal_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines if line.problem is None)


@dataclass
class CartView:
    groups: list[SupplierGroup]
    unavailable: list[int]  # product ids in the cart that are no longer on sale

    @property
    def lines(self) -> list[CartLine]:
        return [line for g in self.groups for line in g.lines]

    @property
    def total_fen(self) -> int:
        return sum(g.subtotal_fen for g in self.groups)

    @property
    def count(self) -> int:
        return len(self.lines) + len(self.unavailable)

    @property
    def is_empty(self) -> bool:
        return self.count == 0

    @property
    def ready(self) -> bool:
        """True when every line can be ordered as it stands."""
        return bool(self.lines) and not self.unavailable and all(line.problem is None for line in self.lines)

    def orderable(self) -> dict[int, int]:
        return {line.product.id: line.quantity for line in self.lines}


def _problem(product: Product, quantity: int) -> str | None:
    if product.stock <= 0:
        return _("Sold out.")
    if quantity > product.stock:
        return _("Only %(n)d left: lower the quantity.", n=product.stock)
    if quantity < product.min_order_qty:
        return _("Sold from %(n)d %(unit)s.", n=product.min_order_qty, unit=product.sales_unit)
    return None


def contents(user) -> CartView:
    """The cart with today's prices and stock, grouped per supplier (one query for the products)."""
    wanted = quantities(user)
    products = _on_sale(wanted)
    groups: dict[int, SupplierGroup] = {}
    for product_id in sorted(products, key=lambda pid: (products[pid].supplier_id, pid)):
        product = products[product_id]
        group = groups.setdefault(product.supplier_id, SupplierGroup(supplier=product.supplier))
        quantity = wanted[product_id]
        group.lines.append(CartLine(product=product, quantity=quantity, problem=_problem(product, quantity)))
    return CartView(groups=list(groups.values()), unavailable=sorted(set(wanted) - set(products)))

