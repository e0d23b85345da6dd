"""The Elasticsearch backend at the HTTP boundary, against a small local stand-in (fake_es.py).

These tests check what the official client sends (index template, bulk bodies, queries)
and how realistic answers and failures are handled. They say nothing about Elasticsearch's
own relevance or analysis: the shared backend suite checks that, against a live cluster,
when ELASTICSEARCH_URL is set.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from core.extensions import db
from search import indexing
from search import text as tx
from search.backends import get_backend
from search.backends.base import SearchQuery
from search.models import SearchOutbox
from search.tasks import drain_search_outbox
from shop.models import Product, ProductStatus
from tests.search.factories_search import catalog, product
from tests.search.fake_es import FakeElasticsearch, closed_port_url

ON_SALE = ("plum", "dried", "orange", "tomato", "box", "potato")


@pytest.fixture()
def fake_es(search_config):
    fake = FakeElasticsearch().start()
    search_config.elasticsearch(fake.url, prefix="shop", refresh=False)
    yield fake
    search_config.forget()
    fake.stop()


@pytest.fixture()
def shop(db_session, commit, fake_es):
    made = catalog()
    commit()  # the eager drain creates the index and writes the documents
    return made


def pending() -> list[int]:
    return list(db.session.execute(sa.select(SearchOutbox.product_id).order_by(SearchOutbox.id)).scalars())


def test_the_first_write_creates_template_index_and_alias(shop, fake_es):
    template = fake_es.templates["shop-products"]
    assert template["index_patterns"] == ["shop-products-*"]
    analysis = template["template"]["settings"]["analysis"]
    assert analysis["filter"]["zh_synonyms"] == {"type": "synonym_graph", "synonyms": tx.synonym_lines(),
                                                 "lenient": False}
    assert "番茄,西红柿" in analysis["filter"]["zh_synonyms"]["synonyms"]
    assert analysis["analyzer"]["zh_chars_synonyms"]["filter"][-1] == "zh_synonyms"
    properties = template["template"]["mappings"]["properties"]
    assert properties["name"]["analyzer"] == "cjk"
    assert properties["name"]["fields"]["chars"] == {"type": "text", "analyzer": "zh_chars",
                                                     "search_analyzer": "zh_chars_synonyms"}
    assert properties["price_fen"] == {"type": "long"}
    live = fake_es.live_index("shop-products")
    assert live and live.startswith("shop-products-")
    create = fake_es.calls("PUT", f"/{live}")[0]
    assert create["body"] == {"aliases": {"shop-products": {}}}


def test_bulk_bodies_carry_every_product_on_sale_and_delete_the_rest(shop, fake_es):
    operations = fake_es.bulk_operations()
    indexed = {int(i) for action, i, _ in operations if action == "index"}
    deleted = {int(i) for action, i, _ in operations if action == "delete"}
    assert indexed == set(shop.ids(*ON_SALE))
    assert deleted == set(shop.ids("delisted", "hidden"))
    tomato = next(src for action, i, src in operations if action == "index" and int(i) == shop.products["tomato"].id)
    assert tomato["name"] == ["鲁渝一号西红柿"]
    assert tomato["display_name"] == "鲁渝一号西红柿"
    assert tomato["origin_names"] == ["重庆市", "重庆市辖区", "开州区", "开州镇", "凤凰村"]
    assert tomato["category_names"] == ["蔬菜", "茄果类"]
    assert tomato["price_fen"] == 3990 and isinstance(tomato["price_fen"], int)
    assert tomato["is_urgent_sale"] is True and tomato["is_key_assistance_county"] is False
    assert tomato["certifications"] == ["green"] and tomato["supplier_type"] == "leading_enterprise"
    assert len(tomato["fingerprint"]) == 40
    assert all(meta.get("_index") == "shop-products" for r in fake_es.calls(None, "_bulk")
               for line in r["body_lines"] for meta in line.values() if isinstance(meta, dict) and "_id" in meta)
    assert pending() == []


def _search_response(shop) -> dict:
    tomato, box = shop.products["tomato"], shop.products["box"]
    return {
        "took": 3, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": 130.0, "hits": [
            {"_index": "shop-products-1", "_id": str(tomato.id), "_score": 130.0, "sort": [130.0, 25, tomato.id]},
            {"_index": "shop-products-1", "_id": str(box.id), "_score": 10.0, "sort": [10.0, 12, box.id]},
        ]},
        "aggregations": {
            "category": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [
                {"key": shop.categories["fruiting"].id, "doc_count": 2}]},
            "county": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [
                {"key": shop.places["kaizhou"]["county"].id, "doc_count": 1},
                {"key": shop.places["shouguang"]["county"].id, "doc_count": 1}]},
            "certification": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [
                {"key": "green", "doc_count": 1}]},
            "supplier_type": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [
                {"key": "leading_enterprise", "doc_count": 1}, {"key": "cooperative", "doc_count": 1}]},
            "price_band": {"buckets": {
                "lt20": {"to": 2000.0, "doc_count": 0}, "20-50": {"from": 2000.0, "to": 5000.0, "doc_count": 1},
                "50-100": {"from": 5000.0, "to": 10000.0, "doc_count": 1},
                "100-200": {"from": 10000.0, "to": 20000.0, "doc_count": 0}, "ge200": {"from": 20000.0,
                                                                                       "doc_count": 0}}},
            "in_season": {"doc_count": 0},
            "key_county": {"doc_count": 0},
            "urgent_sale": {"doc_count": 1},
        },
    }


def test_a_search_sends_one_query_and_reads_hits_facets_and_cursor(client, shop, fake_es):
    fake_es.search_response = _search_response(shop)
    body = client.get("/api/v1/search", query_string={"q": "番茄", "certification": "green", "per_page": 1}).get_json()
    assert body["backend"] == "elasticsearch"
    assert body["total"] == 2
    assert [h["name"] for h in body["hits"]] == ["鲁渝一号西红柿"]
    assert body["hits"][0]["highlights"]["name"][-1] == {"text": "西红柿", "match": True}
    assert body["hits"][0]["score"] == 130.0
    assert {f["value"]: f["count"] for f in body["facets"]["price_band"]} == {"20-50": 1, "50-100": 1}
    assert [(n["name"], n["count"]) for n in body["facets"]["category"]] == [("蔬菜", 2)]
    assert {n["name"] for n in body["facets"]["origin"]} == {"重庆市", "山东省"}
    assert body["facets"]["urgent_sale"]["count"] == 1
    assert body["next_cursor"]

    sent = fake_es.calls("POST", "/shop-products/_search")[-1]["body"]
    assert sent["size"] == 2 and sent["track_total_hits"] is True and sent["_source"] is False
    scoring = sent["query"]["function_score"]
    assert scoring["score_mode"] == "multiply" and scoring["boost_mode"] == "multiply"
    assert [f["weight"] for f in scoring["functions"]] == [1.2, 1.3]
    assert scoring["functions"][0]["filter"] == {"term": {"is_key_assistance_county": True}}
    term = scoring["query"]["bool"]["must"][0]["dis_max"]["queries"]
    assert [q["constant_score"]["boost"] for q in term] == [100, 40, 30, 10]
    name_phrases = term[0]["constant_score"]["filter"]["bool"]["should"]
    assert name_phrases == [{"match_phrase": {"name.chars": "番茄"}}, {"match_phrase": {"name.chars": "西红柿"}}]
    assert scoring["query"]["bool"]["filter"] == [{"term": {"certifications": "green"}}]
    assert sent["sort"] == [{"_score": "desc"}, {"sold_quantity": "desc"}, {"product_id": "desc"}]
    assert set(sent["aggs"]) == {"category", "county", "certification", "supplier_type", "price_band",
                                 "in_season", "key_county", "urgent_sale"}
    assert "search_after" not in sent

    client.get("/api/v1/search", query_string={"q": "番茄", "certification": "green", "per_page": 1,
                                               "cursor": body["next_cursor"]})
    follow = fake_es.calls("POST", "/shop-products/_search")[-1]["body"]
    assert follow["search_after"] == [130.0, 25, shop.products["tomato"].id]


def test_filters_become_term_and_range_filters(shop, fake_es, app):
    with app.test_request_context():
        get_backend().search(SearchQuery(category_ids=(1, 2), county_ids=(3,), price_band="ge200",
                                         supplier_type="farmer", in_season=True, key_county=True, urgent_sale=True,
                                         month=7, sort="price_asc"))
    sent = fake_es.calls("POST", "_search")[-1]["body"]
    assert sent["query"]["function_score"]["query"]["bool"]["filter"] == [
        {"terms": {"category_id": [1, 2]}}, {"terms": {"county_id": [3]}}, {"range": {"price_fen": {"gte": 20000}}},
        {"term": {"supplier_type": "farmer"}}, {"term": {"harvest_months": 7}},
        {"term": {"is_key_assistance_county": True}}, {"term": {"is_urgent_sale": True}},
    ]
    assert sent["query"]["function_score"]["query"]["bool"]["must"] == [{"match_all": {}}]
    assert sent["sort"] == [{"price_fen": "asc"}, {"product_id": "asc"}]
    assert sent["aggs"]["in_season"] == {"filter": {"term": {"harvest_months": 7}}}


@pytest.mark.parametrize("failure", ["closed port", "503"])
def test_an_unreachable_or_failing_engine_is_a_503_with_a_plain_message(client, shop, fake_es, search_config,
                                                                        failure):
    if failure == "503":
        fake_es.fail_status = 503
    else:
        search_config.elasticsearch(closed_port_url(), prefix="shop")
    response = client.get("/api/v1/search?q=脆李")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "search_unavailable"
    assert "Elastic" not in error["message"] and "unavailable" not in error.get("details", "")
    page = client.get("/search/?q=脆李")
    assert page.status_code == 503
    assert client.get("/readyz").get_json()["checks"]["search"]["ok"] is False


def test_changes_made_while_the_engine_is_down_are_indexed_in_order_when_it_is_back(
        client, db_session, commit, search_config):
    search_config.elasticsearch(closed_port_url(), prefix="shop")
    made = catalog()
    commit()  # the drain fails: every product waits in the outbox
    plum, orange = made.products["plum"], made.products["orange"]
    plum.price_fen = 9900
    commit()
    orange.status = ProductStatus.DELISTED
    commit()
    db.session.execute(sa.update(Product).where(Product.id == made.products["potato"].id).values(stock=0))
    commit()
    new = product(made.suppliers["dingxi"], made.categories["tuber"], made.places["dingxi"], "定西土豆粉")
    commit()
    created = [p.id for p in made.products.values()]
    assert pending()[: len(created)] == sorted(created)
    assert pending()[len(created):] == [plum.id, orange.id, made.products["potato"].id, new.id]

    fake = FakeElasticsearch().start()
    try:
        search_config.elasticsearch(fake.url, prefix="shop")
        commit()  # end the test session's read transaction: the task's app context closes that session
        report = drain_search_outbox.apply().get()  # beat's periodic drain, the engine back
        assert report["rows"] == len(created) + 4
        operations = fake.bulk_operations()
        # Every product once, in the order of its latest change; the state is the latest one.
        untouched = [made.products[k].id for k in ("dried", "tomato", "box", "delisted", "hidden")]
        assert [int(i) for _, i, _ in operations] == [*untouched, plum.id, orange.id,
                                                        made.products["potato"].id, new.id]
        by_id = {int(i): (action, src) for action, i, src in operations}
        assert by_id[plum.id][1]["price_fen"] == 9900
        assert by_id[orange.id][0] == "delete"
        assert by_id[made.products["potato"].id][1]["stock"] == 0
        assert by_id[new.id][1]["name"] == ["定西土豆粉"]
        assert pending() == []
    finally:
        search_config.forget()
        fake.stop()


def test_a_document_the_engine_refuses_stays_in_the_outbox_with_its_error(db_session, commit, fake_es):
    made = catalog()
    fake_es.bulk_item_errors = {str(made.products["tomato"].id): (400, "mapper_parsing_exception")}
    commit()
    rows = db.session.execute(sa.select(SearchOutbox)).scalars().all()
    assert [r.product_id for r in rows] == [made.products["tomato"].id]
    assert rows[0].attempts == 1 and "mapper_parsing_exception" in rows[0].last_error
    fake_es.bulk_item_errors = {}
    assert indexing.drain_outbox().indexed == 1
    assert pending() == []


def test_an_overloaded_engine_keeps_the_whole_batch_for_the_retry(db_session, commit, fake_es):
    made = catalog()
    fake_es.bulk_item_errors = {str(made.products["tomato"].id): (429, "es_rejected_execution_exception")}
    commit()
    assert len(pending()) == len(made.products)
    attempts = set(db.session.execute(sa.select(SearchOutbox.attempts)).scalars())
    assert attempts == {0}


def test_reindex_builds_a_new_index_then_swaps_the_alias_and_drops_the_old(shop, fake_es):
    old = fake_es.live_index("shop-products")
    before = len(fake_es.requests)
    assert indexing.reindex() == len(ON_SALE)
    new = fake_es.live_index("shop-products")
    assert new != old and old not in fake_es.indices
    assert set(fake_es.indices[new]) == {str(i) for i in shop.ids(*ON_SALE)}
    steps = [(r["method"], r["path"]) for r in fake_es.requests[before:]]
    assert steps[:2] == [("PUT", "/_index_template/shop-products"), ("PUT", f"/{new}")]
    assert fake_es.requests[before + 1]["body"] == {"settings": {"refresh_interval": "-1"}}
    swap = steps.index(("POST", "/_aliases"))
    assert any(path == "/_bulk" for _, path in steps[2:swap]) and ("POST", f"/{new}/_refresh") in steps[2:swap]
    assert fake_es.requests[before + swap]["body"]["actions"] == [
        {"remove": {"index": old, "alias": "shop-products"}}, {"add": {"index": new, "alias": "shop-products"}}]
    assert steps[swap + 1:] == [("DELETE", f"/{old}")]


def test_searching_keeps_answering_while_the_index_is_rebuilt(app, shop, fake_es):
    fake_es.bulk_delay = 0.4  # a slow bulk load: plenty of searches happen during the rebuild
    backend = get_backend()
    totals: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def keep_searching():
        with app.app_context():
            while not done.is_set():
                try:
                    totals.append(backend.search(SearchQuery(size=20)).total)
                except BaseException as exc:  # recorded and asserted below
                    errors.append(exc)
                time.sleep(0.01)

    thread = threading.Thread(target=keep_searching)
    thread.start()
    try:
        time.sleep(0.05)
        indexing.reindex()
        time.sleep(0.05)
    finally:
        done.set()
        thread.join(5)
    assert errors == []
    assert len(totals) >= 10
    assert set(totals) == {len(ON_SALE)}


def test_status_reads_every_fingerprint_and_reports_drift(shop, fake_es):
    status = indexing.index_status()
    assert status.healthy and status.drift.drifted == []
    live = fake_es.live_index("shop-products")
    fake_es.indices[live].pop(str(shop.products["plum"].id))
    fake_es.indices[live][str(shop.products["box"].id)]["fingerprint"] = "0" * 40
    status = indexing.index_status()
    assert status.drift.missing == [shop.products["plum"].id]
    assert status.drift.stale == [shop.products["box"].id]
    assert not status.healthy
    assert sorted(indexing.reconcile()) == sorted(shop.ids("plum", "box"))
    assert indexing.index_status().healthy
