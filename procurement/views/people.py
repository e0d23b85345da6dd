"""Pages for people rather than units: naming one's employer (职工个人), registering a unit,
and the public promotion link /u/<code> (帮助销售)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.errors import DomainError
from core.extensions import db
from core.permissions import Permission, Role, require
from procurement import bp, forms, public_bp
from procurement.services import common, employees, units
from procurement.views._helpers import attach_error, region_choices

# --- employer ---------------------------------------------------------------------------------


def _employer_page(status: int = 200):
    q = (request.args.get("q") or "").strip()[:60]
    return render_template("procurement/employer.html", link=employees.employer_of(current_user), q=q,
                           results=employees.find_units(q), form=forms.EmployerForm(),
                           clear_form=forms.EmptyForm()), status


@bp.get("/employer")
@require(Permission.SHOP_BUY)
def employer():
    return _employer_page()


@bp.post("/employer")
@require(Permission.SHOP_BUY)
def name_employer():
    form = forms.EmployerForm()
    if not form.validate_on_submit() or not str(form.unit_id.data).isdigit():
        flash(_("Choose your unit from the search results."), "error")
        return _employer_page(422)
    link = employees.name_employer(current_user, int(form.unit_id.data))
    db.session.commit()
    flash(_("Saved: you work for %(name)s. Your purchases from now on count as its employees' purchases.",
            name=link.unit.name), "success")
    return redirect(url_for("procurement.employer"))


@bp.post("/employer/clear")
@require(Permission.SHOP_BUY)
def clear_employer():
    if forms.EmptyForm().validate_on_submit():
        employees.clear_employer(current_user)
        db.session.commit()
        flash(_("You no longer name an employer."), "info")
    return redirect(url_for("procurement.employer"))


# --- registering a unit -----------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@require(Permission.SHOP_BUY)
def register_unit():
    form = forms.RegisterUnitForm()
    form.region_id.choices = region_choices(current_user)
    may_register = current_user.role == Role.CONSUMER and common.membership_of(current_user) is None
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                unit = units.register_unit(
                    current_user, name=form.name.data, type=form.type.data, region_id=form.region_id.data,
                    parent_id=units.unit_id_by_name(form.parent.data),
                )
            except DomainError as err:
                db.session.rollback()
                attach_error(form, err)
                status = err.status
            else:
                db.session.commit()
                flash(_("%(name)s is registered and waits for an administrator of its region. You are its "
                        "administrator.", name=unit.name), "success")
                return redirect(url_for("procurement.workspace"))
    return render_template("procurement/register.html", form=form, may_register=may_register), status


# --- the public promotion link ----------------------------------------------------------------


@public_bp.get("/u/<code>")
def promotion_link(code: str):
    """Remember the unit's promotion code for this visitor; the shop copies it into the order at checkout."""
    unit = employees.unit_for_promotion_code(code)
    if unit is not None:
        session[employees.SESSION_KEY] = unit.promotion_code
        flash(_("Welcome! Your purchases help %(name)s's consumption-assistance effort.", name=unit.name), "info")
    else:
        flash(_("This promotion link is no longer valid, but you are welcome to shop."), "info")
    return redirect(url_for("main.home"))
