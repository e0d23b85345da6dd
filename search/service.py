"""The search service: what pages and the API call, whichever backend is configured.

``run_search`` validates and resolves the request, asks the backend for one page of ids and
the facet counts, and turns them into the one result shape both backends share::

    {"query", "terms", "sort", "total", "hits": [hit with "highlights"], "facets": {...},
     "next_cursor", "did_you_mean", "suggestions": [{"text", "kind"}], "related": [hit], "backend"}

Pagination is by cursor (keyset on the database, search_after on Elasticsearch): each page
carries the sort values of its last hit, so page 500 costs what page 1 costs. A cursor is
bound to its query, filters and sort; a forged or foreign one is refused with a 422.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, url_for

from core.extensions import db
from core.money import format_fen
from core.registry.models import Region, RegionLevel
from search import labels, lookups
from search import text as tx
from search.backends import get_backend
from search.backends.base import PRICE_BANDS, SearchQuery
from search.errors import invalid_cursor
from shop.models import Category, Product, ProductCertification, ProductStatus, Supplier, SupplierStatus

SHOP_TIMEZONE = ZoneInfo("Asia/Shanghai")
PER_PAGE = 20
MAX_PER_PAGE = 50
MAX_CURSOR_LENGTH = 400
RELATED_LIMIT = 6
SUGGEST_LIMIT = 8
DESCRIPTION_SNIPPET = 60


@dataclass(frozen=True)
class SearchParams:
    """A search request as a page or the API received it (already type-checked by their schemas)."""

    q: str = ""
    category: int | None = None
    region: int | None = None
    certification: str | None = None
    price: str | None = None
    supplier_type: str | None = None
    in_season: bool = False
    key_county: bool = False
    urgent: bool = False
    sort: str | None = None
    cursor: str | None = None
    per_page: int = PER_PAGE


def current_month() -> int:
    return datetime.now(SHOP_TIMEZONE).month


def run_search(params: SearchParams) -> dict:
    terms = tuple(tx.parse_terms(params.q))
    sort = params.sort or "relevance"
    scope = cursor_scope(terms, params, sort)
    query = SearchQuery(
        terms=terms,
        category_ids=_category_filter(params.category),
        county_ids=_region_filter(params.region),
        certification=params.certification or None,
        price_band=params.price or None,
        supplier_type=params.supplier_type or None,
        in_season=params.in_season,
        key_county=params.key_county,
        urgent_sale=params.urgent,
        month=current_month(),
        sort=sort,
        after=decode_cursor(params.cursor, scope) if params.cursor else None,
        size=max(1, min(params.per_page, MAX_PER_PAGE)),
    )
    backend = get_backend()
    page = backend.search(query)
    needles = [v for term in terms for v in term.variants]
    # The hits' counties are among the counted ones: one read of regions names both.
    regions = lookups.regions_with_ancestors(set(page.facets.county))
    result = {
        "query": params.q,
        "terms": [t.text for t in terms],
        "sort": sort,
        "total": page.total,
        "hits": hydrate(page.ids, needles, page.scores, regions),
        "facets": facets(page.facets, query, params, regions),
        "next_cursor": encode_cursor(page.next_after, scope) if page.next_after else None,
        "did_you_mean": None,
        "suggestions": [],
        "related": [],
        "backend": backend.name,
    }
    if page.total == 0 and terms and query.after is None:
        related = hydrate(backend.related(query, RELATED_LIMIT), needles)
        result["related"] = related
        result["suggestions"] = _alternatives(terms, related)
        result["did_you_mean"] = result["suggestions"][0]["text"] if result["suggestions"] else None
    return result


# --- cursors -------------------------------------------------------------------------------------


def cursor_scope(terms, params: SearchParams, sort: str) -> str:
    """What a cursor is bound to: the query's terms, its filters and its sort."""
    parts = [[t.text for t in terms], params.category, params.region, params.certification, params.price,
             params.supplier_type, params.in_season, params.key_county, params.urgent, sort]
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False).encode(), usedforsecurity=False).hexdigest()[:12]


def encode_cursor(values: tuple, scope: str) -> str:
    raw = json.dumps({"v": list(values), "s": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, scope: str) -> tuple:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("v"), list):
        raise invalid_cursor()
    return tuple(data["v"])


# --- filters ---------------------------------------------------------------------------------------


def _category_filter(category_id: int | None) -> tuple[int, ...] | None:
    """The category and its descendants; an unknown id filters everything out."""
    if category_id is None:
        return None
    children: dict[int | None, list[int]] = {}
    known = set()
    for cid, parent in db.session.execute(sa.select(Category.id, Category.parent_id)):
        known.add(cid)
        children.setdefault(parent, []).append(cid)
    if category_id not in known:
        return ()
    found, todo = [], [category_id]
    while todo:
        cid = todo.pop()
        if cid not in found:
            found.append(cid)
            todo.extend(children.get(cid, []))
    return tuple(found)


