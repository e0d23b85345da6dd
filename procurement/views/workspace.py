"""The unit's own workspace: its overview and sub-units, plan, members, addresses and promotion code.

Every unit member opens these pages; what changes the unit is for its
administrator (unit role ADMIN), which the services check.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.audit import AuditEntry
from core.errors import DomainError
from core.extensions import db
from core.money import fen_to_yuan
from core.permissions import Permission, require
from core.registry.services import ancestors
from procurement import bp, forms
from procurement.config import minimum_share_bp
from procurement.models import CanteenMode, UnitRole
from procurement.services import common, employees, members, plans, units
from procurement.views._helpers import attach_error, county_choices


def _context():
    member = common.unit_of(current_user)
    return member, member.unit, member.role == UnitRole.ADMIN


def _workspace_page(code_form=None, leave_form=None, status: int = 200):
    member, unit, is_unit_admin = _context()
    year = common.local_year()
    plan = plans.get_plan(unit.id, year)
    return render_template(
        "procurement/workspace.html", unit=unit, member=member, is_unit_admin=is_unit_admin, year=year,
        plan=plan, plan_status=plans.plan_status(plan), chain=ancestors(unit.region),
        sub_units=plans.sub_unit_plans(unit, year) if is_unit_admin else [],
        relations=units.assistance_of([unit.id]), employee_count=employees.employee_count(unit.id),
        code_form=code_form or forms.PromotionCodeForm(), leave_form=leave_form or forms.LeaveForm(),
        years=list(common.plan_years()), status_of=plans.plan_status,
    ), status


@bp.get("/unit/")
@require(Permission.UNIT_WORKSPACE)
def workspace():
    return _workspace_page()


# --- plan -------------------------------------------------------------------------------------


def _plan_form_from(plan) -> forms.PlanForm:
    form = forms.PlanForm()
    if plan is not None and plan.canteen_mode is not None and not form.is_submitted():
        form.canteen_mode.data = plan.canteen_mode.value
        if plan.canteen_budget_fen is not None:
            form.canteen_budget.data = str(fen_to_yuan(plan.canteen_budget_fen))
        if plan.reserved_share_bp is not None:
            form.reserved_share.data = common.share_from_bp(plan.reserved_share_bp).rstrip("%")
        form.host_unit.data = plan.host_unit.name if plan.host_unit else ""
    return form


def _plan_history(plan) -> list[AuditEntry]:
    if plan is None:
        return []
    return list(db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.target_type == "unit_plan", AuditEntry.target_id == str(plan.id))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(50)
    ).scalars())


def render_plan_page(unit, year: int, *, form=None, status: int = 200, is_unit_admin: bool = False,
                     template: str = "procurement/plan.html", **extra):
    plan = plans.get_plan(unit.id, year)
    return render_template(
        template, unit=unit, year=year, plan=plan, plan_status=plans.plan_status(plan),
        guests=plans.guests_of(unit.id, year), history=_plan_history(plan), is_unit_admin=is_unit_admin,
        form=form if form is not None else _plan_form_from(plan), years=list(common.plan_years()),
        share=common.share_from_bp, minimum=common.share_from_bp(minimum_share_bp()), **extra,
    ), status


@bp.route("/unit/plans/<int:year>", methods=["GET", "POST"])
@require(Permission.UNIT_WORKSPACE)
def unit_plan(year: int):
    _member, unit, is_unit_admin = _context()
    common.check_year(year)
    form = _plan_form_from(plans.get_plan(unit.id, year))
    if not form.is_submitted():
        return render_plan_page(unit, year, form=form, is_unit_admin=is_unit_admin)
    if not form.validate():
        return render_plan_page(unit, year, form=form, status=422, is_unit_admin=is_unit_admin)
    try:
        mode = CanteenMode(form.canteen_mode.data)
        declaration = plans.Declaration(
            canteen_mode=mode,
            canteen_budget_fen=common.parse_amount(form.canteen_budget.data, field="canteen_budget",
                                                   required=False) if mode == CanteenMode.OWN else None,
            reserved_share_bp=common.parse_percent(form.reserved_share.data, field="reserved_share")
            if mode == CanteenMode.OWN and (form.reserved_share.data or "").strip() else None,
            host_unit_id=units.unit_id_by_name(form.host_unit.data, field="host_unit")
            if mode == CanteenMode.SHARED else None,
        )
        plans.declare_plan(current_user, unit, year, declaration, reason=form.reason.data)
    except DomainError as err:
        db.session.rollback()
        attach_error(form, err)
        return render_plan_page(unit, year, form=form, status=err.status, is_unit_admin=is_unit_admin)
    db.session.commit()
    flash(_("The plan for %(year)d is saved.", year=year), "success")
    return redirect(url_for("procurement.unit_plan", year=year))


# --- members ----------------------------------------------------------------------------------


def _members_page(unit, is_unit_admin: bool, form=None, status: int = 200):
    return render_template("procurement/members.html", unit=unit, is_unit_admin=is_unit_admin,
                           members=members.members_of(unit), form=form or forms.MemberForm(),
                           role_form=forms.MemberRoleForm(), remove_form=forms.EmptyForm()), status


@bp.get("/unit/members")
@require(Permission.UNIT_WORKSPACE)
def unit_members():
    _member, unit, is_unit_admin = _context()
    return _members_page(unit, is_unit_admin)


@bp.post("/unit/members")
@require(Permission.UNIT_WORKSPACE)
def add_unit_member():
    _member, unit, is_unit_admin = _context()
    form = forms.MemberForm()
    if not form.validate_on_submit():
        return _members_page(unit, is_unit_admin, form, 422)
    try:
        members.add_member(current_user, unit, email=form.email.data, role=form.role.data)
    except DomainError as err:
        db.session.rollback()
        attach_error(form, err)
        return _members_page(unit, is_unit_admin, form, err.status)
    db.session.commit()
    flash(_("The member is added."), "success")
    return redirect(url_for("procurement.unit_members"))


@bp.post("/unit/members/<int:member_id>/role")
@require(Permission.UNIT_WORKSPACE)
def change_unit_member_role(member_id: int):
    _member, unit, _is_admin = _context()
    form = forms.MemberRoleForm()
    if not form.validate_on_submit():
        flash(_("Choose the person's role in the unit."), "error")
        return _members_page(unit, _is_admin, status=422)
    members.change_member_role(current_user, unit, member_id, form.role.data)
    db.session.commit()
    flash(_("The role is changed."), "success")
    return redirect(url_for("procurement.unit_members"))


@bp.post("/unit/members/<int:member_id>/remove")
@require(Permission.UNIT_WORKSPACE)
def remove_unit_member(member_id: int):
    _member, unit, _is_admin = _context()
    if forms.EmptyForm().validate_on_submit():
        members.remove_member(current_user, unit, member_id)
        db.session.commit()
        flash(_("The member is removed from the unit."), "success")
    return redirect(url_for("procurement.unit_members"))


@bp.post("/unit/leave")
@require(Permission.UNIT_WORKSPACE)
def leave_unit():
    form = forms.LeaveForm()
    if not form.validate_on_submit():
        return _workspace_page(leave_form=form, status=422)
    unit = members.leave_unit(current_user)
    db.session.commit()
    flash(_("You have left %(name)s.", name=unit.name), "info")
    return redirect(url_for("main.home"))


# --- addresses --------------------------------------------------------------------------------


def _addresses_page(unit, is_unit_admin: bool, form=None, status: int = 200):
    if form is None:
        form = forms.AddressForm()
    form.region_id.choices = county_choices()
    return render_template("procurement/addresses.html", unit=unit, is_unit_admin=is_unit_admin,
                           addresses=members.addresses_of(unit), form=form, retire_form=forms.EmptyForm()), status


@bp.get("/unit/addresses")
@require(Permission.UNIT_WORKSPACE)
def unit_addresses():
    _member, unit, is_unit_admin = _context()
    return _addresses_page(unit, is_unit_admin)


@bp.post("/unit/addresses")
@require(Permission.UNIT_WORKSPACE)
def add_unit_address():
    _member, unit, is_unit_admin = _context()
    form = forms.AddressForm()
    form.region_id.choices = county_choices()
    if not form.validate_on_submit():
        return _addresses_page(unit, is_unit_admin, form, 422)
    try:
        members.add_address(current_user, unit, name=form.name.data, recipient=form.recipient.data,
                            phone=form.phone.data, address=form.address.data, region_id=form.region_id.data)
    except DomainError as err:
        db.session.rollback()
        attach_error(form, err)
        return _addresses_page(unit, is_unit_admin, form, err.status)
    db.session.commit()
    flash(_("The address is added."), "success")
    return redirect(url_for("procurement.unit_addresses"))


@bp.post("/unit/addresses/<int:address_id>/retire")
@require(Permission.UNIT_WORKSPACE)
def retire_unit_address(address_id: int):
    _member, unit, _is_admin = _context()
    if forms.EmptyForm().validate_on_submit():
        members.retire_address(current_user, unit, address_id)
        db.session.commit()
        flash(_("The address is retired; orders already delivered there keep it."), "success")
    return redirect(url_for("procurement.unit_addresses"))


# --- promotion code ---------------------------------------------------------------------------


@bp.post("/unit/promotion-code")
@require(Permission.UNIT_WORKSPACE)
def regenerate_promotion_code():
    _member, unit, _is_admin = _context()
    form = forms.PromotionCodeForm()
    if not form.validate_on_submit():
        return _workspace_page(code_form=form, status=422)
    code = employees.regenerate_promotion_code(current_user, unit)
    db.session.commit()
    flash(_("The new promotion code is %(code)s.", code=code), "success")
    return redirect(url_for("procurement.workspace"))

