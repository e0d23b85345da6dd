"""What the shop announces, for other domains to subscribe to (search indexes, alerts watch).

Signals are sent by the views AFTER the transaction commits, so a subscriber
never sees a change that was rolled back. The sender is the application;
receivers get ``product_id`` as a keyword argument::

    from shop.signals import product_changed

    @product_changed.connect
    def reindex(app, product_id, **extra): ...
"""

from __future__ import annotations

from blinker import Namespace
from flask import current_app

from shop.models import ProductStatus

_signals = Namespace()

#: Any change to a product's data, status, stock, photos or evidence.
product_changed = _signals.signal("shop.product-changed")
#: A product went on sale (approved in review).
product_listed = _signals.signal("shop.product-listed")
#: A product left the catalog (delisted, or sent back to review after a price or origin edit).
product_delisted = _signals.signal("shop.product-delisted")


def announce(product_id: int, before: ProductStatus | None = None, after: ProductStatus | None = None) -> None:
    """Send ``product_changed``, plus ``product_listed``/``product_delisted`` when the listing changed.

    Call only after ``db.session.commit()`` succeeded.
    """
    app = current_app._get_current_object()
    product_changed.send(app, product_id=product_id)
    if before != ProductStatus.LISTED and after == ProductStatus.LISTED:
        product_listed.send(app, product_id=product_id)
    elif before == ProductStatus.LISTED and after is not None and after != ProductStatus.LISTED:
        product_delisted.send(app, product_id=product_id)


#: Orders. Sent after commit by whoever committed the transition (see shop.services.orders).
#: Receivers get ``order_id`` (paid, cancelled) or ``sub_order_id`` (completed, refunded).
order_paid = _signals.signal("shop.order-paid")
order_cancelled = _signals.signal("shop.order-cancelled")
#: A sub-order completed: its lines now count (benefit attribution, plan completion, sales velocity).
order_completed = _signals.signal("shop.order-completed")
#: A completed sub-order was refunded in whole or part (``refund_id``): reverse what completion counted.
order_refunded = _signals.signal("shop.order-refunded")