def _region_filter(region_id: int | None) -> tuple[int, ...] | None:
    """The counties in a province, city or county; any other id filters everything out."""
    if region_id is None:
        return None
    region = db.session.get(Region, region_id)
    if region is None or region.level not in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
        return ()
    if region.level == RegionLevel.COUNTY:
        return (region.id,)
    return tuple(db.session.execute(
        sa.select(Region.id).where(Region.path.startswith(region.path, autoescape=True),
                                   Region.level == RegionLevel.COUNTY)
    ).scalars())


# --- hits ------------------------------------------------------------------------------------------


def product_url(product_id: int) -> str | None:
    """The shop's product page, when the shop serves one (it is built beside this package)."""
    if "shop.product" not in current_app.view_functions:
        return None
    return url_for("shop.product", product_id=product_id)


def hydrate(ids: list[int], needles: list[str], scores: list[float] | None = None,
            regions: dict | None = None) -> list[dict]:
    """Hits for ``ids``, in order, read live from the shop (an index may lag a moment behind:
    products no longer on sale are dropped here). ``regions`` are region rows already read."""
    if not ids:
        return []
    # One row per product and certification (a product has at most one of each kind): one round trip.
    rows = db.session.execute(
        sa.select(Product.id, Product.name, Product.description, Product.price_fen, Product.sales_unit,
                  Product.specification, Product.stock, Product.sold_quantity, Product.origin_county_id,
                  Product.is_urgent_sale, Product.harvest_months, Category.id.label("category_id"),
                  Category.name.label("category_name"), Supplier.id.label("supplier_id"),
                  Supplier.name.label("supplier_name"), Supplier.type.label("supplier_type"),
                  ProductCertification.kind.label("certification"))
        .join(Supplier, Supplier.id == Product.supplier_id).join(Category, Category.id == Product.category_id)
        .outerjoin(ProductCertification, ProductCertification.product_id == Product.id)
        .where(Product.id.in_(ids), Product.status == ProductStatus.LISTED,
               Supplier.status == SupplierStatus.APPROVED)
    ).all()
    found = {}
    certifications: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(row.id, row)
        if row.certification is not None:
            certifications.setdefault(row.id, []).append(row.certification.value)
    regions = lookups.regions_with_ancestors({r.origin_county_id for r in rows}, regions)
    month_bit = 1 << (current_month() - 1)
    score_of = dict(zip(ids, scores or [], strict=False))
    hits = []
    for product_id in ids:
        if product_id not in found:
            continue
        product = found[product_id]
        county = regions.get(product.origin_county_id)
        chain = [regions[int(x)] for x in (county.path if county else "").strip("/").split("/")
                 if x and int(x) in regions]
        by_level = {r.level.value: r.name for r in chain}
        supplier_type = product.supplier_type.value
        hits.append({
            "id": product.id,
            "name": product.name,
            "url": product_url(product.id),
            "highlights": {
                "name": tx.highlight(product.name, needles),
                "description": tx.highlight(product.description, needles, limit=DESCRIPTION_SNIPPET)
                if product.description else [],
            },
            "price_fen": product.price_fen,
            "price": format_fen(product.price_fen),
            "sales_unit": product.sales_unit,
            "specification": product.specification,
            "stock": product.stock,
            "sold_quantity": product.sold_quantity,
            "category": {"id": product.category_id, "name": product.category_name},
            "origin": {level: by_level.get(level) for level in ("province", "city", "county")},
            "supplier": {"id": product.supplier_id, "name": product.supplier_name, "type": supplier_type,
                         "type_label": str(labels.SUPPLIER_TYPE.get(supplier_type, supplier_type))},
            "certifications": [
                {"value": kind, "label": str(labels.CERTIFICATION.get(kind, kind))}
                for kind in sorted(certifications.get(product_id, []))
            ],
            "is_key_assistance_county": bool(county and county.is_key_assistance_county),
            "is_urgent_sale": product.is_urgent_sale,
            "in_season": bool(product.harvest_months & month_bit),
            "score": score_of.get(product_id),
        })
    return hits


# --- facets ----------------------------------------------------------------------------------------


