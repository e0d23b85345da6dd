"""Matchmaking pages (产销对接): a unit's demands and their matches, a supplier's offers and their matches,
and the administrators' overview of their region. Thin: form → service → commit → redirect.

Refusals: someone else's demand, offer or match answers 404 and changes nothing (the error handler
rolls back); a form with a mistake is shown again with the message beside the field (422).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from alerts import bp, forms_matching, services_matching
from alerts.models_matching import Demand, DemandStatus, Match, MatchStatus, Offer, OfferStatus
from core.errors import DomainError
from core.extensions import db
from core.money import format_fen
from core.permissions import Permission, require
from core.registry.models import Region, RegionLevel
from procurement.services import common
from procurement.signals import order_submitted
from shop.models import Category

MATCH_STATUS_LABELS = {
    MatchStatus.PROPOSED: _l("Proposed"),
    MatchStatus.ACCEPTED_BY_UNIT: _l("Accepted by the unit, waiting for the supplier"),
    MatchStatus.ACCEPTED_BY_SUPPLIER: _l("Accepted by the supplier, waiting for the unit"),
    MatchStatus.ACCEPTED: _l("Agreed"),
    MatchStatus.DECLINED: _l("Declined"),
    MatchStatus.EXPIRED: _l("No longer available"),
}
DEMAND_STATUS_LABELS = {DemandStatus.OPEN: _l("Open"), DemandStatus.CLOSED: _l("Closed"),
                        DemandStatus.CANCELLED: _l("Withdrawn")}
OFFER_STATUS_LABELS = {OfferStatus.OPEN: _l("Open"), OfferStatus.CLOSED: _l("Closed"),
                       OfferStatus.CANCELLED: _l("Withdrawn")}


def match_status_label(value) -> str:
    return str(MATCH_STATUS_LABELS.get(MatchStatus(value), value))


def demand_status_label(value) -> str:
    return str(DEMAND_STATUS_LABELS.get(DemandStatus(value), value))


def offer_status_label(value) -> str:
    return str(OFFER_STATUS_LABELS.get(OfferStatus(value), value))


def reason_text(reason: dict) -> str:
    """One stored reason (``alerts.matching.reasons_of``) in words, with its points."""
    from alerts.views import level_label

    code, points = reason.get("code"), reason.get("points", 0)
    if code == "warning":
        text = _("Under an open early warning (%(level)s): buying it now keeps the produce from going unsold",
                 level=level_label(reason.get("level")))
    elif code == "price":
        text = _("%(total)s for the whole quantity (%(price)s a unit)", total=format_fen(reason.get("total_fen")),
                 price=format_fen(reason.get("unit_price_fen")))
    elif code == "ready":
        text = (_("Ready on %(date)s, before the delivery window opens", date=reason.get("ready_on"))
                if points >= 20 else _("Ready on %(date)s, inside the delivery window", date=reason.get("ready_on")))
    elif code == "category":
        text = _("Exactly the category asked for") if reason.get("exact") else _("A kind within the category asked for")
    elif code == "origin":
        county = reason.get("county") or "—"
        text = (_("From %(county)s, a key assistance county", county=county) if points >= 15 else
                _("From %(county)s, a poverty-lifted county", county=county) if points >= 10 else
                _("From %(county)s", county=county))
    elif code == "quantity":
        return _("Order %(n)s %(unit)s", n=f"{reason.get('order_quantity', 0):,}", unit=reason.get("unit", ""))
    else:
        return str(code)
    return _("%(text)s (+%(points)d)", text=text, points=points)


def init_app(app: Flask) -> None:
    """Called by ``alerts.init_app`` before the blueprint is registered."""
    from alerts import api_matching, demo_matching, models_matching  # noqa: F401  (models_matching: the tables)
    from core.extensions import api
    from core.templating import add_nav_item

    api.register_blueprint(api_matching.blp)
    app.extensions["demo_seeders"].append(demo_matching.SEEDER)
    order_submitted.connect(_link_submitted_order)
    add_nav_item(app, "alerts.my_demands", _l("Demands and matches"), Permission.UNIT_WORKSPACE, order=29)
    add_nav_item(app, "alerts.my_offers", _l("Offers and matches"), Permission.SUPPLIER_WORKSPACE, order=29)
    add_nav_item(app, "alerts.matching_admin", _l("Matchmaking"), Permission.ALERTS_MANAGE, order=41)
    app.jinja_env.globals.update(match_status_label=match_status_label, demand_status_label=demand_status_label,
                                 offer_status_label=offer_status_label, match_reason_text=reason_text)


def _link_submitted_order(app, *, unit_id: int, **extra) -> None:
    """A unit submitted a procurement order: link the agreed matches it carries out (one UPDATE)."""
    if services_matching.link_orders(unit_id):
        db.session.commit()


def _category_choices() -> list[SelectChoice]:
    """Every category, children indented under their parent (two levels in practice)."""
    rows = db.session.execute(sa.select(Category.id, Category.name, Category.parent_id)
                              .order_by(Category.position, Category.id)).all()
    children: dict[int | None, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out: list[SelectChoice] = []

    def walk(parent_id, depth, seen):
        for row in children.get(parent_id, []):
            if row.id in seen:
                continue
            out.append(SelectChoice(row.id, "\u3000" * depth + row.name))
            walk(row.id, depth + 1, seen | {row.id})

    walk(None, 0, frozenset())
    return out


def _region_choices() -> list[SelectChoice]:
    """Provinces, cities and counties in tree order (a wished origin finer than a county is not asked)."""
    rows = db.session.execute(sa.select(Region.id, Region.name, Region.level).where(
        Region.level.in_((RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)))
        .order_by(Region.path).limit(5000)).all()
    return [SelectChoice(0, _("Anywhere"))] + [
        SelectChoice(r.id, "\u3000" * RegionLevel(r.level).depth + r.name) for r in rows]


def _apply_error(form, err: DomainError) -> None:
    target = getattr(form, err.field or "", None)
    if target is None and err.field == "budget_fen":
        target = form.budget
    if target is None and err.field == "price_fen":
        target = form.price
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, err.message]
    else:
        flash(err.message, "error")


# --- the unit's side ----------------------------------------------------------------------------


@bp.get("/matching/demands")
@require(Permission.UNIT_WORKSPACE)
def my_demands():
    member = common.unit_of(current_user)
    demands = list(db.session.execute(
        sa.select(Demand).where(Demand.unit_id == member.unit_id)
        .options(joinedload(Demand.category), joinedload(Demand.wished_region))
        .order_by((Demand.status != DemandStatus.OPEN), Demand.id.desc()).limit(100)).scalars())
    matches = services_matching.matches_for_demands([d.id for d in demands])
    return render_template("alerts/matching/demands.html", unit=member.unit, demands=demands, matches=matches,
                           answer_form=forms_matching.AnswerForm(), S=MatchStatus,
                           may_order=member.role.value in ("buyer", "admin"))


@bp.route("/matching/demands/new", methods=["GET", "POST"])
@require(Permission.UNIT_WORKSPACE)
def demand_new():
    member = common.unit_of(current_user)
    form = forms_matching.DemandForm()
    form.category_id.choices = _category_choices()
    form.wished_region_id.choices = _region_choices()
    if form.validate_on_submit():
        try:
            demand = services_matching.create_demand(
                current_user, category_id=form.category_id.data, quantity=form.quantity.data, unit=form.unit.data,
                budget_fen=form.budget_fen, delivery_from=form.delivery_from.data, delivery_to=form.delivery_to.data,
                wished_region_id=form.wished_region_id.data or None, note=form.note.data or "")
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _apply_error(form, err)
            return render_template("alerts/matching/demand_form.html", form=form, unit=member.unit), err.status
        n = db.session.execute(sa.select(sa.func.count()).select_from(Match).where(
            Match.demand_id == demand.id, Match.status == MatchStatus.PROPOSED)).scalar_one()
        flash(_("The demand is posted; %(n)d matches are proposed.", n=n), "success")
        return redirect(url_for("alerts.my_demands") + f"#demand-{demand.id}")
    return render_template("alerts/matching/demand_form.html", form=form, unit=member.unit), (
        422 if form.errors else 200)


@bp.post("/matching/demands/<int:demand_id>/cancel")
@require(Permission.UNIT_WORKSPACE)
def demand_cancel(demand_id: int):
    services_matching.cancel_demand(current_user, demand_id)
    db.session.commit()
    flash(_("The demand is withdrawn."), "success")
    return redirect(url_for("alerts.my_demands"))


@bp.post("/matching/matches/<int:match_id>/unit")
@require(Permission.UNIT_WORKSPACE)
def match_unit_answer(match_id: int):
    return _answer(match_id, "unit", "alerts.my_demands")


@bp.post("/matching/matches/<int:match_id>/order")
@require(Permission.UNIT_WORKSPACE)
def match_order(match_id: int):
    """下单: the agreed quantity goes into the procurement cart; the buyer submits it there."""
    from procurement.views.orders import CART_KEY

    product_id, quantity = services_matching.prepare_order(current_user, match_id)
    db.session.commit()
    cart = dict(session.get(CART_KEY) or {})
    cart[str(product_id)] = quantity  # the agreed quantity, not added to what was there
    session[CART_KEY] = cart
    flash(_("The agreed quantity is in the procurement cart: choose the address and date, then submit."), "success")
    return redirect(url_for("procurement.order_cart"))


# --- the supplier's side ------------------------------------------------------------------------


@bp.get("/matching/offers")
@require(Permission.SUPPLIER_WORKSPACE)
def my_offers():
    supplier = services_matching._supplier(current_user)
    offers = list(db.session.execute(
        sa.select(Offer).where(Offer.supplier_id == supplier.id)
        .options(joinedload(Offer.product), joinedload(Offer.category))
        .order_by((Offer.status != OfferStatus.OPEN), Offer.id.desc()).limit(100)).scalars())
    matches = services_matching.supplier_matches(supplier.id)
    products = services_matching.listed_products_of(supplier.id)
    return render_template("alerts/matching/offers.html", supplier=supplier, offers=offers, matches=matches,
                           products=products, S=MatchStatus)


@bp.route("/matching/offers/new", methods=["GET", "POST"])
@require(Permission.SUPPLIER_WORKSPACE)
def offer_new():
    supplier = services_matching._supplier(current_user)
    form = forms_matching.OfferForm()
    form.product_id.choices = [SelectChoice(0, _("None: describe it below"))] + [
        SelectChoice(p.id, f"{p.name} ({format_fen(p.price_fen)}/{p.sales_unit})")
        for p in services_matching.listed_products_of(supplier.id)]
    form.category_id.choices = [SelectChoice(0, _("From the product")), *_category_choices()]
    if form.validate_on_submit():
        try:
            offer = services_matching.create_offer(
                current_user, product_id=form.product_id.data or None, category_id=form.category_id.data or None,
                description=form.description.data or "", quantity=form.quantity.data, unit=form.unit.data,
                ready_on=form.ready_on.data, price_fen=form.price_fen)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            _apply_error(form, err)
            return render_template("alerts/matching/offer_form.html", form=form, supplier=supplier), err.status
        n = db.session.execute(sa.select(sa.func.count()).select_from(Match).where(
            Match.offer_id == offer.id, Match.status == MatchStatus.PROPOSED)).scalar_one()
        flash(_("The offer is posted; it matches %(n)d demands.", n=n), "success")
        return redirect(url_for("alerts.my_offers") + f"#offer-{offer.id}")
    return render_template("alerts/matching/offer_form.html", form=form, supplier=supplier), (
        422 if form.errors else 200)


@bp.post("/matching/offers/<int:offer_id>/cancel")
@require(Permission.SUPPLIER_WORKSPACE)
def offer_cancel(offer_id: int):
    services_matching.cancel_offer(current_user, offer_id)
    db.session.commit()
    flash(_("The offer is withdrawn."), "success")
    return redirect(url_for("alerts.my_offers"))


@bp.post("/matching/matches/<int:match_id>/supplier")
@require(Permission.SUPPLIER_WORKSPACE)
def match_supplier_answer(match_id: int):
    return _answer(match_id, "supplier", "alerts.my_offers")


def _answer(match_id: int, side: str, back: str):
    form = forms_matching.AnswerForm()
    if not form.validate_on_submit():
        # Someone else's match is not found, whatever the form says.
        services_matching.get_match(current_user, match_id)
        flash(_("Choose accept or decline."), "error")
        return redirect(url_for(back))
    try:
        if form.action.data == "accept":
            match = services_matching.accept(current_user, match_id, side=side, product_id=form.product_id.data or None)
        else:
            match = services_matching.decline(current_user, match_id, side=side, reason=form.reason.data or "")
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        flash(err.message, "error")
        return redirect(url_for(back))
    flash(_("Saved: %(status)s.", status=match_status_label(match.status)), "success")
    return redirect(url_for(back) + f"#match-{match.id}")


# --- administrators -----------------------------------------------------------------------------


@bp.get("/matching/")
@require(Permission.ALERTS_MANAGE)
def matching_admin():
    """Demands, offers and matches in the administrator's region (platform administrators: all)."""
    demands = list(db.session.execute(services_matching.visible_demands(current_user)
                                      .options(joinedload(Demand.buyer_unit), joinedload(Demand.category))
                                      .order_by((Demand.status != DemandStatus.OPEN), Demand.id.desc())
                                      .limit(200)).scalars())
    offers = list(db.session.execute(services_matching.visible_offers(current_user)
                                     .options(joinedload(Offer.supplier), joinedload(Offer.category))
                                     .order_by((Offer.status != OfferStatus.OPEN), Offer.id.desc())
                                     .limit(200)).scalars())
    matches = list(db.session.execute(services_matching.visible_matches(current_user)
                                      .where(Match.status != MatchStatus.EXPIRED)
                                      .options(joinedload(Match.demand).joinedload(Demand.buyer_unit),
                                               joinedload(Match.supplier), joinedload(Match.product))
                                      .order_by(*services_matching.ORDER).limit(300)).scalars())
    return render_template("alerts/matching/admin.html", demands=demands, offers=offers, matches=matches)
