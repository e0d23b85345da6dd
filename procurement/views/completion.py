"""Plan completion pages: the unit's own figures, the administrators' dashboard for a region, and
their Excel exports.

Every table on these pages is built once as a ``Table`` and both rendered and exported from that
same object, so the screen and the Excel file cannot disagree.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.styles import Font

from core.errors import Forbidden, NotFound
from core.extensions import db
from core.money import fen_to_yuan, format_fen
from core.pagination import Page
from core.permissions import Permission, Role, require
from core.registry.models import Region
from core.registry.services import region_scope, user_may_see_region
from procurement import bp, labels
from procurement.models import BuyerUnit
from procurement.services import common, completion, rollups
from procurement.views._helpers import region_choices, year_arg

# Our own scripts and styles (the chart set-up); ECharts itself is core/static/vendor/echarts.min.js.
assets_bp = Blueprint("completion_assets", __name__, static_folder=str(Path(__file__).parent.parent / "static"),
                      static_url_path="/procurement-static")

UNITS_PER_PAGE = 100


# --- tables: one object for the screen and the workbook --------------------------------------------


@dataclass
class Column:
    label: str
    kind: str = "text"  # text, money (fen), percent (Decimal), count


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    footer: list | None = None  # a totals row
    empty: str = ""
    links: list[str | None] | None = None  # where each row's first cell leads (the screen only)


def cell_text(value, kind: str) -> str:
    """A cell as the screen shows it."""
    if value is None:
        return "—"
    if kind == "money":
        return format_fen(value)
    if kind == "percent":
        return f"{value}%"
    return str(value)


def excel_value(value, kind: str):
    if value is None:
        return "—"
    if kind == "money":
        return fen_to_yuan(value)
    if kind in ("percent", "count"):
        return value
    return str(value)


def workbook(tables: list[Table]) -> bytes:
    """One sheet per table: the same rows and figures as the screen (money in yuan, percentages as numbers)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for table in tables:
        title = "".join(ch for ch in table.title if ch not in "[]:*?/\\")[:28] or table.id
        while title in used:
            title = title[:26] + str(len(used))
        used.add(title)
        ws = wb.create_sheet(title)
        ws.append([_excel_header(c) for c in table.columns])
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in [*table.rows, *([table.footer] if table.footer else [])]:
            ws.append([excel_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
            for cell, column in zip(ws[ws.max_row], table.columns, strict=True):
                if column.kind == "money":
                    cell.number_format = "#,##0.00"
                elif column.kind == "percent":
                    cell.number_format = "0.00"
        for i, column in enumerate(table.columns, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = 24 if column.kind == "text" else 16
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _excel_header(column: Column) -> str:
    if column.kind == "money":
        return _("%(label)s (yuan)", label=column.label)
    if column.kind == "percent":
        return _("%(label)s (%%)", label=column.label)
    return column.label


def xlsx_response(tables: list[Table], filename: str) -> Response:
    return Response(workbook(tables),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _figure_columns() -> list[Column]:
    return [Column(_("Plan"), "money"), Column(_("Canteen"), "money"), Column(_("Union"), "money"),
            Column(_("Employees' own"), "money"), Column(_("Counted toward the plan"), "money"),
            Column(_("Completion"), "percent"), Column(_("Time progress"), "percent"),
            Column(_("Gap to time progress"), "money"), Column(_("Help-sales (apart)"), "money")]


def _figure_cells(f: completion.Figures) -> list:
    return [f.plan_fen, f.canteen_fen, f.union_fen, f.employee_fen, f.counted_fen, f.completion, f.time_progress,
            f.gap_fen, f.help_sales_fen]


def summary_table(f: completion.Figures, title: str, name: str, table_id: str = "summary") -> Table:
    return Table(table_id, title, [Column(_("Scope")), *_figure_columns()], [[name, *_figure_cells(f)]])


def units_table(rows: list[completion.UnitFigures], title: str, total: completion.Figures | None = None) -> Table:
    table = Table("units", title, [Column(_("Unit")), Column(_("Kind")), Column(_("Region")), *_figure_columns()],
                  [[r.name, labels.label(labels.UNIT_TYPE, r.type), r.region_name, *_figure_cells(r)]
                   for r in rows], empty=_("No unit in this scope."))
    if total is not None and rows:
        table.footer = [_("Total"), "", "", *_figure_cells(total)]
    return table


def months_table(months: list[completion.MonthFigures], year: int) -> Table:
    return Table("months", _("Month by month, %(year)d", year=year), [
        Column(_("Month")), Column(_("Canteen"), "money"), Column(_("Union"), "money"),
        Column(_("Employees' own"), "money"), Column(_("Counted in the month"), "money"),
        Column(_("Counted since 1 January"), "money"), Column(_("Completion at the month's end"), "percent"),
        Column(_("Help-sales (apart)"), "money"),
    ], [[f"{year}-{m.month:02d}", m.canteen_fen, m.union_fen, m.employee_fen, m.counted_fen,
         m.cumulative_counted_fen, m.cumulative_completion, m.help_sales_fen] for m in months])


def types_table(groups: list[completion.GroupFigures]) -> Table:
    return Table("types", _("By kind of unit"), [Column(_("Kind")), Column(_("Units"), "count"),
                                                 Column(_("Without a plan"), "count"), *_figure_columns()],
                 [[labels.label(labels.UNIT_TYPE, g.key), g.units, g.units_without_plan, *_figure_cells(g)]
                  for g in groups], empty=_("No unit in this scope."))


def regions_table(regions: list[rollups.RegionFigures], title: str) -> Table:
    return Table("regions", title, [
        Column(_("Region")), Column(_("Guiding plan"), "money"), Column(_("Completion of the guiding plan"), "percent"),
        Column(_("Units"), "count"), Column(_("Without a plan"), "count"), *_figure_columns(),
    ], [[r.label, r.guiding_plan_fen, r.guiding_completion, r.units, r.units_without_plan, *_figure_cells(r)]
        for r in regions], empty=_("No region below this one."))


def counties_table(counties: list[completion.GroupFigures]) -> Table:
    return Table("counties", _("By county of origin: where the money went"), [
        Column(_("County of origin")), Column(_("Canteen"), "money"), Column(_("Union"), "money"),
        Column(_("Employees' own"), "money"), Column(_("Counted toward the plan"), "money"),
    ], [[c.label, c.canteen_fen, c.union_fen, c.employee_fen, c.counted_fen] for c in counties],
        empty=_("Nothing bought yet this year."))


def lagging_table(rows: list[completion.UnitFigures], points: Decimal) -> Table:
    return Table("lagging", _("Units more than %(points)s points behind time progress", points=points), [
        Column(_("Unit")), Column(_("Region")), Column(_("Plan"), "money"),
        Column(_("Counted toward the plan"), "money"),
        Column(_("Completion"), "percent"), Column(_("Time progress"), "percent"),
        Column(_("Points behind"), "percent"), Column(_("Gap to time progress"), "money"),
    ], [[r.name, r.region_name, r.plan_fen, r.counted_fen, r.completion, r.time_progress, r.lag_points, r.gap_fen]
        for r in rows], empty=_("No unit lags that far behind."))


def chart_data(months: list[completion.MonthFigures], progress: Decimal) -> str:
    """The monthly chart's figures for the page's script (the same figures as the months table)."""
    return json.dumps({
        "categories": [f"{m.month:02d}" for m in months],
        "counted": [str(fen_to_yuan(m.counted_fen)) for m in months],
        "completion": [None if m.cumulative_completion is None else str(m.cumulative_completion) for m in months],
        "time_progress": str(progress),
        "names": {"counted": _("Counted in the month (yuan)"), "completion": _("Completion at the month's end (%)"),
                  "time_progress": _("Time progress")},
    }, ensure_ascii=False)


def regions_chart_data(regions: list[rollups.RegionFigures], progress: Decimal) -> str:
    return json.dumps({
        "categories": [r.label for r in regions],
        "completion": [None if r.completion is None else str(r.completion) for r in regions],
        "time_progress": str(progress),
        "names": {"completion": _("Completion of the units' plans (%)"), "time_progress": _("Time progress")},
    }, ensure_ascii=False)


# --- the unit's own page ------------------------------------------------------------------------------


def _unit_tables(page: completion.UnitPage, name: str) -> list[Table]:
    tables = [summary_table(page.unit, _("Plan completion %(year)d", year=page.year), name),
              months_table(page.months, page.year)]
    if page.sub_units:
        tables.append(units_table(page.sub_units, _("Sub-units"), None))
        tables.append(summary_table(page.with_sub_units, _("With its sub-units"), name, "summary-with-sub-units"))
    return tables


def _render_unit(unit, year: int, export_endpoint: str, **url_args):
    page = completion.unit_page(unit, year)
    tables = _unit_tables(page, unit.name)
    if request.path.endswith(".xlsx"):
        return xlsx_response(tables, f"completion-{unit.id}-{year}.xlsx")
    return render_template("procurement/completion/unit.html", unit=unit, year=year, page=page, f=page.unit,
                           tables=tables, chart=chart_data(page.months, page.unit.time_progress),
                           years=list(common.plan_years()), export_endpoint=export_endpoint, url_args=url_args)


@bp.get("/unit/completion")
@bp.get("/unit/completion.xlsx", endpoint="unit_completion_xlsx")
@require(Permission.UNIT_WORKSPACE)
def unit_completion():
    unit = common.unit_of(current_user).unit
    return _render_unit(unit, year_arg(), "procurement.unit_completion")


@bp.get("/admin/completion/units/<int:unit_id>")
@bp.get("/admin/completion/units/<int:unit_id>.xlsx", endpoint="admin_unit_completion_xlsx")
@require(Permission.PLANS_MANAGE)
def admin_unit_completion(unit_id: int):
    unit = common.get_unit(unit_id)
    common.ensure_admin_scope(current_user, unit, Permission.PLANS_MANAGE)
    return _render_unit(unit, year_arg(), "procurement.admin_unit_completion", unit_id=unit.id)


# --- the administrators' dashboard ------------------------------------------------------------------


def dashboard_region(user, raw: str | None) -> Region | None:
    """The region asked for (or the administrator's own; None: every region for a platform administrator)."""
    region = None
    if raw:
        try:
            region = db.session.get(Region, int(raw))
        except ValueError:
            region = None
        if region is None:
            raise NotFound(_("No such region."))
        if not user_may_see_region(user, region):
            raise Forbidden(_("This region is outside your region."))
    elif user.region is not None:
        region = user.region
    if region is None and user.role != Role.PLATFORM_ADMIN:
        raise Forbidden(_("Your account has no region; ask a platform administrator to set it."))
    return region


def _dashboard_tables(board: rollups.Dashboard, scope_name: str, units: list[completion.UnitFigures],
                      lagging: list[completion.UnitFigures]) -> list[Table]:
    """Every table of the dashboard; ``units`` and ``lagging``: the rows shown of those two (a page each on
    the screen, all of them in the workbook)."""
    return [
        Table("summary", _("Plan completion %(year)d", year=board.year), [
            Column(_("Scope")), Column(_("Guiding plan"), "money"),
            Column(_("Completion of the guiding plan"), "percent"),
            Column(_("Units"), "count"), Column(_("Without a plan"), "count"), *_figure_columns(),
        ], [[scope_name, board.summary.guiding_plan_fen, board.summary.guiding_completion, board.summary.units,
             board.summary.units_without_plan, *_figure_cells(board.summary)]]),
        regions_table(board.children, _("By region")),
        types_table(board.types),
        lagging_table(lagging, board.lag_points),
        counties_table(board.counties),
        months_table(board.months, board.year),
        units_table(units, _("By unit"), board.summary),
    ]


def _page_number(arg: str, total: int, per_page: int) -> int:
    """The page named by the query argument ``arg``, clamped to the pages there are."""
    try:
        number = max(1, int(request.args.get(arg, 1)))
    except ValueError:
        number = 1
    return min(number, Page(items=[], page=1, per_page=per_page, total=total).pages)


@bp.get("/admin/completion")
@bp.get("/admin/completion.xlsx", endpoint="admin_completion_xlsx")
@require(Permission.PLANS_MANAGE)
def admin_completion():
    year = year_arg()
    region = dashboard_region(current_user, request.args.get("region_id"))
    board = rollups.dashboard(year, region, region_scope(current_user, BuyerUnit.region_id))
    scope_name = region.name if region else _("All regions")
    if request.path.endswith(".xlsx"):
        return xlsx_response(_dashboard_tables(board, scope_name, completion.unit_figures(year, board.scope),
                                               rollups.lagging_units(year, board.lag_points, scope=board.scope)),
                             f"completion-{region.code if region else 'all'}-{year}.xlsx")
    # The units and lagging tables are long (thousands of units): the screen shows each a page at a time
    # (``page``, ``lagging_page``), read so from the database; the workbook has them whole.
    unit_page = completion.unit_figures_page(
        year, board.scope, _page_number("page", board.summary.units, UNITS_PER_PAGE), UNITS_PER_PAGE,
        total=board.summary.units)
    lagging_page = rollups.lagging_page(
        year, board.scope, board.lag_points, _page_number("lagging_page", board.lagging_total, UNITS_PER_PAGE),
        UNITS_PER_PAGE, total=board.lagging_total)
    tables = _dashboard_tables(board, scope_name, unit_page.items, lagging_page.items)
    tables[-1].links = [url_for("procurement.admin_unit_completion", unit_id=u.unit_id, year=year)
                        for u in unit_page.items]
    tables[3].links = [url_for("procurement.admin_unit_completion", unit_id=u.unit_id, year=year)
                       for u in lagging_page.items]
    return render_template(
        "procurement/completion/dashboard.html", year=year, region=region, board=board, tables=tables,
        scope_name=scope_name, unit_page=unit_page, lagging_page=lagging_page,
        chart=chart_data(board.months, board.time_progress),
        regions_chart=regions_chart_data(board.children, board.time_progress),
        years=list(common.plan_years()), regions=region_choices(current_user),
    )


assets_bp.add_app_template_global(cell_text, "cell_text")


@assets_bp.app_template_global()
def counted_channel_names() -> str:
    names = {"canteen": _("canteen"), "union": _("union"), "employee": _("employees' own purchases")}
    return ", ".join(names[c] for c in completion.CHANNELS if c in completion.counted_channels()) or _("none")
