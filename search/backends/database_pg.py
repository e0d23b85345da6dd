"""The database backend's search on PostgreSQL: the match is found once, for everything.

A page, its facet counts and its certification counts all read the same match set. Asked
separately (as on SQLite), PostgreSQL finds the match three times: three GIN scans, three
walks of the matching ``search_document`` rows and three joins into ``product``, which was
most of the time of a search over 100,000 products. Here the match is one ``MATERIALIZED``
CTE holding what the page and the counts need (sort keys, facet keys, flags), and a single
statement returns the page's rows, each carrying the facet and certification counts as two
small JSON arrays (a page with no rows still comes back as one row with its counts).

Same answers as the generic path in ``database.py``: the same ``WHERE``, score and sort
keys, the same keyset condition for cursors (applied to the page only, never to the counts).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON

from core.extensions import db
from search.backends.base import PRICE_BANDS, BackendPage, RawFacets, SearchQuery
from shop.models import ProductCertification

FACET_COLUMNS = ("category_id", "county_id", "supplier_type", "price_band", "in_season", "key_county", "urgent")


def search(backend, query: SearchQuery) -> BackendPage:
    from search.backends.database import County, P, S, _after, _encode, _in_season

    score = backend._score(query)
    keys = backend._sort_keys(query.sort, score)
    band = sa.case(*[((P.price_fen < high), key) for key, _, high in PRICE_BANDS if high is not None],
                   else_=PRICE_BANDS[-1][0])
    columns = [
        P.id.label("id"), score.label("score"),
        *[k.label(f"k{i}") for i, (k, _) in enumerate(keys)],
        P.category_id.label("category_id"), P.origin_county_id.label("county_id"),
        S.type.label("supplier_type"), band.label("price_band"),
        sa.case((_in_season(query.month), 1), else_=0).label("in_season"),
        sa.case((County.is_key_assistance_county, 1), else_=0).label("key_county"),
        sa.case((P.is_urgent_sale, 1), else_=0).label("urgent"),
    ]
    match = (backend._from(sa.select(*columns), query).where(*backend._where(query))
             .cte("search_match").prefix_with("MATERIALIZED"))

    m_keys = [(match.c[f"k{i}"], direction) for i, (_, direction) in enumerate(keys)]
    page = sa.select(match.c.id, match.c.score, *[k for k, _ in m_keys])
    if query.after is not None:
        page = page.where(_after(m_keys, backend._decode_after(query)))
    page = page.order_by(*_ordering(m_keys)).limit(query.size + 1).subquery("search_page")

    grouped = (sa.select(*[match.c[name] for name in FACET_COLUMNS], sa.func.count().label("n"))
               .group_by(*[match.c[name] for name in FACET_COLUMNS]).subquery("search_facets"))
    facets_json = sa.select(sa.func.json_agg(sa.func.json_build_array(*grouped.c), type_=JSON)).scalar_subquery()
    kinds = (sa.select(ProductCertification.kind.label("kind"), sa.func.count().label("n"))
             .join(match, match.c.id == ProductCertification.product_id)
             .group_by(ProductCertification.kind).subquery("search_certifications"))
    certs_json = sa.select(sa.func.json_agg(sa.func.json_build_array(kinds.c.kind, kinds.c.n),
                                            type_=JSON)).scalar_subquery()
    counts = sa.select(facets_json.label("facets"), certs_json.label("certifications")).subquery("search_counts")

    page_keys = [(page.c[f"k{i}"], direction) for i, (_, direction) in enumerate(keys)]
    stmt = (sa.select(counts.c.facets, counts.c.certifications, page.c.id, page.c.score,
                      *[k for k, _ in page_keys])
            .select_from(counts.outerjoin(page, sa.true()))
            .order_by(*_ordering(page_keys)))
    rows = db.session.execute(stmt).all()

    facets, total = _raw_facets(rows[0].facets or [], rows[0].certifications or [])
    hits = [r for r in rows if r.id is not None]
    more = len(hits) > query.size
    hits = hits[: query.size]
    next_after = _encode(hits[-1][4:]) if more and hits else None
    return BackendPage(ids=[r.id for r in hits], scores=[float(r.score) for r in hits], total=total,
                       facets=facets, next_after=next_after)


def _ordering(keys):
    return [k.desc() if direction == "desc" else k.asc() for k, direction in keys]


def _raw_facets(grouped: list[list], certifications: list[list]) -> tuple[RawFacets, int]:
    facets = RawFacets()
    total = 0
    for category_id, county_id, supplier_type, price_band, in_season, key_county, urgent, n in grouped:
        total += n
        facets.category[category_id] = facets.category.get(category_id, 0) + n
        facets.county[county_id] = facets.county.get(county_id, 0) + n
        facets.supplier_type[supplier_type] = facets.supplier_type.get(supplier_type, 0) + n
        facets.price_band[price_band] = facets.price_band.get(price_band, 0) + n
        facets.in_season += in_season * n
        facets.key_county += key_county * n
        facets.urgent_sale += urgent * n
    for kind, n in certifications:
        facets.certification[kind] = n
    return facets, total
