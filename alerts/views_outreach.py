"""Recommended buyer units and outreach: the unit's "产品滞销求助" page with its one-click order and
"not for us" answer, and the administrators' conversion report (warning → order)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from alerts import bp, outreach, recommend, services
from alerts.models_outreach import OutreachAnswer
from core.errors import DomainError, ValidationFailed
from core.extensions import db
from core.permissions import Permission, require
from procurement.services.common import LOCAL_TIMEZONE, unit_of

OUTREACH_LABEL = _l("Help wanted")
REPORT_DAYS = 90  # the report's default period: the last 90 days


def init_app(app: Flask) -> None:
    """The API resources, the unit's navigation entry and template helpers (called from ``alerts.init_app``)."""
    from alerts import api_outreach
    from core.extensions import api
    from core.templating import add_nav_item

    api.register_blueprint(api_outreach.blp)
    add_nav_item(app, "alerts.unit_outreach", OUTREACH_LABEL, Permission.UNIT_WORKSPACE, order=42)
    app.jinja_env.globals.update(alert_outreach_rows=_admin_rows, alert_outreach_answer_label=answer_label,
                                 alert_distance_label=recommend.distance_label,
                                 alert_recommendation_reasons=recommend.reasons)


ANSWER_LABELS = {OutreachAnswer.ORDERING: _l("Putting an order together"), OutreachAnswer.DECLINED: _l("Not for us")}


def answer_label(value) -> str:
    return str(ANSWER_LABELS.get(value, value)) if value else str(_("No answer yet"))


def _admin_rows(warning) -> dict:
    """For the warning's page: the units told (with answers and orders), or the ranking now when none was told."""
    rows = outreach.warning_rows(warning)
    ranking = [] if rows else recommend.recommend(warning.product_id)
    return {"rows": rows, "ranking": ranking, "year": recommend.current_year()}


@bp.get("/outreach")
@require(Permission.UNIT_WORKSPACE)
def unit_outreach():
    """产品滞销求助: the warnings the unit was asked to help with, newest live ones first."""
    member = unit_of(current_user)
    if outreach.mark_seen(current_user, member.unit_id):
        db.session.commit()
    rows = outreach.unit_rows(member.unit_id)
    may_answer = member.role in recommend.TOLD_ROLES
    return render_template("alerts/outreach_unit.html", unit=member.unit, rows=rows, may_answer=may_answer,
                           cart_path=url_for("procurement.order_cart"))


@bp.post("/outreach/<int:outreach_id>/order")
@require(Permission.UNIT_WORKSPACE)
def outreach_order(outreach_id: int):
    """The one-click path: record the answer, then hand the same form (product, quantity, next) to the
    procurement cart with a 307, which keeps the method and body: the product lands in the cart."""
    item = outreach.get_for_member(current_user, outreach_id)
    row = next(iter(outreach.unit_rows(item.unit_id, outreach_id=item.id)), None)
    if row is None or not row.on_sale:
        flash(_("This product can no longer be ordered here."), "error")
        return redirect(url_for("alerts.unit_outreach"))
    if request.form.get("product_id") != str(row.product.id):
        flash(_("This form belongs to another product; reload the page."), "error")
        return redirect(url_for("alerts.unit_outreach"))
    quantity = request.form.get("quantity", "")
    if not quantity.isdigit() or not 1 <= int(quantity) <= outreach.MAX_QUANTITY:
        flash(_("Give a whole number from 1 to 10,000."), "error")
        return redirect(url_for("alerts.unit_outreach") + f"#outreach-{item.id}")
    try:
        outreach.answer(current_user, item, OutreachAnswer.ORDERING)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("alerts.unit_outreach"))
    db.session.commit()
    return redirect(url_for("procurement.order_cart_add"), code=307)


@bp.post("/outreach/<int:outreach_id>/decline")
@require(Permission.UNIT_WORKSPACE)
def outreach_decline(outreach_id: int):
    """"Not for us": the unit will not buy this product; the note says why (optional)."""
    item = outreach.get_for_member(current_user, outreach_id)
    try:
        outreach.answer(current_user, item, OutreachAnswer.DECLINED, request.form.get("note", ""))
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("alerts.unit_outreach"))
    db.session.commit()
    flash(_("Thank you: your answer is recorded."), "success")
    return redirect(url_for("alerts.unit_outreach"))


def report_period(args) -> tuple[date, date]:
    """``since`` and ``until`` (YYYY-MM-DD, Asia/Shanghai) from the query; the last 90 days by default."""
    today = datetime.now(LOCAL_TIMEZONE).date()
    out = []
    for name, default in (("since", today - timedelta(days=REPORT_DAYS - 1)), ("until", today)):
        raw = (args.get(name) or "").strip()
        try:
            out.append(date.fromisoformat(raw) if raw else default)
        except ValueError:
            raise ValidationFailed(_("Give the date as YYYY-MM-DD."), field=name) from None
    return out[0], out[1]


@bp.get("/conversion")
@require(Permission.ALERTS_MANAGE)
def conversion():
    """From warning to order: conversion and time to resolution by level, for the administrator's region."""
    error = None
    try:
        since, until = report_period(request.args)
        report = outreach.conversion(services.visible_clause(current_user), since, until)
    except DomainError as err:
        error = err.message
        since, until = report_period({})
        report = outreach.conversion(services.visible_clause(current_user), since, until)
    return render_template("alerts/conversion.html", report=report, error=error), (422 if error else 200)
