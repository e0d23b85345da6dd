"""Plan-lag warnings of buyer units: the administrators' board, a warning's page with its actions,
and the unit's own warning on its workspace (a template global, so procurement imports nothing here)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from alerts import bp, rules
from alerts import services_planlag as services
from alerts.forms_planlag import PlanLagActionForm
from alerts.models import SHOWN_STATUSES, ActionKind, WarningLevel
from alerts.models_planlag import PlanLagWarning
from core.errors import DomainError
from core.extensions import db
from core.permissions import Permission, require
from procurement.models import BuyerUnit
from procurement.services.completion import lag_points_setting

# The numbers behind a warning, in the order shown: (key in the figures, label, "fen" or "percent" or "points").
FIGURES = (
    ("plan_fen", _l("Plan for the year"), "fen"),
    ("counted_fen", _l("Counted toward the plan"), "fen"),
    ("completion", _l("Plan completion"), "percent"),
    ("time_progress", _l("Time progress"), "percent"),
    ("gap_points", _l("Behind time progress by (points)"), "points"),
    ("gap_fen", _l("Behind time progress by (amount)"), "fen"),
    ("previous_gap_points", _l("Behind on the run before (points)"), "points"),
)


def init_app(app: Flask) -> None:
    """The API resources and the workspace's template global (called from ``alerts.init_app``)."""
    from alerts import api_planlag
    from core.extensions import api

    api.register_blueprint(api_planlag.blp)
    app.jinja_env.globals.update(plan_lag_warning_of=services.unit_warning)


@bp.get("/plan-lag")
@require(Permission.ALERTS_MANAGE)
def plan_lag_board():
    level = request.args.get("level", "")
    level = level if level in {lv.value for lv in WarningLevel} else ""
    raw_year = request.args.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else None
    rows = services.board_rows(current_user, year=year, level=level or None)
    years = db.session.execute(
        sa.select(PlanLagWarning.year).distinct().join(BuyerUnit, BuyerUnit.id == PlanLagWarning.unit_id)
        .where(services.visible_clause(current_user), PlanLagWarning.status.in_(SHOWN_STATUSES))
        .order_by(PlanLagWarning.year.desc())).scalars().all()
    return render_template("alerts/plan_lag_board.html", rows=rows, level=level, year=year, years=years,
                           levels=list(reversed(rules.LEVELS)), points=lag_points_setting(),
                           thresholds=rules.current(), total_fen=sum(w.gap_fen for w, _u, _r in rows))


@bp.route("/plan-lag/<int:warning_id>", methods=["GET", "POST"])
@require(Permission.PLAN_LAG_VIEW)
def plan_lag_detail(warning_id: int):
    warning = services.get_visible(current_user, warning_id)
    form = PlanLagActionForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.act(current_user, warning, ActionKind(form.kind.data), note=form.note.data or "")
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                warning = services.get_visible(current_user, warning_id)
                target = getattr(form, err.field or "", None)
                if target is not None and hasattr(target, "errors"):
                    target.errors = [*target.errors, err.message]
                else:
                    flash(err.message, "error")
                return render_template("alerts/plan_lag_warning.html", **_context(warning, form)), err.status
            flash(_("Saved."), "success")
            return redirect(url_for("alerts.plan_lag_detail", warning_id=warning_id))
        return render_template("alerts/plan_lag_warning.html", **_context(warning, form)), 422
    return render_template("alerts/plan_lag_warning.html", **_context(warning, form))


def _context(warning: PlanLagWarning, form: PlanLagActionForm) -> dict:
    figures = warning.figures or {}
    return {"warning": warning, "form": form, "may_act": services.may_act(current_user, warning),
            "figures": [(label, kind, figures.get(key)) for key, label, kind in FIGURES]}
