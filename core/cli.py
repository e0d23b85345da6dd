"""Command-line commands: ``flask demo ...``, ``flask registry ...``, ``flask users ...``."""

from __future__ import annotations

import random
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.demo import SeedContext, run_seeders
from core.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")
registry_cli = AppGroup("registry", help="Regions and households.")
users_cli = AppGroup("users", help="Accounts.")


@demo_cli.command("seed")
@click.option("--scale", type=click.IntRange(min=1), default=None,
              help="Also generate N synthetic products with about 10 order lines each over a year.")
@click.option("--units", type=click.IntRange(min=1), default=None,
              help="With --scale: also N synthetic buyer units with this year's plans and about 100 accepted "
                   "procurement order lines each (the completion dashboard's benchmark).")
@click.option("--lines-per-product", type=click.IntRange(min=1), default=None,
              help="With --scale: consumer order lines per synthetic product (default 10); a larger figure "
                   "adds the difference to products already there.")
@click.option("--random-seed", type=int, default=20260701, show_default=True)
def demo_seed(scale: int | None, units: int | None, lines_per_product: int | None, random_seed: int) -> None:
    """Build the demo data set (idempotent)."""
    from core.demo_core import CORE_SEEDER

    if scale is None and (units or lines_per_product):
        raise click.UsageError("--units and --lines-per-product size the synthetic data: give --scale too.")
    started = time.perf_counter()
    ctx = SeedContext(rng=random.Random(random_seed), password=current_app.config["DEMO_PASSWORD"],
                      units=units, lines_per_product=lines_per_product)
    # Steps run side by side only on PostgreSQL (SQLite takes one writer at a time) and outside tests
    # (whose seed runs inside one transaction on one connection).
    parallel = db.engine.dialect.name == "postgresql" and not current_app.testing
    run_seeders([CORE_SEEDER, *current_app.extensions["demo_seeders"]], ctx, scale=scale, parallel=parallel)
    elapsed = time.perf_counter() - started
    for what, n in sorted(ctx.counts.items()):
        click.echo(f"  {what}: {n}")
    click.echo("time per step: " + ", ".join(f"{step} {seconds:.1f}s" for step, seconds in ctx.seconds.items()))
    click.echo(f"demo seed finished in {elapsed:.1f}s")
    print_logins()


@demo_cli.command("logins")
def demo_logins() -> None:
    """Print the demo log-ins."""
    print_logins()


def print_logins() -> None:
    from core.demo_core import CORE_SEEDER

    seeders = sorted([CORE_SEEDER, *current_app.extensions["demo_seeders"]], key=lambda s: s.order)
    click.echo(f"Demo log-ins (password for all: {current_app.config['DEMO_PASSWORD']})")
    for seeder in seeders:
        for label, email in seeder.logins():
            click.echo(f"  {label:<32} {email}")


@registry_cli.command("import")
@click.argument("kind", type=click.Choice(["regions", "households"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all-or-nothing", is_flag=True, help="Write nothing if any row is invalid.")
def registry_import(kind: str, path: Path, all_or_nothing: bool) -> None:
    """Import regions or households from a CSV or XLSX file."""
    from core.registry import imports

    importer = imports.import_households if kind == "households" else imports.import_regions
    result = importer(path.name, path.read_bytes(), all_or_nothing=all_or_nothing)
    if result.written:
        db.session.commit()
    else:
        db.session.rollback()
    click.echo(f"created {result.created}, updated {result.updated}, rejected {len(result.errors)}"
               + ("" if result.written else " — nothing written"))
    for err in result.errors:
        click.echo(f"  line {err.line}: {err.message}")
    if result.errors:
        raise SystemExit(1)


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role")
@click.option("--region-code", default=None, help="Region code, for a regional administrator.")
@click.option("--reason", required=True)
def users_set_role(email: str, role: str, region_code: str | None, reason: str) -> None:
    """Change an account's role (audited)."""
    import sqlalchemy as sa

    from core.accounts import services
    from core.permissions import Role
    from core.registry.models import Region

    user = services.find_by_email(email)
    if user is None:
        raise click.ClickException("no such account")
    region_id = None
    if region_code:
        region_id = db.session.execute(sa.select(Region.id).where(Region.code == region_code)).scalar_one_or_none()
        if region_id is None:
            raise click.ClickException("no such region")
    services.change_role(user, Role(role), region_id, reason)
    db.session.commit()
    click.echo(f"{email} is now {role}")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(registry_cli)
    app.cli.add_command(users_cli)
