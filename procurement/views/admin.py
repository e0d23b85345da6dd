"""Administrators: units (create, approve, edit, members, assistance relations), unit plans
and regional guiding plans — each within their region."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import DomainError
from core.extensions import db
from core.money import fen_to_yuan
from core.pagination import paginate
from core.permissions import Permission, require
from core.registry.services import ancestors, region_scope
from procurement import bp, forms, labels
from procurement.models import BuyerUnit, UnitPlan, UnitStatus, UnitType
from procurement.services import common, employees, members, plans, units
from procurement.views._helpers import attach_error, county_choices, region_choices, year_arg
from procurement.views.workspace import render_plan_page


def _enum_arg(name: str, enum_cls, default: str = ""):
    raw = request.args.get(name, default)
    return (enum_cls(raw) if raw in {s.value for s in enum_cls} else None), raw


# --- units ------------------------------------------------------------------------------------


@bp.get("/admin/units")
@require(Permission.ACCREDIT)
def admin_units():
    status, raw_status = _enum_arg("status", UnitStatus)
    unit_type, raw_type = _enum_arg("type", UnitType)
    q = (request.args.get("q") or "").strip()[:60]
    page = paginate(units.units_in_scope(current_user, status=status, unit_type=unit_type, q=q), per_page=30)
    return render_template("procurement/admin/units.html", page=page, status=raw_status, unit_type=raw_type, q=q,
                           statuses=list(UnitStatus), types=list(UnitType))


def _unit_form(form: forms.UnitForm | None = None) -> forms.UnitForm:
    form = form or forms.UnitForm()
    form.region_id.choices = region_choices(current_user)
    return form


def _unit_fields(form: forms.UnitForm) -> dict:
    return {
        "name": form.name.data, "type": form.type.data, "region_id": form.region_id.data,
        "parent_id": units.unit_id_by_name(form.parent.data),
        "approval_threshold_fen": common.parse_amount(form.approval_threshold.data, field="approval_threshold",
                                                      required=False) or 0,
    }


@bp.route("/admin/units/new", methods=["GET", "POST"])
@require(Permission.ACCREDIT)
def admin_new_unit():
    form = _unit_form()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                unit = units.create_unit(current_user, **_unit_fields(form))
            except DomainError as err:
                db.session.rollback()
                attach_error(form, err)
                status = err.status
            else:
                db.session.commit()
                flash(_("%(name)s is created and active.", name=unit.name), "success")
                return redirect(url_for("procurement.admin_unit", unit_id=unit.id))
    return render_template("procurement/admin/unit_form.html", form=form, unit=None), status


@bp.route("/admin/units/<int:unit_id>/edit", methods=["GET", "POST"])
@require(Permission.ACCREDIT)
def admin_edit_unit(unit_id: int):
    unit = common.get_unit(unit_id)
    common.ensure_admin_scope(current_user, unit)
    form = _unit_form()
    status = 200
    if not form.is_submitted():
        form.name.data, form.type.data, form.region_id.data = unit.name, unit.type.value, unit.region_id
        form.parent.data = unit.parent.name if unit.parent else ""
        form.approval_threshold.data = str(fen_to_yuan(unit.approval_threshold_fen))
    else:
        status = 422
        if form.validate():
            try:
                units.update_unit(current_user, unit, **_unit_fields(form))
            except DomainError as err:
                db.session.rollback()
                attach_error(form, err)
                status = err.status
            else:
                db.session.commit()
                flash(_("The unit is saved."), "success")
                return redirect(url_for("procurement.admin_unit", unit_id=unit.id))
    return render_template("procurement/admin/unit_form.html", form=form, unit=unit), status


def _unit_page(unit: BuyerUnit, *, reason_form=None, member_form=None, assistance_form=None, status: int = 200):
    common.ensure_admin_scope(current_user, unit)
    assistance_form = assistance_form or forms.AssistanceForm()
    assistance_form.county_id.choices = county_choices()
    unit_plans = list(db.session.execute(
        sa.select(UnitPlan).where(UnitPlan.unit_id == unit.id).order_by(UnitPlan.year.desc())
    ).scalars())
    return render_template(
        "procurement/admin/unit.html", unit=unit, chain=ancestors(unit.region), actions=units.allowed_actions(unit),
        members=members.members_of(unit), addresses=members.addresses_of(unit), sub_units=units.sub_units(unit),
        relations=units.assistance_of([unit.id]), unit_plans=unit_plans, plan_status=plans.plan_status,
        employee_count=employees.employee_count(unit.id), year=common.local_year(),
        reason_form=reason_form or forms.ReasonForm(), member_form=member_form or forms.MemberForm(),
        role_form=forms.MemberRoleForm(), assistance_form=assistance_form, empty_form=forms.EmptyForm(),
    ), status


@bp.get("/admin/units/<int:unit_id>")
@require(Permission.ACCREDIT)
def admin_unit(unit_id: int):
    return _unit_page(common.get_unit(unit_id))


@bp.post("/admin/units/<int:unit_id>/<any(approve, reject, suspend, reinstate):action>")
@require(Permission.ACCREDIT)
def unit_decision(unit_id: int, action: str):
    unit = common.get_unit(unit_id)
    common.ensure_admin_scope(current_user, unit)
    form = forms.ReasonForm()
    if not form.validate_on_submit():
        return _unit_page(unit, reason_form=form, status=422)
    try:
        units.ACTIONS[action](unit, current_user, form.reason.data)
    except DomainError as err:
        db.session.rollback()
        attach_error(form, err)
        return _unit_page(common.get_unit(unit_id), reason_form=form, status=err.status)
    db.session.commit()
    flash(_("Done: the unit is now “%(status)s”.", status=labels.UNIT_STATUS[unit.status]), "success")
    return redirect(url_for("procurement.admin_unit", unit_id=unit.id))


@bp.post("/admin/units/<int:unit_id>/members")
@require(Permission.ACCREDIT)
def admin_add_member(unit_id: int):
    unit = common.get_unit(unit_id)
    common.ensure_admin_scope(current_user, unit)
    form = forms.MemberForm()
    if not form.validate_on_submit():
        return _unit_page(unit, member_form=form, status=422)
    try:
        members.add_member(current_user, unit, email=form.email.data, role=form.role.data)
    except DomainError as err:
        db.session.rollback()
        attach_error(form, err)
        return _unit_page(common.get_unit(unit_id), member_form=form, status=err.status)
    db.session.commit()
    flash(_("The member is added."), "success")
    return redirect(url_for("procurement.admin_unit", unit_id=unit.id))


@bp.post("/admin/units/<int:unit_id>/members/<int:member_id>/role")
@require(Permission.ACCREDIT)
def admin_member_role(unit_id: int, member_id: int):
    unit = common.get_unit(unit_id)
    form = forms.MemberRoleForm()
    if not form.validate_on_submit():
        flash(_("Choose the person's role in the unit."), "error")
        return _unit_page(unit, status=422)
    members.change_member_role(current_user, unit, member_id, form.role.data)
    db.session.commit()
    flash(_("The role is changed."), "success")
    return redirect(url_for("procurement.admin_unit", unit_id=unit.id))


@bp.post("/admin/units/<int:unit_id>/members/<int:member_id>/remove")
@require(Permission.ACCREDIT)
def admin_remove_member(unit_id: int, member_id: int):
    unit = common.get_unit(unit_id)
    if forms.EmptyForm().validate_on_submit():
        members.remove_member(current_user, unit, member_id)
        db.session.commit()
        flash(_("The member is removed from the unit."), "success")
    return redirect(url_for("procurement.admin_unit", unit_id=unit.id))


@bp.post("/admin/units/<int:unit_id>/relations")
@require(Permission.ACCREDIT)
def admin_add_relation(unit_id: int):
    unit = common.get_unit(unit_id)
    common.ensure_admin_scope(current_user, unit)
    form = forms.AssistanceForm()
    form.county_id.choices = county_choices()
    if not form.validate_on_submit():
        return _unit_page(unit, assistance_form=form, status=422)
    try:
        units.add_assistance(current_user, unit, county_id=form.county_id.data, kind=form.kind.data,
                             start_year=form.start_year.data, end_year=form.end_year.data)
    except DomainError as err:
        db.session.rollback()
        attach_error(form, err)
        return _unit_page(common.get_unit(unit_id), assistance_form=form, status=err.status)
    db.session.commit()
    flash(_("The assistance relation is recorded."), "success")
    return redirect(url_for("procurement.admin_unit", unit_id=unit.id))


@bp.post("/admin/units/<int:unit_id>/relations/<int:relation_id>/remove")
@require(Permission.ACCREDIT)
def admin_remove_relation(unit_id: int, relation_id: int):
    unit = common.get_unit(unit_id)
    if forms.EmptyForm().validate_on_submit():
        units.remove_assistance(current_user, unit, relation_id)
        db.session.commit()
        flash(_("The assistance relation is removed."), "success")
    return redirect(url_for("procurement.admin_unit", unit_id=unit.id))


# --- plans ------------------------------------------------------------------------------------


@bp.get("/admin/plans")
@require(Permission.PLANS_MANAGE)
def admin_plans():
    year = year_arg()
    status = request.args.get("status", "")
    unit_type, raw_type = _enum_arg("type", UnitType)
    q = (request.args.get("q") or "").strip()[:60]
    page = paginate(plans.unit_plans_for_admin(current_user, year, status=status or None, unit_type=unit_type, q=q),
                    per_page=50)
    totals = plans.plan_totals(region_scope(current_user, BuyerUnit.region_id), year)
    return render_template("procurement/admin/plans.html", page=page, year=year, status=status, unit_type=raw_type,
                           q=q, totals=totals, statuses=plans.PLAN_STATUSES, types=list(UnitType),
                           years=list(common.plan_years()), plan_status=plans.plan_status)


@bp.route("/admin/units/<int:unit_id>/plans/<int:year>", methods=["GET", "POST"])
@require(Permission.PLANS_MANAGE)
def admin_unit_plan(unit_id: int, year: int):
    unit = common.get_unit(unit_id)
    common.ensure_admin_scope(current_user, unit, Permission.PLANS_MANAGE)
    common.check_year(year)
    form = forms.PlanFigureForm()
    page = {"template": "procurement/admin/plan.html", "figure_form": form}
    if not form.is_submitted():
        plan = plans.get_plan(unit.id, year)
        if plan is not None and plan.admin_plan_fen is not None:
            form.amount.data = str(fen_to_yuan(plan.admin_plan_fen))
        return render_plan_page(unit, year, **page)
    if not form.validate():
        return render_plan_page(unit, year, status=422, **page)
    try:
        if form.clear.data:
            plans.clear_plan_figure(current_user, unit, year, reason=form.reason.data)
        else:
            plans.set_plan_figure(current_user, unit, year, reason=form.reason.data,
                                  plan_fen=common.parse_amount(form.amount.data, field="amount"))
    except DomainError as err:
        db.session.rollback()
        attach_error(form, err)
        return render_plan_page(unit, year, status=err.status, **page)
    db.session.commit()
    flash(_("The plan figure for %(year)d is saved.", year=year), "success")
    return redirect(url_for("procurement.admin_unit_plan", unit_id=unit.id, year=year))


@bp.route("/admin/guiding-plans", methods=["GET", "POST"])
@require(Permission.PLANS_MANAGE)
def admin_guiding_plans():
    year = year_arg()
    form = forms.GuidingPlanForm()
    form.region_id.choices = region_choices(current_user)
    status = 200
    if not form.is_submitted():
        form.year.data = year
    else:
        status = 422
        if form.validate():
            try:
                row = plans.set_guiding_plan(
                    current_user, region_id=form.region_id.data, year=form.year.data,
                    amount_fen=common.parse_amount(form.amount.data, field="amount"), reason=form.reason.data)
            except DomainError as err:
                db.session.rollback()
                attach_error(form, err)
                status = err.status
            else:
                db.session.commit()
                flash(_("The guiding plan is saved."), "success")
                return redirect(url_for("procurement.admin_guiding_plans", year=row.year))
    return render_template("procurement/admin/guiding_plans.html", form=form, year=year,
                           rows=plans.guiding_plans(current_user, year), years=list(common.plan_years())), status
