"""``flask alerts run [--date YYYY-MM-DD]``: the early-warning job by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

alerts_cli = AppGroup("alerts", help="Early warning of unsold produce.")


@alerts_cli.command("run")
@click.option("--date", "run_on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The run's date (default: today in Asia/Shanghai). A date already run changes nothing.")
def run_command(run_on) -> None:
    from alerts import job
    from core.errors import DomainError

    try:
        outcome = job.run(run_on.date() if run_on else None)
    except DomainError as err:
        raise click.ClickException(err.message) from err
    r = outcome.run
    if not outcome.created:
        click.echo(f"alerts: {r.run_on} was already run; nothing changed")
        return
    click.echo(f"alerts: {r.run_on}: {r.products_checked} products checked, {r.opened} opened, {r.raised} raised, "
               f"{r.lowered} lowered, {r.resolved} resolved")


@alerts_cli.command("simulate")
@click.option("--products", type=click.IntRange(1, 5000), default=60, show_default=True,
              help="Products in the synthetic season (a third each leafy vegetables, fruit, grain).")
@click.option("--days", type=click.IntRange(42, 730), default=120, show_default=True,
              help="Days of orders; the job runs every day after the first 28.")
@click.option("--seed", type=int, default=7, show_default=True, help="The same seed gives the same season.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the spoilage warnings' score as one JSON object (scripts/simulate_seasons.py pools them).")
def simulate_command(products: int, days: int, seed: int, as_json: bool) -> None:
    """Measure the job on a synthetic season: precision, recall and lead time of its warnings.

    Writes the season into the configured database, which must be empty (a scratch one, after
    `flask db upgrade`): see the README.
    """
    from alerts import simulation

    if not simulation.database_is_empty():
        raise click.ClickException("the simulation writes a whole season and runs the job on it: point DATABASE_URL "
                                   "at an empty scratch database (after `flask db upgrade`), not one with products "
                                   "or warning runs")
    scores, table = simulation.run_season(products, days, seed)
    if as_json:
        import json

        spoilage = scores[0]
        click.echo(json.dumps({"seed": seed, "products": products, "days": days, "episodes": spoilage.episodes,
                               "predicted": spoilage.predicted, "warnings": spoilage.warnings,
                               "true_warnings": spoilage.true_warnings, "leads": spoilage.leads}))
        return
    click.echo(table)
