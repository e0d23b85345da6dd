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
