"""Benefit attribution on the pages: the product and supplier figures, and the administrators' report."""

from __future__ import annotations

import io
from datetime import datetime

from flask import render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.styles import Font

from core.money import fen_to_yuan
from core.permissions import Permission, require
from shop import bp
from shop.services import attribution
from shop.services.common import SHOP_TIMEZONE

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global()
def benefit_figures(product_id: int | None = None, supplier_id: int | None = None) -> attribution.BenefitFigures:
    """The attributed benefit of a product or a supplier (shop/benefit/_summary.html shows it)."""
    if product_id is not None:
        return attribution.product_figures(product_id)
    return attribution.supplier_figures(supplier_id)


def _year_arg() -> int | None:
    """``?year=2026`` limits the report to one calendar year; anything else means all time."""
    raw = request.args.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else None


@bp.get("/admin/benefit/")
@require(Permission.ADMIN_DASHBOARD)
def benefit_report():
    year = _year_arg()
    return render_template("shop/benefit/report.html", report=attribution.report(current_user, year), year=year,
                           years=attribution.report_years(current_user))


def _sheet_rows(rows: list[attribution.ReportRow], total: attribution.BenefitFigures, first: str) -> list[list]:
    """Header, one row per group, then the total: the same numbers as the screen, amounts in yuan."""
    header = [first, _("Households reached"), _("People reached"), _("Amount attributed (yuan)"),
              _("Amount per household (yuan)")]

    def cells(name, f):
        return [name, f.households, f.people, fen_to_yuan(f.amount_fen), fen_to_yuan(f.per_household_fen)]

    return [header, *(cells(r.name, r.figures) for r in rows), cells(_("Total"), total)]


@bp.get("/admin/benefit.xlsx")
@require(Permission.ADMIN_DASHBOARD)
def benefit_report_xlsx():
    year = _year_arg()
    report = attribution.report(current_user, year)
    workbook = Workbook()
    sheets = [(workbook.active, _("By county"), report.by_county, _("County")),
              (workbook.create_sheet(), _("By supplier"), report.by_supplier, _("Supplier"))]
    for sheet, title, rows, first in sheets:
        sheet.title = title
        for values in _sheet_rows(rows, report.total, first):
            sheet.append(values)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for column in ("D", "E"):
            for cell in sheet[column][1:]:
                cell.number_format = "#,##0.00"
        sheet.column_dimensions["A"].width = 32
        for column in ("B", "C", "D", "E"):
            sheet.column_dimensions[column].width = 22
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    stamp = datetime.now(SHOP_TIMEZONE).strftime("%Y%m%d")
    return send_file(out, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"benefit-attribution-{year or 'all'}-{stamp}.xlsx")
