"""The public catalog: home page sections, category pages, product and supplier pages, product photos."""

from __future__ import annotations

import re

from flask import abort, render_template, request, send_from_directory, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop import bp
from shop.labels import MONTHS
from shop.services import catalog, media

_MEDIA_NAME = re.compile(r"^[0-9a-f]{32}(_thumb)?\.jpg$")
SORT_LABELS = {
    "newest": _l("Newest"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
    "sales": _l("Best selling"),
}


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


def _sort_arg() -> str:
    sort = request.args.get("sort", "newest")
    return sort if sort in catalog.SORTS else "newest"


@bp.get("/")
def catalog_index():
    sort = _sort_arg()
    page = catalog.category_page(None, sort=sort, page=_page_arg())
    return render_template("shop/category.html", category=None, tree=catalog.category_tree(), page=page,
                           sort=sort, sort_labels=SORT_LABELS)


@bp.get("/category/<int:category_id>")
def category(category_id: int):
    cat = catalog.get_category(category_id)
    sort = _sort_arg()
    page = catalog.category_page(cat, sort=sort, page=_page_arg())
    return render_template("shop/category.html", category=cat, tree=catalog.category_tree(), page=page,
                           sort=sort, sort_labels=SORT_LABELS)


@bp.get("/product/<int:product_id>")
def product(product_id: int):
    view = catalog.product_view(product_id, current_user)
    return render_template("shop/product.html", view=view, product=view.product)


@bp.get("/supplier/<int:supplier_id>")
def supplier(supplier_id: int):
    view = catalog.supplier_view(supplier_id)
    return render_template("shop/supplier.html", view=view, supplier=view.supplier)


@bp.get("/media/<name>")
def media_file(name: str):
    if not _MEDIA_NAME.match(name):
        abort(404)
    # Names are random and never reused, so browsers may keep the file for a long time.
    return send_from_directory(media.product_image_dir(), name, max_age=30 * 24 * 3600)


# --- home page sections (registered in shop.init_app) ---------------------------------------


def _section(key: str, title, products, more_url: str, note=None) -> dict | None:
    if not products:
        return None
    return {"template": "shop/_section.html", "key": key, "title": title, "products": products,
            "more_url": more_url, "note": note}


def in_season_section() -> dict | None:
    month = catalog.current_month()
    return _section("in-season", _l("In season in %(month)s", month=MONTHS[month - 1]),
                    catalog.in_season_products(month), url_for("shop.catalog_index"))


def key_counties_section() -> dict | None:
    return _section("key-counties", _l("From key assistance counties"), catalog.key_county_products(),
                    url_for("shop.catalog_index"),
                    _l("Counties the state names for priority help (国家乡村振兴重点帮扶县)."))


def urgent_sale_section() -> dict | None:
    return _section("urgent-sale", _l("Urgent sale: help before it spoils"), catalog.urgent_sale_products(),
                    url_for("shop.catalog_index"))


def new_arrivals_section() -> dict | None:
    return _section("new-arrivals", _l("New arrivals"), catalog.new_arrivals(),
                    url_for("shop.catalog_index", sort="newest"))


HOME_SECTIONS = [urgent_sale_section, in_season_section, key_counties_section, new_arrivals_section]
