"""What procurement announces, for other domains to subscribe to (alerts links matches to orders).

Sent by the view or API that committed, AFTER the commit, so a subscriber never sees a change that
was rolled back. The sender is the application::

    from procurement.signals import order_submitted

    @order_submitted.connect
    def follow(app, procurement_order_id, unit_id, **extra): ...
"""

from __future__ import annotations

from blinker import Namespace
from flask import current_app

_signals = Namespace()

#: A unit submitted a procurement order (page or API); receivers get ``procurement_order_id`` and ``unit_id``.
order_submitted = _signals.signal("procurement.order-submitted")


def announce_submitted(procurement_order_id: int, unit_id: int) -> None:
    """Send ``order_submitted``; call only after ``db.session.commit()`` succeeded."""
    order_submitted.send(current_app._get_current_object(), procurement_order_id=procurement_order_id,
                         unit_id=unit_id)
