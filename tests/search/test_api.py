"""The API and the page: their shape, the OpenAPI document, and bounded answers to bad input."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from search import service
from search import text as tx
from shop.models import Product
from tests.search.factories_search import catalog


@pytest.fixture()
def shop(db_session, commit):
    made = catalog()
    commit()
    return made


def test_search_endpoints_are_public_and_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/search", "/api/v1/search/suggest"):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == []
        assert "200" in operation["responses"]
    params = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {"q", "category", "region", "certification", "price", "supplier_type", "in_season", "key_county",
            "urgent", "sort", "cursor", "per_page"} <= params


def test_result_shape(client, shop):
    body = client.get("/api/v1/search?q=脆李").get_json()
    assert set(body) == {"query", "terms", "sort", "total", "hits", "facets", "next_cursor", "did_you_mean",
                         "suggestions", "related", "backend"}
    assert body["backend"] == "database"
    hit = body["hits"][0]
    assert set(hit["highlights"]) == {"name", "description"}
    assert isinstance(hit["price_fen"], int)
    assert set(body["facets"]) == {"category", "origin", "certification", "price_band", "supplier_type",
                                   "in_season", "key_assistance_county", "urgent_sale"}


def test_an_empty_query_lists_everything_on_sale(client, shop):
    body = client.get("/api/v1/search?q=").get_json()
    assert body["terms"] == [] and body["total"] == 6


def test_a_ten_thousand_character_query_is_refused_with_a_clear_422(client, shop):
    response = client.get("/api/v1/search", query_string={"q": "脆" * 10_000})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and "q" in error["details"]["query"]
    assert client.get("/api/v1/search/suggest", query_string={"q": "x" * 10_000}).status_code == 422
    page = client.get("/search/", query_string={"q": "脆" * 10_000})
    assert page.status_code == 422
    assert "100" in page.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    '" * ? : \\ / ( ) [ ] { } ^ ~ AND OR',
    '"巫山',
    "脆李*",
    "name:脆李",
    "(巫山 OR 开州) AND NOT 番茄",
    "\\",
    "%",
    "_",
    "'; DROP TABLE product; --",
    "1' OR '1'='1",
    "巫山\x00脆李",
    "MATCH '*'",
])
def test_query_syntax_and_sql_fragments_are_plain_text(client, shop, query):
    response = client.get("/api/v1/search", query_string={"q": query})
    assert response.status_code == 200, response.get_json()
    assert isinstance(response.get_json()["total"], int)
    assert client.get("/api/v1/search/suggest", query_string={"q": query}).status_code == 200
    assert client.get("/search/", query_string={"q": query}).status_code == 200
    assert db.session.execute(sa.select(sa.func.count()).select_from(Product)).scalar_one() == 8


def test_a_quoted_term_is_just_the_term(client, shop):
    body = client.get("/api/v1/search", query_string={"q": '"巫山脆李"'}).get_json()
    assert {h["name"] for h in body["hits"]} == {"巫山脆李", "巫山脆李果脯"}


@pytest.mark.parametrize("params", [
    {"cursor": "not-a-cursor"},
    {"cursor": "e30"},  # {} in base64
    {"cursor": "x" * 10_000},
    {"per_page": 0},
    {"per_page": 1000},
    {"sort": "random"},
    {"certification": "best"},
    {"price": "free"},
    {"category": "fruit"},
    {"category": -1},
    {"in_season": "maybe"},
])
def test_invalid_parameters_are_a_422_never_a_500(client, shop, params):
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_failed"


def test_a_cursor_only_continues_the_search_it_came_from(client, shop):
    first = client.get("/api/v1/search?sort=price_asc&per_page=2").get_json()
    response = client.get("/api/v1/search", query_string={"sort": "price_desc", "cursor": first["next_cursor"]})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"field": "cursor"}


def test_pages_far_past_the_end_are_empty_not_errors(client, shop):
    params = service.SearchParams(sort="price_asc")
    scope = service.cursor_scope((), params, "price_asc")
    beyond = service.encode_cursor((2**31 - 1, 2**31 - 1), scope)
    body = client.get("/api/v1/search", query_string={"sort": "price_asc", "cursor": beyond}).get_json()
    assert body["hits"] == [] and body["next_cursor"] is None and body["total"] == 6
    # Values no page ever handed out (beyond the columns' range) are refused, not sent to the database.
    absurd = service.encode_cursor((10**15, 10**9), scope)
    assert client.get("/api/v1/search", query_string={"sort": "price_asc", "cursor": absurd}).status_code == 422
    # Cursor values of the wrong type are refused, however well-formed the cursor is.
    forged = service.encode_cursor(("drop table", 1), scope)
    assert client.get("/api/v1/search", query_string={"sort": "price_asc", "cursor": forged}).status_code == 422
    # There are no page numbers: an unknown parameter is ignored, the first page comes back.
    assert client.get("/api/v1/search?page=999999").get_json()["total"] == 6


def test_unknown_category_or_region_finds_nothing(client, shop):
    assert client.get("/api/v1/search?category=999999").get_json()["total"] == 0
    village = shop.places["wushan"]["village"].id
    assert client.get(f"/api/v1/search?region={village}").get_json()["total"] == 0


def test_the_page_shows_highlights_facets_and_loads_only_local_scripts(client, shop):
    response = client.get("/search/", query_string={"q": "番茄"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<mark>西红柿</mark>" in html
    assert 'role="combobox"' in html and 'aria-controls="search-suggestions"' in html
    assert 'aria-live="polite"' in html
    assert '<label for="search-q">' in html
    scripts = re.findall(r"<script([^>]*)>", html)
    # Its own script and the site's, both served from here (nothing from another origin, nothing inline).
    assert any('src="/search/static/' in attrs for attrs in scripts)
    assert all(re.search(r'src="/(search/)?static/', attrs) for attrs in scripts)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    js = client.get("/search/static/search/search.js")
    assert js.status_code == 200 and "javascript" in js.content_type
    js.close()


def test_selected_facets_are_marked_and_remove_themselves(client, shop):
    html = client.get("/search/", query_string={"q": "巫山", "certification": "green"}).get_data(as_text=True)
    assert 'aria-current="true"' in html
    assert "certification=green" not in re.search(r'<a href="([^"]*)"\s+aria-current="true"', html).group(1)


def test_product_links_point_to_the_shop_when_it_serves_product_pages(app, client, shop):
    plum = shop.products["plum"].id
    html = client.get("/search/?q=巫山脆李").get_data(as_text=True)
    if "shop.product" in app.view_functions:
        assert f'href="/shop/product/{plum}"' in html
    # Without the shop's product page the name is plain text.
    view = app.view_functions.pop("shop.product", None)
    try:
        body = client.get("/api/v1/search?q=巫山脆李").get_json()
        assert all(h["url"] is None for h in body["hits"])
        assert "<mark>巫山脆李</mark>" in client.get("/search/?q=巫山脆李").get_data(as_text=True)
    finally:
        if view is not None:
            app.view_functions["shop.product"] = view


def test_the_page_pages_with_next_links(client, shop):
    html = client.get("/search/?per_page=2").get_data(as_text=True)
    assert 'rel="next"' in html
    nxt = re.search(r'href="([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "cursor=" in nxt
    assert client.get(nxt).status_code == 200


def test_nothing_found_page_offers_did_you_mean(client, shop):
    html = client.get("/search/?q=巫山苹果").get_data(as_text=True)
    assert "巫山脆李" in html
    assert tx.MAX_QUERY_LENGTH == 100


def test_readiness_reports_the_search_backend_and_outbox(client, shop):
    body = client.get("/readyz").get_json()
    assert body["checks"]["search"]["ok"] is True
    assert body["checks"]["search"]["backend"] == "database"
    assert body["checks"]["search"]["outbox_pending"] == 0
