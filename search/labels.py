"""Display names used by search pages and facets (translated with Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CERTIFICATION = {
    "green": _l("Green food"),
    "organic": _l("Organic"),
    "geo_indication": _l("Geographical indication"),
}
SUPPLIER_TYPE = {
    "leading_enterprise": _l("Leading enterprise"),
    "cooperative": _l("Farmers' cooperative"),
    "family_farm": _l("Family farm"),
    "village_collective": _l("Village collective"),
    "farmer": _l("Farmer"),
}
PRICE_BAND = {
    "lt20": _l("Under ¥20"),
    "20-50": _l("¥20 to ¥50"),
    "50-100": _l("¥50 to ¥100"),
    "100-200": _l("¥100 to ¥200"),
    "ge200": _l("¥200 and over"),
}
SORT = {
    "relevance": _l("Best match"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
    "newest": _l("Newest"),
    "sales": _l("Best selling"),
}
SUGGESTION_KIND = {
    "product": _l("Product"),
    "category": _l("Category"),
    "place": _l("Place"),
}
