"""The Elasticsearch backend, selected when ELASTICSEARCH_URL is set. Official client (9.x).

Layout in the cluster (``P`` = ELASTICSEARCH_INDEX_PREFIX):

    index template  P-products      patterns P-products-*, the analysis and mappings below
    indices         P-products-<UTC timestamp>, one per rebuild
    alias           P-products      the live index; all reads and writes go through it

``rebuild`` fills a new index while the alias still serves the old one, then swaps the
alias in one atomic ``_aliases`` call and deletes the old index: searching never stops.

Analysis. Every text field is indexed twice:

- with the built-in ``cjk`` analyzer (overlapping bigrams; a good relevance signal and the
  relaxed "related results" match), and
- as ``<field>.chars`` with one token per Chinese character, searched with the
  ``zh_synonyms`` synonym_graph filter. A term is matched as a phrase on ``.chars``: that is
  an exact substring match of any length — one-character and two-character terms included,
  which bigrams alone miss — and multi-character synonyms (番茄 ⇄ 西红柿) work, because the
  synonym graph is built from per-character tokens.

Text is sent as arrays of runs (``search.text.runs``), so a phrase never spans two runs,
as on the database backend. The synonym rules come from ``search/synonyms.txt`` and are put
inline into the template (a cluster cannot read our repository); after editing the file,
``flask search reindex``. Queries also carry each term's synonym variants, so both backends
expand in exactly the same way and highlight the same words.

Not verified against a live cluster in this repository's CI (none can run here): the tests
check the requests this module sends and its handling of realistic responses at the HTTP
boundary, and the shared backend suite runs against a real cluster when ELASTICSEARCH_URL
is set.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from search import text as tx
from search.backends.base import (
    FIELD_WEIGHTS,
    KEY_COUNTY_BOOST,
    PRICE_BANDS,
    URGENT_SALE_BOOST,
    ApplyOutcome,
    BackendPage,
    RawFacets,
    SearchBackend,
    SearchQuery,
)
from search.documents import IndexDocument, iter_documents
from search.errors import SearchUnavailable, invalid_cursor

log = logging.getLogger(__name__)

TEXT_FIELDS = {"name": "name", "category": "category_text", "origin": "origin_text", "extra": "extra_text"}
_TEXT = {
    "type": "text",
    "analyzer": "cjk",
    "copy_to": "all_text",
    "fields": {"chars": {"type": "text", "analyzer": "zh_chars", "search_analyzer": "zh_chars_synonyms"}},
}


def index_template(prefix: str) -> dict[str, Any]:
    """The body of ``PUT _index_template/<prefix>-products``."""
    return {
        "index_patterns": [f"{prefix}-products-*"],
        "priority": 100,
        "template": {
            "settings": {
                "number_of_shards": 1,
                "analysis": {
                    "filter": {
                        "zh_synonyms": {"type": "synonym_graph", "synonyms": tx.synonym_lines(), "lenient": False},
                    },
                    "analyzer": {
                        "zh_chars": {"type": "custom", "tokenizer": "standard", "filter": ["cjk_width", "lowercase"]},
                        "zh_chars_synonyms": {
                            "type": "custom", "tokenizer": "standard",
                            "filter": ["cjk_width", "lowercase", "zh_synonyms"],
                        },
                    },
                },
            },
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "product_id": {"type": "long"},
                    "display_name": {"type": "keyword"},
                    **{field: dict(_TEXT) for field in TEXT_FIELDS.values()},
                    "all_text": {"type": "text", "analyzer": "cjk"},
                    "category_id": {"type": "integer"},
                    "category_path_ids": {"type": "integer"},
                    "category_names": {"type": "keyword"},
                    "province_id": {"type": "integer"},
                    "city_id": {"type": "integer"},
                    "county_id": {"type": "integer"},
                    "origin_names": {"type": "keyword"},
                    "supplier_id": {"type": "integer"},
                    "supplier_type": {"type": "keyword"},
                    "certifications": {"type": "keyword"},
                    "price_fen": {"type": "long"},
                    "stock": {"type": "integer"},
                    "sold_quantity": {"type": "integer"},
                    "harvest_months": {"type": "byte"},
                    "is_key_assistance_county": {"type": "boolean"},
                    "is_urgent_sale": {"type": "boolean"},
                    "listed_at": {"type": "date"},
                    "fingerprint": {"type": "keyword", "index": False},
                },
            },
        },
        "_meta": {"managed_by": "search.backends.elasticsearch"},
    }


def es_document(doc: IndexDocument) -> dict[str, Any]:
    """The ``_source`` of a product's document."""
    return {
        "product_id": doc.product_id,
        "display_name": doc.name,
        "name": tx.runs(doc.name),
        "category_text": tx.runs(doc.category_text),
        "origin_text": tx.runs(doc.origin_text),
        "extra_text": tx.runs(doc.extra_text),
        "category_id": doc.category_id,
        "category_path_ids": doc.category_path_ids,
        "category_names": doc.category_names,
        "province_id": doc.province_id,
        "city_id": doc.city_id,
        "county_id": doc.county_id,
        "origin_names": doc.origin_names,
        "supplier_id": doc.supplier_id,
        "supplier_type": doc.supplier_type,
        "certifications": doc.certifications,
        "price_fen": doc.price_fen,
        "stock": doc.stock,
        "sold_quantity": doc.sold_quantity,
        "harvest_months": doc.harvest_months,
        "is_key_assistance_county": doc.is_key_assistance_county,
        "is_urgent_sale": doc.is_urgent_sale,
        "listed_at": doc.listed_at,
        "fingerprint": doc.fingerprint,
    }


