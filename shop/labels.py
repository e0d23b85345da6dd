"""Display names of the shop's enums, translated with Babel (the Chinese terms live beside the enums)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.models import (
    Certification,
    EvidenceKind,
    LinkStatus,
    LinkType,
    ProductStatus,
    SupplierStatus,
    SupplierType,
)

SUPPLIER_TYPE = {
    SupplierType.LEADING_ENTERPRISE: _l("Leading enterprise"),
    SupplierType.COOPERATIVE: _l("Farmers' cooperative"),
    SupplierType.FAMILY_FARM: _l("Family farm"),
    SupplierType.VILLAGE_COLLECTIVE: _l("Village collective"),
    SupplierType.FARMER: _l("Farmer"),
}
SUPPLIER_STATUS = {
    SupplierStatus.PENDING: _l("Awaiting accreditation"),
    SupplierStatus.APPROVED: _l("Accredited"),
    SupplierStatus.REJECTED: _l("Rejected"),
    SupplierStatus.SUSPENDED: _l("Suspended"),
}
LINK_TYPE = {
    LinkType.ORDER_PURCHASE: _l("Order purchase"),
    LinkType.GUARANTEED_DIVIDEND: _l("Guaranteed dividend"),
    LinkType.EMPLOYMENT: _l("Employment"),
    LinkType.LAND_TRANSFER: _l("Land transfer"),
    LinkType.CONTRACT_FARMING: _l("Contract farming"),
    LinkType.EQUITY_COOPERATION: _l("Equity cooperation"),
}
LINK_STATUS = {
    LinkStatus.ACTIVE: _l("Active"),
    LinkStatus.CHALLENGED: _l("Challenged"),
    LinkStatus.ENDED: _l("Ended"),
}
PRODUCT_STATUS = {
    ProductStatus.DRAFT: _l("Draft"),
    ProductStatus.PENDING_REVIEW: _l("Awaiting review"),
    ProductStatus.LISTED: _l("Listed"),
    ProductStatus.REJECTED: _l("Rejected"),
    ProductStatus.DELISTED: _l("Delisted"),
}
CERTIFICATION = {
    Certification.GREEN: _l("Green food"),
    Certification.ORGANIC: _l("Organic"),
    Certification.GEOGRAPHICAL_INDICATION: _l("Geographical indication"),
}
EVIDENCE_KIND = {
    EvidenceKind.LINK: _l("Same product elsewhere (link)"),
    EvidenceKind.CONTRACT: _l("Purchase contract"),
    EvidenceKind.INVOICE: _l("Invoice"),
}
MONTHS = [
    _l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"),
    _l("July"), _l("August"), _l("September"), _l("October"), _l("November"), _l("December"),
]


def label(table: dict, value) -> str:
    """The translated name of an enum value (or its raw value when unknown)."""
    try:
        return table[type(next(iter(table)))(value)]
    except (KeyError, ValueError, StopIteration):
        return str(value)
