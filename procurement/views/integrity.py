"""The administrators' integrity checks page (/procurement/admin/integrity) and its Excel export.

Both are drawn from the same ``Table`` objects (as the completion pages are), so the file holds exactly
the rows on the screen. Region-scoped: a regional administrator sees only their region's units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.permissions import Permission, require
from core.registry.services import region_scope
from procurement import bp
from procurement.models import BuyerUnit
from procurement.services import common, integrity
from procurement.views._helpers import year_arg
from procurement.views.completion import Column, Table, xlsx_response


@dataclass
class LinkedTable(Table):
    """A table whose cells may lead somewhere on screen: per row, {column index: url}."""

    cell_links: list[dict[int, str]] = field(default_factory=list)


def _when(at: datetime | None) -> str | None:
    return at.astimezone(common.LOCAL_TIMEZONE).strftime("%Y-%m-%d %H:%M") if at else None


def _unit_url(unit_id: int | None) -> str | None:
    return url_for("procurement.admin_unit", unit_id=unit_id) if unit_id else None


def _order_url(order_id: int) -> str:
    return url_for("procurement.order_detail", procurement_order_id=order_id)


def split_table(rows: list[integrity.SplitOrderRow], cfg: integrity.Settings) -> LinkedTable:
    return LinkedTable(
        "split", _("Orders split under the approval threshold"),
        [Column(_("Unit")), Column(_("Supplier")), Column(_("Group"), "count"),
         Column(_("Orders in the group"), "count"), Column(_("Together from the supplier"), "money"),
         Column(_("Approval threshold"), "money"),
         Column(_("Order")), Column(_("Submitted")), Column(_("Order total"), "money"),
         Column(_("From this supplier"), "money")],
        [[r.unit_name, r.supplier_name, r.group, r.orders_in_group, r.group_fen, r.threshold_fen, r.order_number,
          _when(r.submitted_at), r.order_total_fen, r.supplier_fen] for r in rows],
        empty=_("No unit split its orders to one supplier within %(days)d days.", days=cfg.split_window_days),
        cell_links=[{0: _unit_url(r.unit_id), 6: _order_url(r.procurement_order_id)} for r in rows],
    )


def unit_change_table(rows: list[integrity.UnitChangeRow]) -> LinkedTable:
    return LinkedTable(
        "unit-changes", _("Unit changed after shipment"),
        [Column(_("Order")), Column(_("From unit")), Column(_("To unit")), Column(_("First shipped")),
         Column(_("Unit changed")), Column(_("Changed by")), Column(_("Reason"))],
        [[r.order_number, r.from_unit_name, r.to_unit_name, _when(r.first_shipped_at), _when(r.changed_at),
          r.changed_by, r.reason] for r in rows],
        empty=_("No order's unit was changed after shipment."),
        cell_links=[{0: _order_url(r.procurement_order_id), 1: _unit_url(r.from_unit_id), 2: _unit_url(r.to_unit_id)}
                    for r in rows],
    )


def _source(source: str) -> str:
    return _("Product edit (audit log)") if source == "audit" else _("Previous order line")


def price_table(rows: list[integrity.PriceRaiseRow], cfg: integrity.Settings) -> LinkedTable:
    return LinkedTable(
        "price-raises", _("Price raised just before a large order"),
        [Column(_("Order")), Column(_("Unit")), Column(_("Supplier")), Column(_("Product")),
         Column(_("Old price"), "money"), Column(_("New price"), "money"), Column(_("Raise"), "percent"),
         Column(_("Price raised")), Column(_("Evidence")), Column(_("Ordered")), Column(_("Quantity"), "count"),
         Column(_("Line amount"), "money")],
        [[r.order_number, r.unit_name, r.supplier_name, r.product_name, r.old_price_fen, r.new_price_fen,
          r.raise_percent, _when(r.raised_at), _source(r.source), _when(r.ordered_at),
          r.quantity, r.line_fen] for r in rows],
        empty=_("No price was raised within %(days)d days before a large order.", days=cfg.price_raise_days),
        cell_links=[{0: _order_url(r.procurement_order_id), 1: _unit_url(r.unit_id)} for r in rows],
    )


def year_end_table(rows: list[integrity.YearEndRow], cfg: integrity.Settings, year: int) -> LinkedTable:
    return LinkedTable(
        "year-end", _("Completion jumping at the end of %(year)d", year=year),
        [Column(_("Unit")), Column(_("Region")), Column(_("Counted in the year"), "money"),
         Column(_("In the last %(days)d days", days=cfg.year_end_days), "money"),
         Column(_("Share of the year"), "percent")],
        [[r.unit_name, r.region_name, r.year_fen, r.year_end_fen, r.share] for r in rows],
        empty=_("No unit counted more than %(pct)s%% of its year in its last %(days)d days.",
                pct=cfg.year_end_percent, days=cfg.year_end_days),
        cell_links=[{0: _unit_url(r.unit_id)} for r in rows],
    )


def tables_for(report: integrity.Report) -> list[LinkedTable]:
    cfg = report.settings
    return [split_table(report.split_orders, cfg), unit_change_table(report.unit_changes),
            price_table(report.price_raises, cfg), year_end_table(report.year_end_jumps, cfg, report.year)]


@bp.get("/admin/integrity")
@bp.get("/admin/integrity.xlsx", endpoint="admin_integrity_xlsx")
@require(Permission.ACCREDIT)
def admin_integrity():
    year = year_arg()
    report = integrity.report(year, region_scope(current_user, BuyerUnit.region_id))
    tables = tables_for(report)
    if request.path.endswith(".xlsx"):
        return xlsx_response(tables, f"integrity-{year}.xlsx")
    return render_template("procurement/integrity/index.html", year=year, report=report, cfg=report.settings,
                           tables=tables, years=list(common.plan_years()))
