"""The public transparency page (公开透明): aggregate, anonymised figures anyone may read without
logging in — this year's sales per county and category, plan completion per region (against its
guiding plan), and how many households the sellers are bound to. Nothing names a person, a
household or a buyer unit; every figure is a sum or a count over many rows.
"""

from __future__ import annotations

import json

from flask import render_template, request
from flask_babel import gettext as _

from core.extensions import limiter
from procurement import public_bp
from procurement.services import completion, rollups
from procurement.views.completion import Column, Table, xlsx_response


def _tables(year: int) -> tuple[list[Table], list[rollups.RegionFigures], int]:
    sold = completion.sold_by_county_category(year)
    regions = rollups.public_region_completion(year)
    households = completion.households_reached(year)
    tables = [
        Table("sold", _("Amount sold in %(year)d by county of origin and category", year=year), [
            Column(_("County of origin")), Column(_("Category")), Column(_("Amount sold"), "money"),
        ], [[s.county, s.category, s.amount_fen] for s in sold], empty=_("Nothing sold yet this year.")),
        Table("regions", _("Plan completion by region, %(year)d", year=year), [
            Column(_("Region")), Column(_("Guiding plan"), "money"), Column(_("Counted toward the plan"), "money"),
            Column(_("Completion of the guiding plan"), "percent"), Column(_("Time progress"), "percent"),
        ], [[r.label, r.guiding_plan_fen, r.counted_fen, r.guiding_completion, r.time_progress] for r in regions],
            empty=_("No region has published a guiding plan for this year.")),
        Table("households", _("Households reached, %(year)d", year=year), [
            Column(_("What")), Column(_("Households"), "count"),
        ], [[_("Registered households bound to a supplier that sold this year"), households]]),
    ]
    return tables, regions, households


@public_bp.get("/transparency")
@public_bp.get("/transparency.xlsx", endpoint="transparency_xlsx")
@limiter.limit("60 per minute")
def transparency():
    year = completion.today().year
    tables, regions, households = _tables(year)
    if request.path.endswith(".xlsx"):
        return xlsx_response(tables, f"transparency-{year}.xlsx")
    return render_template("procurement/completion/transparency.html", year=year, tables=tables,
                           households=households, regions=regions, chart=_public_chart(regions, year))


def _public_chart(regions: list[rollups.RegionFigures], year: int) -> str:
    """The regions chart shows completion of each region's guiding plan (the same as the table)."""
    return json.dumps({
        "categories": [r.label for r in regions],
        "completion": [None if r.guiding_completion is None else str(r.guiding_completion) for r in regions],
        "time_progress": str(completion.time_progress(year)),
        "names": {"completion": _("Completion of the guiding plan (%)"), "time_progress": _("Time progress")},
    }, ensure_ascii=False)
