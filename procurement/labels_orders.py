"""Display names of the procurement-order enums (the Chinese terms live beside the enums)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from procurement.models_ledger import PurchaseChannel
from procurement.models_orders import PartStatus, PaymentMethod, PaymentTerms, ProcurementStatus

ORDER_STATUS = {
    ProcurementStatus.PENDING_APPROVAL: _l("Awaiting approval"),
    ProcurementStatus.APPROVED: _l("Approved"),
    ProcurementStatus.REJECTED: _l("Rejected"),
    ProcurementStatus.CLOSED: _l("Closed"),
}
PART_STATUS = {
    PartStatus.AWAITING_APPROVAL: _l("Awaiting the unit's approval"),
    PartStatus.AWAITING_CONFIRMATION: _l("Awaiting the supplier"),
    PartStatus.CONFIRMED: _l("Confirmed"),
    PartStatus.DECLINED: _l("Declined by the supplier"),
    PartStatus.CANCELLED: _l("Cancelled"),
    PartStatus.PAID: _l("Paid, awaiting shipment"),
    PartStatus.SHIPPED: _l("Shipped"),
    PartStatus.ACCEPTED: _l("Accepted"),
    PartStatus.INVOICED: _l("Invoiced, awaiting payment"),
    PartStatus.SETTLED: _l("Settled"),
}
CHANNEL = {PurchaseChannel.CANTEEN: _l("Canteen"), PurchaseChannel.UNION: _l("Trade union")}
PAYMENT_TERMS = {
    PaymentTerms.PAY_FIRST: _l("Pay first, then delivery"),
    PaymentTerms.DELIVER_FIRST: _l("Delivery first, then payment"),
}
PAYMENT_METHOD = {PaymentMethod.BANK_TRANSFER: _l("Bank transfer"), PaymentMethod.OFFICIAL_CARD: _l("Official card")}


def label(table: dict, value) -> str:
    for key, text in table.items():
        if key == value or key.value == getattr(value, "value", value):
            return str(text)
    return str(value)
