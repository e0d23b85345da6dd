"""The same behaviour on every backend: the database (SQLite or PostgreSQL, whichever this run
uses) always, a live Elasticsearch when ELASTICSEARCH_URL is set (see conftest.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from shop.models import Product, ProductStatus
from tests.search.factories_search import RANKED, catalog, ranking_catalog

pytestmark = pytest.mark.usefixtures("backend")


def search(client, **params) -> dict:
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(body: dict) -> list[str]:
    return [h["name"] for h in body["hits"]]


@pytest.fixture()
def shop(db_session, commit):
    made = catalog()
    commit()
    return made


@pytest.mark.parametrize(("query", "expected"), [
    ("脆李", {"巫山脆李", "巫山脆李果脯"}),
    ("巫山", {"巫山脆李", "巫山脆李果脯", "巫山恋橙"}),
    ("巫山脆李", {"巫山脆李", "巫山脆李果脯"}),
    ("李", {"巫山脆李", "巫山脆李果脯"}),
    ("西红柿", {"鲁渝一号西红柿", "寿光蔬菜礼盒"}),
    ("番茄", {"鲁渝一号西红柿", "寿光蔬菜礼盒"}),
    ("鲁渝 番茄", {"鲁渝一号西红柿"}),
    ("土豆", {"定西马铃薯"}),
    ("马铃薯", {"定西马铃薯"}),
    ("洋芋", {"定西马铃薯"}),
    ("重庆 西红柿", {"鲁渝一号西红柿"}),
    ("ＳＨＯＵ", set()),
])
def test_chinese_queries_find_products_by_substring_and_synonym(client, shop, query, expected):
    body = search(client, q=query)
    assert set(names(body)) == expected
    assert body["total"] == len(expected)


def test_delisted_products_and_suspended_suppliers_are_never_found(client, shop):
    found = names(search(client, q="脆李")) + names(search(client, per_page=50))
    assert "巫山脆李礼盒" not in found
    assert "脆李干" not in found


def test_hits_carry_highlights_of_the_term_or_its_synonym(client, shop):
    body = search(client, q="番茄")
    tomato = next(h for h in body["hits"] if h["name"] == "鲁渝一号西红柿")
    assert tomato["highlights"]["name"] == [{"text": "鲁渝一号", "match": False}, {"text": "西红柿", "match": True}]
    box = next(h for h in body["hits"] if h["name"] == "寿光蔬菜礼盒")
    assert {"text": "西红柿", "match": True} in box["highlights"]["description"]
    assert tomato["price_fen"] == 3990 and tomato["price"] == "¥39.90"
    assert tomato["origin"] == {"province": "重庆市", "city": "重庆市辖区", "county": "开州区"}
    assert tomato["is_urgent_sale"] is True and tomato["is_key_assistance_county"] is False


def _flat(nodes):
    for node in nodes:
        yield node
        yield from _flat(node["children"])


def test_facet_counts_over_everything_on_sale(client, shop):
    body = search(client)
    facets = body["facets"]
    assert body["total"] == 6
    assert {(n["name"], n["count"]) for n in facets["category"]} == {("水果", 2), ("蔬菜", 2), ("粮油", 1),
                                                                     ("加工食品", 1)}
    fruit = next(n for n in facets["category"] if n["name"] == "水果")
    assert {(n["name"], n["count"]) for n in fruit["children"]} == {("李子", 1), ("柑橘", 1)}
    origin = {n["name"]: n["count"] for n in _flat(facets["origin"])}
    assert origin == {"重庆市": 4, "重庆市辖县": 3, "巫山县": 3, "重庆市辖区": 1, "开州区": 1, "山东省": 1,
                      "潍坊市": 1, "寿光市": 1, "甘肃省": 1, "定西市": 1, "安定区": 1}
    assert {f["value"]: f["count"] for f in facets["certification"]} == {"green": 3, "geo_indication": 2}
    assert {f["value"]: f["count"] for f in facets["price_band"]} == {"20-50": 3, "50-100": 3}
    assert {f["value"]: f["count"] for f in facets["supplier_type"]} == {"cooperative": 4, "leading_enterprise": 1,
                                                                        "family_farm": 1}
    assert facets["in_season"]["count"] == 1
    assert facets["key_assistance_county"]["count"] == 4
    assert facets["urgent_sale"]["count"] == 1


def test_facet_counts_follow_the_query(client, shop):
    facets = search(client, q="巫山")["facets"]
    assert {(n["name"], n["count"]) for n in facets["category"]} == {("水果", 2), ("加工食品", 1)}
    assert {f["value"]: f["count"] for f in facets["certification"]} == {"green": 2, "geo_indication": 1}
    assert facets["key_assistance_county"]["count"] == 3
    assert facets["urgent_sale"]["count"] == 0


@pytest.mark.parametrize(("params", "expected"), [
    (lambda c: {"category": c.categories["fruit"].id}, {"巫山脆李", "巫山恋橙"}),
    (lambda c: {"category": c.categories["tuber"].id}, {"定西马铃薯"}),
    (lambda c: {"region": c.places["wushan"]["province"].id},
     {"巫山脆李", "巫山脆李果脯", "巫山恋橙", "鲁渝一号西红柿"}),
    (lambda c: {"region": c.places["kaizhou"]["county"].id}, {"鲁渝一号西红柿"}),
    (lambda c: {"certification": "geo_indication"}, {"巫山脆李", "定西马铃薯"}),
    (lambda c: {"price": "50-100"}, {"巫山脆李", "巫山恋橙", "寿光蔬菜礼盒"}),
    (lambda c: {"supplier_type": "family_farm"}, {"定西马铃薯"}),
    (lambda c: {"in_season": "true"}, {"巫山脆李"}),
    (lambda c: {"key_county": "true"}, {"巫山脆李", "巫山脆李果脯", "巫山恋橙", "定西马铃薯"}),
    (lambda c: {"urgent": "true"}, {"鲁渝一号西红柿"}),
    (lambda c: {"q": "巫山", "certification": "green"}, {"巫山脆李", "巫山恋橙"}),
])
def test_filters(client, shop, params, expected):
    body = search(client, **params(shop))
    assert set(names(body)) == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(("sort", "expected"), [
    ("price_asc", ["巫山脆李果脯", "定西马铃薯", "鲁渝一号西红柿", "巫山恋橙", "寿光蔬菜礼盒", "巫山脆李"]),
    ("price_desc", ["巫山脆李", "寿光蔬菜礼盒", "巫山恋橙", "鲁渝一号西红柿", "定西马铃薯", "巫山脆李果脯"]),
    ("newest", ["鲁渝一号西红柿", "定西马铃薯", "寿光蔬菜礼盒", "巫山脆李果脯", "巫山脆李", "巫山恋橙"]),
    ("sales", ["巫山脆李", "巫山恋橙", "鲁渝一号西红柿", "定西马铃薯", "寿光蔬菜礼盒", "巫山脆李果脯"]),
    # No words: the boosts alone (urgent sale ×1.3 > key county ×1.2 > none), then sales.
    ("relevance", ["鲁渝一号西红柿", "巫山脆李", "巫山恋橙", "定西马铃薯", "巫山脆李果脯", "寿光蔬菜礼盒"]),
])
def test_sorting(client, shop, sort, expected):
    assert names(search(client, sort=sort, per_page=10)) == expected


@pytest.mark.parametrize("sort", ["relevance", "price_asc", "price_desc", "newest", "sales"])
def test_cursor_pages_walk_the_whole_result_in_order_without_repeats(client, shop, sort):
    whole = names(search(client, sort=sort, per_page=50))
    walked, cursor, pages = [], None, 0
    while True:
        params = {"sort": sort, "per_page": 2} | ({"cursor": cursor} if cursor else {})
        body = search(client, **params)
        walked += names(body)
        pages += 1
        assert body["total"] == 6
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert walked == whole
    assert pages == 3


def test_pinned_ranking_relevance_first_then_key_county_and_urgent_sale_boosts(client, db_session, commit, backend):
    made = ranking_catalog()
    commit()
    body = search(client, q="蜂糖李")
    assert [h["id"] for h in body["hits"]] == made.ids(*RANKED)
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True)
    if backend == "database":
        # 100 (name) or 40 (category) or 10 (other text) × 1.56 / 1.3 / 1.2 / 1, in hundredths.
        assert scores == [15600, 13000, 12000, 10000, 6240, 1560]


def test_a_query_that_finds_nothing_offers_did_you_mean_and_related_products(client, shop):
    body = search(client, q="巫山苹果")
    assert body["total"] == 0 and body["hits"] == []
    assert {"巫山脆李", "巫山恋橙"} <= {h["name"] for h in body["related"]}
    assert body["did_you_mean"]
    assert body["did_you_mean"] in {s["text"] for s in body["suggestions"]}
    typo = search(client, q="西红事")
    assert "鲁渝一号西红柿" in {h["name"] for h in typo["related"]}


def test_suggestions_as_you_type_name_products_categories_and_places(client, shop):
    def suggest(q):
        response = client.get("/api/v1/search/suggest", query_string={"q": q})
        assert response.status_code == 200
        return [(s["text"], s["kind"]) for s in response.get_json()["suggestions"]]

    wu = suggest("巫")
    assert {("巫山脆李", "product"), ("巫山脆李果脯", "product"), ("巫山恋橙", "product")} <= set(wu)
    assert ("巫山县", "place") in wu
    assert ("茄果类", "category") in suggest("茄果")
    assert ("鲁渝一号西红柿", "product") in suggest("番茄")
    assert suggest("") == []
    assert suggest("zzz") == []


def test_changes_reach_search_after_commit(client, shop, commit):
    tomato = shop.products["tomato"]
    tomato.status = ProductStatus.DELISTED
    plum = shop.products["plum"]
    plum.name = "巫山脆李（特级）"
    commit()
    assert names(search(client, q="西红柿")) == ["寿光蔬菜礼盒"]
    assert names(search(client, q="特级")) == ["巫山脆李（特级）"]
    # A stock or price change made with a bulk UPDATE, as the shop's services do.
    db.session.execute(sa.update(Product).where(Product.id == plum.id).values(price_fen=1990))
    commit()
    assert names(search(client, q="巫山", price="lt20")) == ["巫山脆李（特级）"]
