"""The warning board, a warning's page with its actions, the rules page, and notifications."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice

from alerts import bp, forms, rules, services
from alerts.models import SHOWN_STATUSES, ActionKind, Warning, WarningLevel
from core.errors import DomainError
from core.extensions import db
from core.permissions import Permission, require
from core.registry.models import Region, RegionLevel
from shop import signals
from shop.models import Category, Product

BOARD_LABEL = _l("Warnings")


def level_label(value) -> str:
    return rules.LEVEL_LABELS.get(WarningLevel(value), value) if value else "—"


def cause_label(value) -> str:
    return rules.CAUSE_LABELS.get(value, value)


STATUS_LABELS = {
    "watching": _l("Watching"), "open": _l("Open"), "acknowledged": _l("Acknowledged"),
    "handled": _l("Response taken"), "resolved": _l("Resolved"),
}


FIGURE_LABELS = {
    "stock": _l("Available stock"),
    "price_fen": _l("Price (fen)"),
    "sold_7": _l("Sold in the last 7 days"),
    "sold_28": _l("Sold in the last 28 days"),
    "velocity_7_x100": _l("7-day pace (units a day × 100)"),
    "velocity_28_x100": _l("28-day pace (units a day × 100)"),
    "days_of_cover": _l("Days of cover at the 7-day pace"),
    "days_to_spoil": _l("Days until unsold stock spoils"),
    "unsold_before_spoil": _l("Units that will not sell before they spoil"),
    "days_to_spoil_steady": _l("Days until unsold stock spoils at the steadier pace"),
    "unsold_before_spoil_steady": _l("Units that will not sell before they spoil at the steadier pace"),
    "earliest_expiry_days": _l("Days until the earliest lot expires"),
    "days_to_season_end": _l("Days until the harvest season ends"),
    "unsold_before_season_end": _l("Units that will not sell before the season ends"),
    "velocity_drop_bp": _l("Drop of the 7-day pace against the 28-day pace (basis points)"),
    "days_since_last_sale": _l("Days since the last sale"),
    "price_vs_group_bp": _l("Price against the category and province average (basis points)"),
    "group_mom_bp": _l("Category price month on month (basis points)"),
    "group_yoy_bp": _l("Category price year on year (basis points)"),
}


def figure_label(key: str) -> str:
    return FIGURE_LABELS.get(key, key)


def status_label(value) -> str:
    return STATUS_LABELS.get(getattr(value, "value", value), value)


def action_label(value) -> str:
    return forms.ACTION_LABELS.get(ActionKind(value), value)


def playbook_label(value) -> str:
    return rules.PLAYBOOK_LABELS.get(value, value)


class NotificationsLabel:
    """The navigation label "Notifications (n)": the unread count, read when the page is drawn."""

    def __html__(self) -> str:
        label = escape(_("Notifications"))
        if not current_user.is_authenticated:
            return str(label)
        n = services.unread_count(current_user.id)
        if not n:
            return str(label)
        return str(Markup('{} <span class="badge">{}</span><span class="visually-hidden"> {}</span>').format(
            label, n, _("unread")))

    def __str__(self) -> str:
        return str(_("Notifications"))


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() else None


@bp.get("/")
@require(Permission.ALERTS_VIEW)
def board():
    level = request.args.get("level", "")
    level = level if level in {lv.value for lv in WarningLevel} else ""
    county_id, category_id = _int_arg("county"), _int_arg("category")
    rows = services.board_rows(current_user, level=level or None, county_id=county_id, category_id=category_id)
    # Filter choices: the counties and categories of the warnings the user may see (two queries).
    visible = (sa.select(Product.origin_county_id, Product.category_id).join(Warning, Warning.product_id == Product.id)
               .where(services.visible_clause(current_user), Warning.status.in_(SHOWN_STATUSES)).subquery())
    counties = db.session.execute(sa.select(Region.id, Region.name).where(
        Region.id.in_(sa.select(visible.c.origin_county_id)), Region.level == RegionLevel.COUNTY)
        .order_by(Region.name)).all()
    categories = db.session.execute(sa.select(Category.id, Category.name).where(
        Category.id.in_(sa.select(visible.c.category_id))).order_by(Category.name)).all()
    total_fen = sum(r["warning"].amount_at_risk_fen for r in rows)
    return render_template("alerts/board.html", rows=rows, level=level, county_id=county_id,
                           category_id=category_id, counties=counties, categories=categories,
                           levels=list(reversed(rules.LEVELS)), total_fen=total_fen)


def _action_form(warning: Warning, form: forms.ActionForm | None = None) -> forms.ActionForm:
    form = form or forms.ActionForm()
    form.assignee_id.choices = [SelectChoice(0, _("Choose a person"))] + [
        SelectChoice(u.id, u.display_name) for u in services.assignable_users(warning)]
    return form


@bp.route("/<int:warning_id>", methods=["GET", "POST"])
@require(Permission.ALERTS_VIEW)
def warning_detail(warning_id: int):
    warning = services.get_visible(current_user, warning_id)
    form = _action_form(warning)
    if form.validate_on_submit():
        try:
            kind = ActionKind(form.kind.data)
            services.act(current_user, warning, kind, note=form.note.data or "",
                         assignee_id=form.assignee_id.data or None)
            db.session.commit()
            if kind == ActionKind.RESOLVE:
                signals.announce(warning.product_id)  # the urgent-sale mark may have changed
        except DomainError as err:
            db.session.rollback()
            warning = services.get_visible(current_user, warning_id)
            target = getattr(form, err.field or "", None)
            if target is not None and hasattr(target, "errors"):
                target.errors = [*target.errors, err.message]
            else:
                flash(err.message, "error")
            return render_template("alerts/warning.html", **_detail_context(warning, form)), 422
        flash(_("Saved."), "success")
        return redirect(url_for("alerts.warning_detail", warning_id=warning_id))
    return render_template("alerts/warning.html", **_detail_context(warning, form)), (422 if form.errors else 200)


def _detail_context(warning: Warning, form) -> dict:
    product = db.session.get(Product, warning.product_id)
    households = services.households_behind({product.supplier_id}).get(product.supplier_id, 0)
    return {"warning": warning, "product": product, "form": form, "households": households,
            "observations": list(reversed(warning.observations[-14:]))}


@bp.route("/rules", methods=["GET", "POST"])
@require(Permission.ALERT_RULES_EDIT)
def rules_page():
    form = forms.rules_form_class()(data=rules.current())
    if form.validate_on_submit():
        try:
            rules.save({s.key: getattr(form, s.key).data for s in rules.RULE_SPECS}, actor_id=current_user.id,
                       reason=form.reason.data or None)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            target = getattr(form, err.field or "", None)
            if target is not None:
                target.errors = [*target.errors, err.message]
            else:
                flash(err.message, "error")
            return render_template("alerts/rules.html", form=form, specs=rules.RULE_SPECS), 422
        flash(_("The thresholds are saved; the next run uses them."), "success")
        return redirect(url_for("alerts.rules_page"))
    return render_template("alerts/rules.html", form=form, specs=rules.RULE_SPECS), (422 if form.errors else 200)


@bp.get("/notifications")
@require(Permission.ACCOUNT)
def notifications():
    items = services.notifications_for(current_user.id)
    return render_template("alerts/notifications.html", items=items)


@bp.post("/notifications/read")
@require(Permission.ACCOUNT)
def notifications_read():
    services.mark_all_read(current_user.id)
    db.session.commit()
    return redirect(url_for("alerts.notifications"))