_SORTS: dict[str, list[dict]] = {
    "relevance": [{"_score": "desc"}, {"sold_quantity": "desc"}, {"product_id": "desc"}],
    "price_asc": [{"price_fen": "asc"}, {"product_id": "asc"}],
    "price_desc": [{"price_fen": "desc"}, {"product_id": "desc"}],
    "newest": [{"listed_at": {"order": "desc", "missing": "_last"}}, {"product_id": "desc"}],
    "sales": [{"sold_quantity": "desc"}, {"product_id": "desc"}],
}


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, url: str, prefix: str, *, refresh: bool | str = False, timeout: float = 10.0):
        self.url = url
        self.prefix = prefix
        self.alias = f"{prefix}-products"
        self.refresh = refresh
        # No retries inside the client: the outbox and Celery retry, and a request never hangs on a dead node.
        self.client = Elasticsearch(url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)

    # --- reading --------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> BackendPage:
        body: dict[str, Any] = {
            "size": query.size + 1,
            "track_total_hits": True,
            "_source": False,
            "query": self._scored(query),
            "sort": _SORTS[query.sort],
            "aggs": self._aggs(query),
        }
        if query.after is not None:
            body["search_after"] = self._check_after(query)
        try:
            with self._errors():
                response = self.client.search(index=self.alias, **body)
        except NotFoundError:
            log.warning("search: the Elasticsearch alias %s does not exist yet; run `flask search reindex`",
                        self.alias)
            return BackendPage(ids=[], scores=[], total=0, facets=RawFacets(), next_after=None)
        hits = response["hits"]["hits"]
        more = len(hits) > query.size
        hits = hits[: query.size]
        return BackendPage(
            ids=[int(h["_id"]) for h in hits],
            scores=[float(h["_score"] or 0) for h in hits],
            total=int(response["hits"]["total"]["value"]),
            facets=_facets(response.get("aggregations", {})),
            next_after=tuple(hits[-1]["sort"]) if more and hits else None,
        )

    def related(self, query: SearchQuery, limit: int) -> list[int]:
        words = " ".join(v for term in query.terms for v in term.variants)
        if not words:
            return []
        body = {
            "size": limit,
            "_source": False,
            "query": {"bool": {
                "must": [{"match": {"all_text": {"query": words, "minimum_should_match": "30%"}}}],
                "filter": self._filters(query),
            }},
            "sort": [{"_score": "desc"}, {"sold_quantity": "desc"}, {"product_id": "desc"}],
        }
        try:
            with self._errors():
                response = self.client.search(index=self.alias, **body)
        except NotFoundError:
            return []
        return [int(h["_id"]) for h in response["hits"]["hits"]]

    def suggest(self, terms: tuple[tx.Term, ...], limit: int) -> dict[str, list[str]]:
        if not terms:
            return {"product": [], "place": []}
        first = "|".join(re.escape(v) for v in terms[0].variants)
        body = {
            "size": limit * 4,
            "_source": ["display_name"],
            "query": {"bool": {"filter": [self._term_match(t, "name") for t in terms]}},
            "sort": [{"sold_quantity": "desc"}, {"product_id": "desc"}],
            "aggs": {"places": {
                "filter": {"bool": {"filter": [self._term_match(t, "origin") for t in terms]}},
                "aggs": {"names": {"terms": {"field": "origin_names", "size": limit, "include": f".*({first}).*"}}},
            }},
        }
        try:
            with self._errors():
                response = self.client.search(index=self.alias, **body)
        except NotFoundError:
            return {"product": [], "place": []}
        names = [h["_source"]["display_name"] for h in response["hits"]["hits"]]
        places = [b["key"] for b in response["aggregations"]["places"]["names"]["buckets"]]
        return {"product": list(dict.fromkeys(names))[:limit], "place": places}

    # --- writing --------------------------------------------------------------------------

    def apply(self, session: Session, changes: list[tuple[int, IndexDocument | None]]) -> ApplyOutcome:
        self.ensure_index()
        operations: list[dict] = []
        for product_id, doc in changes:  # a bulk request is applied in order
            if doc is None:
                operations.append({"delete": {"_index": self.alias, "_id": str(product_id)}})
            else:
                operations.append({"index": {"_index": self.alias, "_id": str(product_id)}})
                operations.append(es_document(doc))
        if not operations:
            return ApplyOutcome()
        return self._bulk(operations)

    def rebuild(self, session: Session, progress=None) -> int:
        """New index from the template, filled from the database, then the alias swapped to it."""
        with self._errors():
            self.client.indices.put_index_template(name=self.alias, **index_template(self.prefix))
            new = f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
            # No refreshes while loading; the template's settings apply otherwise.
            self.client.indices.create(index=new, settings={"refresh_interval": "-1"})
        count = 0
        old: list[str] = []
        try:
            for batch in iter_documents(session):
                operations: list[dict] = []
                for doc in batch:
                    operations.append({"index": {"_index": new, "_id": str(doc.product_id)}})
                    operations.append(es_document(doc))
                if operations:
                    outcome = self._bulk(operations, refresh=False)
                    if outcome.failed:
                        raise SearchUnavailable(_("The new search index refused %(n)d products.",
                                                  n=len(outcome.failed)), details=outcome.failed)
                count += len(batch)
                if progress:
                    progress(count)
            with self._errors():
                self.client.indices.put_settings(index=new, settings={"index": {"refresh_interval": None}})
                self.client.indices.refresh(index=new)
                old = self._alias_targets()
                actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
                actions.append({"add": {"index": new, "alias": self.alias}})
                self.client.indices.update_aliases(actions=actions)
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.indices.delete(index=new)
            raise
        for name in old:
            try:
                self.client.indices.delete(index=name)
            except (ApiError, TransportError):  # the swap is done; a leftover index is only disk space
                log.warning("search: could not delete the old index %s", name, exc_info=True)
        return count

    def fingerprints(self, session: Session) -> dict[int, str]:
        found: dict[int, str] = {}
        after = None
        while True:
            body: dict[str, Any] = {"size": 1000, "_source": ["fingerprint"], "query": {"match_all": {}},
                                    "sort": [{"product_id": "asc"}], "track_total_hits": False}
            if after is not None:
                body["search_after"] = after
            try:
                with self._errors():
                    hits = self.client.search(index=self.alias, **body)["hits"]["hits"]
            except NotFoundError:
                return {}
            if not hits:
                return found
            for hit in hits:
                found[int(hit["_id"])] = hit["_source"].get("fingerprint", "")
            after = hits[-1]["sort"]

    def check(self) -> dict[str, Any]:
        with self._errors():
            targets = self._alias_targets()
        return {"backend": self.name, "index": targets[0] if targets else None}

    # --- helpers --------------------------------------------------------------------------

    def ensure_index(self) -> None:
        """Create the template, a first index and the alias when the cluster has none yet."""
        with self._errors():
            if self.client.indices.exists_alias(name=self.alias):
                return
            self.client.indices.put_index_template(name=self.alias, **index_template(self.prefix))
            new = f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
            self.client.indices.create(index=new, aliases={self.alias: {}})

    def _alias_targets(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def _bulk(self, operations: list[dict], refresh: bool | str | None = None) -> ApplyOutcome:
        with self._errors():
            response = self.client.bulk(operations=operations,
                                        refresh=self.refresh if refresh is None else refresh)
        outcome = ApplyOutcome()
        if not response.get("errors"):
            return outcome
        for item in response["items"]:
            action, result = next(iter(item.items()))
            status = int(result.get("status", 500))
            if status < 300 or (action == "delete" and status == 404):
                continue
            if status == 429 or status >= 500:
                raise SearchUnavailable(_("Search is temporarily unavailable. Please try again in a minute."))
            reason = result.get("error", {})
            outcome.failed[int(result["_id"])] = str(reason.get("reason") if isinstance(reason, dict) else reason)[:500]
        return outcome

    @contextlib.contextmanager
    def _errors(self):
        """Engine errors become SearchUnavailable (a 503 with a plain message); 404s pass through."""
        try:
            yield
        except NotFoundError:
            raise
        except (ApiError, TransportError) as exc:
            log.warning("search: Elasticsearch request failed: %s", exc)
            raise SearchUnavailable(_("Search is temporarily unavailable. Please try again in a minute.")) from exc

    def _term_match(self, term: tx.Term, segment: str) -> dict:
        field = TEXT_FIELDS[segment]
        return {"bool": {"should": [{"match_phrase": {f"{field}.chars": v}} for v in term.variants],
                         "minimum_should_match": 1}}

    def _scored(self, query: SearchQuery) -> dict:
        must: list[dict] = []
        for term in query.terms:
            must.append({"dis_max": {"queries": [
                {"constant_score": {"filter": self._term_match(term, segment), "boost": FIELD_WEIGHTS[segment]}}
                for segment in TEXT_FIELDS
            ]}})
        if not must:
            must.append({"match_all": {}})
        return {"function_score": {
            "query": {"bool": {"must": must, "filter": self._filters(query)}},
            "functions": [
                {"filter": {"term": {"is_key_assistance_county": True}}, "weight": KEY_COUNTY_BOOST},
                {"filter": {"term": {"is_urgent_sale": True}}, "weight": URGENT_SALE_BOOST},
            ],
            "score_mode": "multiply",
            "boost_mode": "multiply",
        }}

    @staticmethod
    def _filters(query: SearchQuery) -> list[dict]:
        filters: list[dict] = []
        if query.category_ids is not None:
            filters.append({"terms": {"category_id": list(query.category_ids)}})
        if query.county_ids is not None:
            filters.append({"terms": {"county_id": list(query.county_ids)}})
        if query.certification:
            filters.append({"term": {"certifications": query.certification}})
        if query.price_band:
            _, low, high = next(b for b in PRICE_BANDS if b[0] == query.price_band)
            bounds = {"gte": low} | ({"lt": high} if high is not None else {})
            filters.append({"range": {"price_fen": bounds}})
        if query.supplier_type:
            filters.append({"term": {"supplier_type": query.supplier_type}})
        if query.in_season:
            filters.append({"term": {"harvest_months": query.month}})
        if query.key_county:
            filters.append({"term": {"is_key_assistance_county": True}})
        if query.urgent_sale:
            filters.append({"term": {"is_urgent_sale": True}})
        return filters

    @staticmethod
    def _aggs(query: SearchQuery) -> dict:
        ranges = [{"key": key, "from": low} | ({"to": high} if high is not None else {})
                  for key, low, high in PRICE_BANDS]
        return {
            "category": {"terms": {"field": "category_id", "size": 1000}},
            "county": {"terms": {"field": "county_id", "size": 2000}},
            "certification": {"terms": {"field": "certifications", "size": 20}},
            "supplier_type": {"terms": {"field": "supplier_type", "size": 20}},
            "price_band": {"range": {"field": "price_fen", "keyed": True, "ranges": ranges}},
            "in_season": {"filter": {"term": {"harvest_months": query.month}}},
            "key_county": {"filter": {"term": {"is_key_assistance_county": True}}},
            "urgent_sale": {"filter": {"term": {"is_urgent_sale": True}}},
        }

    @staticmethod
    def _check_after(query: SearchQuery) -> list:
        after = query.after
        size = 3 if query.sort == "relevance" else 2
        if not isinstance(after, tuple | list) or len(after) != size:
            raise invalid_cursor()
        for value in after:
            if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 2**62:
                raise invalid_cursor()
        return list(after)


def _facets(aggs: dict) -> RawFacets:
    def buckets(name: str) -> dict:
        return {b["key"]: int(b["doc_count"]) for b in aggs.get(name, {}).get("buckets", [])}

    bands = aggs.get("price_band", {}).get("buckets", {})
    return RawFacets(
        category={int(k): v for k, v in buckets("category").items()},
        county={int(k): v for k, v in buckets("county").items()},
        certification={str(k): v for k, v in buckets("certification").items()},
        supplier_type={str(k): v for k, v in buckets("supplier_type").items()},
        price_band={key: int(b["doc_count"]) for key, b in bands.items() if b.get("doc_count")},
        in_season=int(aggs.get("in_season", {}).get("doc_count", 0)),
        key_county=int(aggs.get("key_county", {}).get("doc_count", 0)),
        urgent_sale=int(aggs.get("urgent_sale", {}).get("doc_count", 0)),
    )