def facets(raw, query: SearchQuery, params: SearchParams, regions: dict | None = None) -> dict:
    """Counts with names: the category tree and the origin tree rolled up from leaves and counties."""
    return {
        "category": _category_tree(raw.category, params.category),
        "origin": _origin_tree(raw.county, params.region, regions),
        "certification": [
            {"value": k, "label": str(v), "count": raw.certification.get(k, 0), "selected": params.certification == k}
            for k, v in labels.CERTIFICATION.items() if raw.certification.get(k)
        ],
        "price_band": [
            {"value": key, "label": str(labels.PRICE_BAND[key]), "count": raw.price_band.get(key, 0),
             "selected": params.price == key}
            for key, _, _ in PRICE_BANDS if raw.price_band.get(key)
        ],
        "supplier_type": [
            {"value": k, "label": str(v), "count": raw.supplier_type.get(k, 0), "selected": params.supplier_type == k}
            for k, v in labels.SUPPLIER_TYPE.items() if raw.supplier_type.get(k)
        ],
        "in_season": {"count": raw.in_season, "month": query.month, "selected": params.in_season},
        "key_assistance_county": {"count": raw.key_county, "selected": params.key_county},
        "urgent_sale": {"count": raw.urgent_sale, "selected": params.urgent},
    }


def _category_tree(leaf_counts: dict[int, int], selected: int | None) -> list[dict]:
    if not leaf_counts:
        return []
    categories = {c.id: c for c in lookups.categories()}
    totals: dict[int, int] = {}
    for cid, n in leaf_counts.items():
        seen: set[int] = set()
        current = categories.get(cid)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            totals[current.id] = totals.get(current.id, 0) + n
            current = categories.get(current.parent_id) if current.parent_id else None
    nodes = {cid: {"id": cid, "name": categories[cid].name, "count": n, "selected": cid == selected,
                   "children": []} for cid, n in totals.items()}
    roots = []
    for cid in sorted(nodes, key=lambda i: (categories[i].position, i)):
        parent = categories[cid].parent_id
        (nodes[parent]["children"] if parent in nodes else roots).append(nodes[cid])
    return roots


def _origin_tree(county_counts: dict[int, int], selected: int | None, regions: dict | None = None) -> list[dict]:
    if not county_counts:
        return []
    regions = lookups.regions_with_ancestors(set(county_counts), regions)
    totals: dict[int, int] = {}
    for county_id, n in county_counts.items():
        county = regions.get(county_id)
        if county is None:
            continue
        for part in county.path.strip("/").split("/"):
            if part and int(part) in regions:
                rid = int(part)
                totals[rid] = totals.get(rid, 0) + n
    nodes = {rid: {"id": rid, "name": regions[rid].name, "level": regions[rid].level.value, "count": n,
                   "selected": rid == selected, "children": []}
             for rid, n in totals.items() if regions[rid].level.depth <= RegionLevel.COUNTY.depth}
    roots = []
    for rid in sorted(nodes, key=lambda i: (regions[i].code, i)):
        parent = regions[rid].parent_id
        (nodes[parent]["children"] if parent in nodes else roots).append(nodes[rid])
    return roots


# --- suggestions -----------------------------------------------------------------------------------


def _alternatives(terms, related: list[dict]) -> list[dict]:
    """"Did you mean": names of products, categories and places near the query, best first."""
    query = "".join(t.text for t in terms)
    candidates: dict[str, tuple[float, int, str]] = {}
    for rank, hit in enumerate(related):
        for text_, kind in ((hit["name"], "product"), (hit["category"]["name"], "category"),
                            (hit["origin"]["county"], "place"), (hit["origin"]["city"], "place")):
            if not text_ or tx.normalize(text_) == query:
                continue
            share = tx.overlap(query, tx.normalize(text_))
            if share >= 0.3 and (text_ not in candidates or candidates[text_][0] < share):
                candidates[text_] = (share, -rank, kind)
    best = sorted(candidates.items(), key=lambda item: (item[1][0], item[1][1]), reverse=True)
    return [{"text": t, "kind": kind, "label": str(labels.SUGGESTION_KIND[kind])} for t, (_, _, kind) in best[:5]]


def suggest(q: str, limit: int = SUGGEST_LIMIT) -> list[dict]:
    """As-you-type suggestions: product names first, then categories, then places."""
    terms = tuple(tx.parse_terms(q))[:3]
    if not terms:
        return []
    found = get_backend().suggest(terms, limit)

    def contains_all(name: str) -> bool:
        norm = tx.normalize(name)
        return all(any(v in norm for v in t.variants) for t in terms)

    categories = [c for c in lookups.categories() if contains_all(c.name)]
    out: list[dict] = []
    seen: set[str] = set()

    def add(text_: str, kind: str, **params) -> None:
        if text_ in seen or len(out) >= limit:
            return
        seen.add(text_)
        out.append({"text": text_, "kind": kind, "label": str(labels.SUGGESTION_KIND[kind]),
                    "url": url_for("search.search_page", **params)})

    for name in found["product"][: max(1, limit - 3)]:
        add(name, "product", q=name)
    for category in categories[:2]:
        add(category.name, "category", category=category.id)
    for place in found["place"]:
        add(place, "place", q=place)
    for name in found["product"]:
        add(name, "product", q=name)
    return out
