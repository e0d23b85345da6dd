"""The database backend: the embedded default when no Elasticsearch is configured.

What it stores and what it reads live
    Text is matched against ``search_document`` (one row per product on sale: normalised
    text segments and grams), which is derived data kept true by the outbox drain like an
    Elasticsearch index. Everything else — on sale or not, price, stock, sales, origin flags,
    certifications — is read live from the shop's tables in the same query, so a delisted
    product disappears and a new price shows the moment the shop commits, drain or no drain.
    A product whose text has not been indexed yet is found by filters but not by words.

How a term is found (exactly, as a substring of one run — see ``search.text``)
    SQLite   the FTS5 table ``search_fts``, which holds each run's bigrams in order plus its
             last character as hex tokens: a term is the phrase of its bigrams; one character
             is a token prefix. This works on the SQLite 3.40 that ships with Python, whose
             trigram tokenizer cannot answer terms shorter than three characters.
    PostgreSQL  three characters or more: ``all_text LIKE '%term%'`` on a pg_trgm GIN index;
             one or two characters (脆李, 土豆, 米): ``string_to_array(grams, ' ') @> ARRAY[term]``
             on a GIN index of every run's unigrams and bigrams. Trigrams cannot serve those.
    other    a plain ``LIKE`` scan: slow, still correct.
    Synonyms: every term is matched as itself OR any of its variants (``search.text.expand``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from core.database import UTCDateTime, utcnow
from core.extensions import db
from core.registry.models import Region
from search import text as tx
from search.backends import database_pg
from search.backends.base import (
    FIELD_WEIGHTS,
    KEY_COUNTY_TENTHS,
    PRICE_BANDS,
    URGENT_SALE_TENTHS,
    ApplyOutcome,
    BackendPage,
    RawFacets,
    SearchBackend,
    SearchQuery,
)
from search.documents import IndexDocument, iter_documents, on_sale
from search.errors import invalid_cursor
from search.models import SearchDocument
from shop.models import Certification, Product, ProductCertification, Supplier, SupplierType

RELATED_CANDIDATES = 200
# What a document says; a document whose stored columns equal these is not rewritten.
CONTENT_COLUMNS = ("name_text", "category_text", "origin_text", "extra_text", "all_text", "grams", "fingerprint")

P, S, D = Product, Supplier, SearchDocument
County = aliased(Region, name="origin_county")


class DatabaseBackend(SearchBackend):
    name = "database"

    # --- reading --------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> BackendPage:
        if db.session.get_bind().dialect.name == "postgresql":
            return database_pg.search(self, query)
        return self.search_in_three_statements(query)

    def search_in_three_statements(self, query: SearchQuery) -> BackendPage:
        """The page, the facet counts and the certification counts, each finding the match again."""
        session = db.session
        where = self._where(query)
        score = self._score(query)
        keys = self._sort_keys(query.sort, score)
        stmt = self._from(sa.select(P.id, score.label("score"), *[k for k, _ in keys]), query).where(*where)
        if query.after is not None:
            stmt = stmt.where(_after(keys, self._decode_after(query)))
        stmt = stmt.order_by(*[k.desc() if direction == "desc" else k.asc() for k, direction in keys])
        rows = session.execute(stmt.limit(query.size + 1)).all()
        more = len(rows) > query.size
        rows = rows[: query.size]
        facets, total = self._facets(query, where)
        next_after = _encode(rows[-1][2:]) if more and rows else None
        return BackendPage(ids=[r[0] for r in rows], scores=[float(r[1]) for r in rows], total=total,
                           facets=facets, next_after=next_after)

    def related(self, query: SearchQuery, limit: int) -> list[int]:
        wanted = {g for term in query.terms for v in term.variants for g in tx.grams(v)}
        if not wanted:
            return []
        dialect = db.session.get_bind().dialect.name
        if dialect == "sqlite":
            expr = " OR ".join(tx.fts_term(g) for g in sorted(wanted))
            shares = P.id.in_(_fts_ids(expr))
        elif dialect == "postgresql":
            shares = _grams_array().op("&&")(sa.literal(sorted(wanted), ARRAY(sa.Text)))
        else:
            shares = sa.or_(*[D.all_text.like(f"%{g}%") for g in wanted])
        stmt = (self._from(sa.select(P.id, D.grams, P.sold_quantity), query.without_text(), with_document=True)
                .where(*self._where(query.without_text()), shares)
                .order_by(P.sold_quantity.desc(), P.id.desc()).limit(RELATED_CANDIDATES))
        scored = []
        for product_id, grams, sold in db.session.execute(stmt):
            share = len(wanted & set(grams.split(" "))) / len(wanted)
            scored.append((share, sold, product_id))
        scored.sort(reverse=True)
        return [product_id for share, _, product_id in scored[:limit] if share >= 0.3]

    def suggest(self, terms: tuple[tx.Term, ...], limit: int) -> dict[str, list[str]]:
        if not terms:
            return {"product": [], "place": []}
        query = SearchQuery(terms=terms)
        where = self._where(query)
        in_names = [sa.or_(*[D.name_text.like(f"%{v}%") for v in t.variants]) for t in terms]
        names = db.session.execute(
            self._from(sa.select(P.name), query).where(*where, *in_names)
            .order_by(P.sold_quantity.desc(), P.id.desc()).limit(limit * 4)
        ).scalars()
        in_origin = [sa.or_(*[D.origin_text.like(f"%{v}%") for v in t.variants]) for t in terms]
        origins = db.session.execute(
            self._from(sa.select(D.origin_text), query).where(*where, *in_origin).limit(100)
        ).scalars()
        places: Counter[str] = Counter()
        for origin in origins:
            for run in origin.split(" "):
                if any(v in run for v in terms[0].variants):
                    places[run] += 1
        return {"product": list(dict.fromkeys(names))[:limit], "place": [p for p, _ in places.most_common(limit)]}

    # --- writing --------------------------------------------------------------------------

    def apply(self, session: Session, changes: list[tuple[int, IndexDocument | None]]) -> ApplyOutcome:
        # One transaction: the order inside it does not matter, only the final state does.
        ids = sorted({product_id for product_id, _ in changes})
        self._write(session, ids, [doc for _, doc in changes if doc is not None])
        return ApplyOutcome()

    def rebuild(self, session: Session, progress=None) -> int:
        """Bring every document up to date in one transaction: readers see the old index until it commits.

        Documents whose text is unchanged are left where they are: rewriting all of them on
        PostgreSQL left a dead copy of every row (and its GIN entries) behind each rebuild, and
        searches then walked five times the pages they needed until a vacuum ran.
        """
        count = 0
        seen: set[int] = set()
        for batch in iter_documents(session):
            ids = [doc.product_id for doc in batch]
            self._write(session, ids, batch)
            seen.update(ids)
            count += len(batch)
            if progress:
                progress(count)
        gone = sorted(set(session.execute(sa.select(D.product_id)).scalars()) - seen)
        for start in range(0, len(gone), 1000):
            self._write(session, gone[start : start + 1000], [])
        if session.get_bind().dialect.name == "sqlite":
            # Rows of products that have no document any more (nothing else may be left in search_fts).
            session.execute(sa.text("DELETE FROM search_fts WHERE rowid NOT IN "
                                    "(SELECT product_id FROM search_document)"))
        return count

    def fingerprints(self, session: Session) -> dict[int, str]:
        return dict(session.execute(sa.select(D.product_id, D.fingerprint)).all())

    @staticmethod
    def expected_fingerprint(doc: IndexDocument) -> str:
        return doc.text_fingerprint()

    def check(self) -> dict[str, Any]:
        db.session.execute(sa.select(D.product_id).limit(1)).all()
        return {"backend": self.name, "dialect": db.session.get_bind().dialect.name}

    def _write(self, session: Session, ids: list[int], docs: list[IndexDocument]) -> None:
        """Make the documents of ``ids`` what ``docs`` say (no document: none), touching only rows that differ."""
        if not ids:
            return
        now = utcnow()
        wanted = {doc.product_id: (doc, _row(doc, now)) for doc in docs}
        current = {r.product_id: tuple(r[1:]) for r in session.execute(
            sa.select(D.product_id, *[D.__table__.c[name] for name in CONTENT_COLUMNS]).where(D.product_id.in_(ids))
        )}
        same = {pid for pid, (_, row) in wanted.items()
                if current.get(pid) == tuple(row[name] for name in CONTENT_COLUMNS)}
        stale = [pid for pid in ids if pid in current and pid not in same]
        if stale:
            session.execute(sa.delete(SearchDocument.__table__).where(SearchDocument.product_id.in_(stale)))
        fresh = [pair for pid, pair in wanted.items() if pid not in same]
        if not fresh and not stale:
            return
        sqlite = session.get_bind().dialect.name == "sqlite"
        if sqlite:
            session.execute(sa.text("DELETE FROM search_fts WHERE rowid IN (SELECT value FROM json_each(:ids))"),
                            {"ids": _json_ids(stale + [doc.product_id for doc, _ in fresh])})
        if fresh:
            session.execute(sa.insert(SearchDocument.__table__), [row for _, row in fresh])
        if sqlite and fresh:
            session.execute(
                sa.text("INSERT INTO search_fts (rowid, grams) VALUES (:id, :grams)"),
                [{"id": doc.product_id,
                  "grams": tx.fts_text([doc.name, doc.category_text, doc.origin_text, doc.extra_text])}
                 for doc, _ in fresh],
            )

    # --- query building -------------------------------------------------------------------

    def _from(self, stmt: sa.Select, query: SearchQuery, *, with_document: bool = False) -> sa.Select:
        stmt = stmt.select_from(P).join(S, S.id == P.supplier_id).join(County, County.id == P.origin_county_id)
        if query.terms or with_document:
            stmt = stmt.join(D, D.product_id == P.id)
        return stmt

    def _where(self, query: SearchQuery) -> list[sa.ColumnElement[bool]]:
        where: list[sa.ColumnElement[bool]] = [on_sale()]
        if query.terms:
            where.append(self._text_match(query.terms))
        if query.category_ids is not None:
            where.append(P.category_id.in_(query.category_ids))
        if query.county_ids is not None:
            where.append(P.origin_county_id.in_(query.county_ids))
        if query.certification:
            where.append(sa.exists().where(ProductCertification.product_id == P.id,
                                           ProductCertification.kind == Certification(query.certification)))
        if query.price_band:
            _, low, high = next(b for b in PRICE_BANDS if b[0] == query.price_band)
            where.append(P.price_fen >= low)
            if high is not None:
                where.append(P.price_fen < high)
        if query.supplier_type:
            where.append(S.type == SupplierType(query.supplier_type))
        if query.in_season:
            where.append(_in_season(query.month))
        if query.key_county:
            where.append(County.is_key_assistance_county)
        if query.urgent_sale:
            where.append(P.is_urgent_sale)
        return where

    def _text_match(self, terms: tuple[tx.Term, ...]) -> sa.ColumnElement[bool]:
        dialect = db.session.get_bind().dialect.name
        if dialect == "sqlite":
            expr = " AND ".join("(" + " OR ".join(tx.fts_term(v) for v in t.variants) + ")" for t in terms)
            return P.id.in_(_fts_ids(expr))
        if dialect == "postgresql":
            return sa.and_(*[sa.or_(*[_pg_contains(v) for v in t.variants]) for t in terms])
        return sa.and_(*[sa.or_(*[D.all_text.like(f"%{v}%") for v in t.variants]) for t in terms])

    def _score(self, query: SearchQuery) -> sa.ColumnElement[int]:
        if query.terms:
            text_score = sum(
                (sa.case(
                    (_any_like(D.name_text, t), FIELD_WEIGHTS["name"]),
                    (_any_like(D.category_text, t), FIELD_WEIGHTS["category"]),
                    (_any_like(D.origin_text, t), FIELD_WEIGHTS["origin"]),
                    else_=FIELD_WEIGHTS["extra"],
                ) for t in query.terms),
                start=sa.literal(0),
            )
        else:
            text_score = sa.literal(1)
        boost = ((10 + sa.case((County.is_key_assistance_county, KEY_COUNTY_TENTHS), else_=0))
                 * (10 + sa.case((P.is_urgent_sale, URGENT_SALE_TENTHS), else_=0)))
        return text_score * boost

    @staticmethod
    def _sort_keys(sort: str, score) -> list[tuple[sa.ColumnElement, str]]:
        if sort == "price_asc":
            return [(P.price_fen, "asc"), (P.id, "asc")]
        if sort == "price_desc":
            return [(P.price_fen, "desc"), (P.id, "desc")]
        if sort == "newest":
            return [(sa.func.coalesce(P.listed_at, P.created_at), "desc"), (P.id, "desc")]
        if sort == "sales":
            return [(P.sold_quantity, "desc"), (P.id, "desc")]
        return [(score, "desc"), (P.sold_quantity, "desc"), (P.id, "desc")]

    @staticmethod
    def _decode_after(query: SearchQuery) -> tuple:
        after = query.after
        size = 3 if query.sort == "relevance" else 2
        if not isinstance(after, tuple | list) or len(after) != size:
            raise invalid_cursor()
        values = list(after)
        if query.sort == "newest":
            try:
                values[0] = datetime.fromisoformat(values[0])
            except (TypeError, ValueError) as exc:
                raise invalid_cursor() from exc
            if values[0].tzinfo is None:
                raise invalid_cursor()
            rest = values[1:]
        else:
            rest = values
        # Every key is an INTEGER column (or a small product of them): a value outside 32 bits was never handed out.
        if not all(isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31 for v in rest):
            raise invalid_cursor()
        return tuple(values)

    def _facets(self, query: SearchQuery, where) -> tuple[RawFacets, int]:
        band = sa.case(*[((P.price_fen < high), key) for key, _, high in PRICE_BANDS if high is not None],
                       else_=PRICE_BANDS[-1][0])
        season = sa.func.sum(sa.case((_in_season(query.month), 1), else_=0))
        key = sa.func.sum(sa.case((County.is_key_assistance_county, 1), else_=0))
        urgent = sa.func.sum(sa.case((P.is_urgent_sale, 1), else_=0))
        stmt = (self._from(sa.select(P.category_id, P.origin_county_id, S.type, band, sa.func.count(),
                                     season, key, urgent), query)
                .where(*where).group_by(P.category_id, P.origin_county_id, S.type, band))
        facets = RawFacets()
        total = 0
        for category_id, county_id, supplier_type, price_band, n, in_season, in_key, in_urgent in db.session.execute(
            stmt
        ):
            total += n
            facets.category[category_id] = facets.category.get(category_id, 0) + n
            facets.county[county_id] = facets.county.get(county_id, 0) + n
            type_value = getattr(supplier_type, "value", supplier_type)
            facets.supplier_type[type_value] = facets.supplier_type.get(type_value, 0) + n
            facets.price_band[price_band] = facets.price_band.get(price_band, 0) + n
            facets.in_season += int(in_season or 0)
            facets.key_county += int(in_key or 0)
            facets.urgent_sale += int(in_urgent or 0)
        if total:
            ids = self._from(sa.select(P.id), query).where(*where)
            for kind, n in db.session.execute(
                sa.select(ProductCertification.kind, sa.func.count())
                .where(ProductCertification.product_id.in_(ids)).group_by(ProductCertification.kind)
            ):
                facets.certification[getattr(kind, "value", kind)] = n
        return facets, total


def _row(doc: IndexDocument, now: datetime) -> dict[str, Any]:
    segments = [doc.name, doc.category_text, doc.origin_text, doc.extra_text]
    name, category, origin, extra = (" ".join(tx.runs(s)) for s in segments)
    return {
        "product_id": doc.product_id, "name_text": name, "category_text": category, "origin_text": origin,
        "extra_text": extra, "all_text": " ".join(x for x in (name, category, origin, extra) if x),
        "grams": " ".join(tx.gram_set(segments)), "fingerprint": doc.text_fingerprint(), "indexed_at": now,
    }


def _grams_array() -> sa.ColumnElement:
    # Written exactly as the GIN index expression (a literal ' ', not a parameter) so the planner uses it.
    return sa.func.string_to_array(D.grams, sa.literal_column("' '"), type_=ARRAY(sa.Text))


def _pg_contains(variant: str) -> sa.ColumnElement[bool]:
    # Terms are runs of letters and digits, so they never contain LIKE's % _ or \.
    if len(variant) >= 3:
        return D.all_text.like(f"%{variant}%")
    return _grams_array().op("@>")(sa.literal([variant], ARRAY(sa.Text)))


def _any_like(column, term: tx.Term) -> sa.ColumnElement[bool]:
    return sa.or_(*[column.like(f"%{v}%") for v in term.variants])


def _fts_ids(expr: str):
    return sa.text("SELECT rowid FROM search_fts WHERE search_fts MATCH :fts").bindparams(fts=expr).columns(
        sa.column("rowid", sa.Integer)
    )


def _json_ids(ids: list[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


def _in_season(month: int) -> sa.ColumnElement[bool]:
    return P.harvest_months.op("&")(1 << (month - 1)) != 0


def _after(keys: list[tuple[sa.ColumnElement, str]], values: tuple) -> sa.ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys`` (keyset pagination, mixed directions)."""
    clauses = []
    for i, (key, direction) in enumerate(keys):
        value = values[i]
        if isinstance(value, datetime):
            value = sa.literal(value, UTCDateTime())
        beyond = key < value if direction == "desc" else key > value
        clauses.append(sa.and_(*[k == (sa.literal(v, UTCDateTime()) if isinstance(v, datetime) else v)
                                 for (k, _), v in zip(keys[:i], values[:i], strict=True)], beyond))
    return sa.or_(*clauses)


def _encode(values) -> tuple:
    return tuple(v.isoformat() if isinstance(v, datetime) else int(v) for v in values)
