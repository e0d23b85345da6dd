"""``flask search reindex | status | drain``."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from search import indexing
from search.backends import get_backend

search_cli = AppGroup("search", help="Product search index.")


def _ids(ids: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f" … (+{len(ids) - limit})" if len(ids) > limit else "")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the index from the database and make it live at once (searching keeps working)."""
    backend = get_backend()
    started = time.perf_counter()
    click.echo(f"rebuilding the {backend.name} search index …")
    count = indexing.reindex(backend=backend, progress=lambda n: click.echo(f"  {n} products", nl=True)
                             if n % 5000 == 0 else None)
    click.echo(f"indexed {count} products in {time.perf_counter() - started:.1f}s; the new index is live")


@search_cli.command("status")
@click.option("--fix", is_flag=True, help="Queue every drifted product for re-indexing.")
def status(fix: bool) -> None:
    """Compare the index with the database and report drift (exit status 1 when there is any)."""
    result = indexing.index_status()
    drift = result.drift
    click.echo(f"backend: {result.backend}")
    click.echo(f"products on sale: {drift.expected}; documents in the index: {drift.indexed}")
    click.echo(f"missing from the index: {len(drift.missing)} {_ids(drift.missing)}")
    click.echo(f"in the index but not on sale: {len(drift.extra)} {_ids(drift.extra)}")
    click.echo(f"out of date: {len(drift.stale)} {_ids(drift.stale)}")
    oldest = f", oldest {result.oldest_pending:%Y-%m-%d %H:%M:%S} UTC" if result.oldest_pending else ""
    click.echo(f"outbox: {result.pending} changes waiting{oldest}; {len(result.catching_up)} of the drifted "
               "products are among them (catching up)")
    if result.stuck:
        click.echo(f"refused by the index {indexing.MAX_ATTEMPTS} times (not retried): {len(result.stuck)}")
        for product_id, error in list(result.stuck.items())[:20]:
            click.echo(f"  product {product_id}: {error}")
    if result.lease_holder:
        click.echo(f"lease held by {result.lease_holder} until {result.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if result.healthy:
        click.echo("the index matches the database" if not drift.drifted else "the index is catching up")
        return
    if fix:
        queued = indexing.reconcile()
        click.echo(f"queued {len(queued)} products for re-indexing")
    raise SystemExit(1)


@search_cli.command("drain")
def drain() -> None:
    """Apply every waiting outbox change now, in this process."""
    report = indexing.drain_outbox()
    if report.busy:
        click.echo("another drain or rebuild holds the lease; try again shortly")
        raise SystemExit(1)
    click.echo(f"{report.rows} outbox rows: {report.indexed} products written, {report.removed} removed, "
               f"{len(report.refused)} refused")
