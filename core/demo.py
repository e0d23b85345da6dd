"""The demo data framework behind ``flask demo seed``.

Each domain contributes a ``Seeder``: ``seed`` builds the realistic data set
from the seeds documents (idempotent: running it twice changes nothing), and
``scale`` adds a large synthetic data set for benchmarks. Seeders run in
``order``; they share a ``SeedContext`` to hand each other what they made.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa


@dataclass
class SeedContext:
    rng: random.Random
    password: str
    made: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each seeder's step, for the log
    # Sizes for the synthetic data (``flask demo seed --units/--lines-per-product``), read by the seeders'
    # ``scale``: buyer units with plans and procurement orders; consumer order lines per synthetic product.
    units: int | None = None
    lines_per_product: int | None = None
    _base: int | None = field(default=None, init=False, repr=False)

    def count(self, what: str, n: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def rng_for(self, part: str) -> random.Random:
        """A generator of its own for one part of the data, derived from ``rng``.

        What one part draws then never shifts what another part gets, so the
        same household, link or order comes out on every run, whatever already
        exists in the database and whatever was added to the seeds in between.
        """
        if self._base is None:
            self._base = self.rng.getrandbits(64)
        return random.Random(f"{self._base}:{part}")


@dataclass
class Seeder:
    name: str
    order: int
    seed: Callable[[SeedContext], None]
    scale: Callable[[SeedContext, int], None] | None = None
    # The demo log-ins this seeder creates: (role label, e-mail), printed at start-up.
    logins: Callable[[], list[tuple[str, str]]] = list
    # The order of the last seeder whose synthetic data ``scale`` reads, when that is an earlier one
    # than the seeder just before it: with ``parallel`` the step then runs on its own connection beside
    # the steps in between.
    scale_reads_up_to: int | None = None


def upsert(model: type, key: dict[str, Any], values: dict[str, Any], *,
           on_create: dict[str, Any] | None = None) -> tuple[Any, bool]:
    """Find a row by its natural ``key``; create it, or bring ``values`` up to date. Returns (row, created).

    ``on_create`` holds what is set only once: dates relative to today, opening
    stock. Rewriting those on every run would change the data from one day to the next.
    """
    from core.extensions import db

    row = db.session.execute(sa.select(model).filter_by(**key)).scalar_one_or_none()
    if row is None:
        row = model(**key, **values, **(on_create or {}))
        db.session.add(row)
        db.session.flush()
        return row, True
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    return row, False


def run_seeders(seeders: list[Seeder], ctx: SeedContext, *, scale: int | None = None, parallel: bool = False) -> None:
    """Seed, then (with ``scale``) add the synthetic data, each step committed on its own.

    ``parallel`` (the command line on PostgreSQL) starts a synthetic step whose ``scale_reads_up_to``
    is already done in a second thread with its own session: on two cores the search documents are
    built while the database writes the benefit attributions.
    """
    from flask import current_app

    from core.extensions import db

    def timed(step: str, work: Callable[..., None], *args) -> None:
        started = time.perf_counter()
        work(*args)
        db.session.commit()
        ctx.seconds[step] = time.perf_counter() - started

    def beside(app, seeder: Seeder) -> None:
        with app.app_context():
            try:
                timed(f"{seeder.name} (synthetic, alongside)", seeder.scale, ctx, scale)
            finally:
                db.session.remove()

    ordered = sorted(seeders, key=lambda s: s.order)
    for seeder in ordered:
        timed(seeder.name, seeder.seed, ctx)
    if not scale:
        return
    steps = [s for s in ordered if s.scale is not None]
    done = -1  # the order of the last synthetic step finished
    with ThreadPoolExecutor(max_workers=1) as pool:
        started: dict[str, Future] = {}
        for seeder in steps:
            if parallel:
                for other in steps:
                    if (other.name not in started and other.scale_reads_up_to is not None
                            and other.order > seeder.order and other.scale_reads_up_to <= done):
                        started[other.name] = pool.submit(beside, current_app._get_current_object(), other)
            if seeder.name in started:
                continue
            timed(f"{seeder.name} (synthetic)", seeder.scale, ctx, scale)
            done = seeder.order
        for future in started.values():
            future.result()  # a failure beside the main thread fails the seed
