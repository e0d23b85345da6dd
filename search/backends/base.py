"""The backend interface and the shapes every backend answers in.

A backend finds product ids and counts facets; the service (``search.service``) turns
ids into hits with highlights and facet counts into labelled trees, the same way for
every backend. Ranking is the same on both backends (see ``search/README.md``):

    score = text score × boost
    text score = Σ over query terms of the best field the term (or a synonym) occurs in:
                 name 100, category 40, origin (province … village) 30, other text 10
                 (1 when the query has no terms)
    boost      = 1.2 when the origin county is a key assistance county (重点帮扶县)
               × 1.3 when the product is under an open unsold warning (is_urgent_sale)

Ties go to the better-selling product, then to the newer id. The database computes the
boost in integers (×100: 100, 120, 130, 156) so that its cursors stay exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from search.documents import IndexDocument
from search.text import Term

FIELD_WEIGHTS = {"name": 100, "category": 40, "origin": 30, "extra": 10}
KEY_COUNTY_BOOST = 1.2
URGENT_SALE_BOOST = 1.3
# The same factors in tenths, for integer arithmetic: (10 + 2·key) × (10 + 3·urgent).
KEY_COUNTY_TENTHS = 2
URGENT_SALE_TENTHS = 3

# Price bands in fen: (key, lower bound inclusive, upper bound exclusive or None).
PRICE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("lt20", 0, 2_000),
    ("20-50", 2_000, 5_000),
    ("50-100", 5_000, 10_000),
    ("100-200", 10_000, 20_000),
    ("ge200", 20_000, None),
)
PRICE_BAND_KEYS = tuple(key for key, _, _ in PRICE_BANDS)

SORTS = ("relevance", "price_asc", "price_desc", "newest", "sales")


@dataclass(frozen=True)
class SearchQuery:
    """A validated search, with filters already resolved to ids by the service."""

    terms: tuple[Term, ...] = ()
    category_ids: tuple[int, ...] | None = None  # the chosen category and its descendants
    county_ids: tuple[int, ...] | None = None  # the counties under the chosen region
    certification: str | None = None
    price_band: str | None = None
    supplier_type: str | None = None
    in_season: bool = False
    key_county: bool = False
    urgent_sale: bool = False
    month: int = 1  # this month in Asia/Shanghai, for "in season"
    sort: str = "relevance"
    after: tuple | None = None  # the sort values of the last hit of the previous page
    size: int = 20

    def without_text(self) -> SearchQuery:
        return SearchQuery(**{**self.__dict__, "terms": ()})


@dataclass
class RawFacets:
    """Counts by id or value; the service adds names and rolls categories and regions up."""

    category: dict[int, int] = field(default_factory=dict)  # leaf category id → count
    county: dict[int, int] = field(default_factory=dict)  # origin county id → count
    certification: dict[str, int] = field(default_factory=dict)
    price_band: dict[str, int] = field(default_factory=dict)
    supplier_type: dict[str, int] = field(default_factory=dict)
    in_season: int = 0
    key_county: int = 0
    urgent_sale: int = 0


@dataclass
class BackendPage:
    ids: list[int]
    scores: list[float]
    total: int
    facets: RawFacets
    next_after: tuple | None  # sort values to continue after, None on the last page


@dataclass
class ApplyOutcome:
    """What a backend did with a batch of changes: ids it refused, with the reason."""

    failed: dict[int, str] = field(default_factory=dict)


@dataclass
class DriftReport:
    expected: int
    indexed: int
    missing: list[int]  # on sale, not in the index
    extra: list[int]  # in the index, not on sale
    stale: list[int]  # in both, different content

    @property
    def drifted(self) -> list[int]:
        return sorted(set(self.missing) | set(self.extra) | set(self.stale))


class SearchBackend(ABC):
    """Where product documents are kept and searched. Selected by configuration only
    (``search.backends.get_backend``): ELASTICSEARCH_URL set → Elasticsearch, else the database."""

    name: str

    @abstractmethod
    def search(self, query: SearchQuery) -> BackendPage:
        """One page of matching product ids in the query's sort order, the total and facet counts."""

    @abstractmethod
    def related(self, query: SearchQuery, limit: int) -> list[int]:
        """Products sharing some of the query's characters, for a query that found nothing."""

    @abstractmethod
    def suggest(self, terms: tuple[Term, ...], limit: int) -> dict[str, list[str]]:
        """As-you-type: ``{"product": [names], "place": [place names]}`` containing every term."""

    @abstractmethod
    def apply(self, session: Session, changes: list[tuple[int, IndexDocument | None]]) -> ApplyOutcome:
        """Write each product's document, or remove it where the document is None, in the order given;
        raise SearchUnavailable when nothing could be written.

        Runs inside the drain's transaction on ``session``; the outbox rows are deleted in
        the same transaction once this returns.
        """

    @abstractmethod
    def rebuild(self, session: Session, progress=None) -> int:
        """Build a complete new index from the database and make it live at once; return its size."""

    @abstractmethod
    def fingerprints(self, session: Session) -> dict[int, str]:
        """Product id → fingerprint of every document in the live index (for ``flask search status``)."""

    @staticmethod
    def expected_fingerprint(doc: IndexDocument) -> str:
        return doc.fingerprint

    @abstractmethod
    def check(self) -> dict[str, Any]:
        """Readiness: raise when the backend cannot serve; return details for /readyz."""


def boost_tenths(key_county: bool, urgent_sale: bool) -> int:
    """The ranking boost ×100 (100, 120, 130 or 156)."""
    return (10 + KEY_COUNTY_TENTHS * key_county) * (10 + URGENT_SALE_TENTHS * urgent_sale)
