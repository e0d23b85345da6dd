"""Search's own tables: the transactional outbox, the database backend's documents, the index lease.

Objects the migration creates by hand, outside these models, are listed in
``UNMANAGED_OBJECTS`` so that autogenerate and the drift test leave them alone:

- SQLite: the FTS5 table ``search_fts`` (rowid = product id, one column of gram tokens,
  see ``search.text.fts_text``) and the shadow tables FTS5 keeps beside it;
- PostgreSQL: ``pg_trgm`` and two GIN indexes on ``search_document`` — trigrams of
  ``all_text`` (substrings of three characters or more) and the gram array
  ``string_to_array(grams, ' ')`` (one- and two-character terms, which trigrams cannot serve).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

UNMANAGED_OBJECTS = frozenset({
    "search_fts", "search_fts_data", "search_fts_idx", "search_fts_content", "search_fts_docsize",
    "search_fts_config", "ix_search_document_all_text_trgm", "ix_search_document_grams_gin",
})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object``: skip database objects that migrations made outside the models."""
    return not (reflected and compare_to is None and name in UNMANAGED_OBJECTS)


# Read by migrations/env.py and the drift test (tests/core/test_migrations.py), so that both
# use this one filter without importing a domain package.
db.metadata.info["include_object"] = include_object

# SQLite only turns INTEGER PRIMARY KEY into an auto-incrementing rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class SearchOutbox(db.Model):
    """A product whose index entry must be rewritten, recorded in the transaction that changed it.

    Rows are written by session events (``search.outbox``) and deleted by the drain once the
    active backend has the product's current state. Rows that a backend refused outright
    (not a connection error: a document it rejects) count ``attempts`` and keep the error.
    """

    __tablename__ = "search_outbox"
    __table_args__ = (sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(index=True)  # no foreign key: deleted products must be unindexed
    reason: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.String(500))


class SearchDocument(db.Model):
    """The database backend's index entry of a product on sale: normalised text, grams, fingerprint.

    Text columns hold a product's runs (``search.text.runs``) joined by spaces, so that a
    ``LIKE '%term%'`` never spans two runs. Facts (price, stock, status, facets) are not
    copied: the backend reads them live from the shop's tables.
    """

    __tablename__ = "search_document"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    name_text: Mapped[str] = mapped_column(sa.Text)
    category_text: Mapped[str] = mapped_column(sa.Text)
    origin_text: Mapped[str] = mapped_column(sa.Text)
    extra_text: Mapped[str] = mapped_column(sa.Text)  # supplier, specification, description
    all_text: Mapped[str] = mapped_column(sa.Text)
    grams: Mapped[str] = mapped_column(sa.Text)  # distinct unigrams and bigrams, space separated
    fingerprint: Mapped[str] = mapped_column(sa.String(40))
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SearchLease(db.Model):
    """One named lease: whoever holds it drains the outbox or rebuilds the index, nobody else.

    A lease rather than a lock, so it works the same on SQLite and PostgreSQL and expires by
    itself when a worker dies holding it.
    """

    __tablename__ = "search_lease"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(64))
    expires_at: Mapped[datetime | None]
