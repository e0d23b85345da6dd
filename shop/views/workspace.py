"""The supplier's workspace: registration, members and invitations, household links (products: supplier_products)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core.errors import DomainError
from core.extensions import db
from core.mail import send_mail
from core.permissions import Permission, require
from shop import bp, forms
from shop.models import HouseholdLink, Product
from shop.services import links, suppliers
from shop.services.common import membership_of, supplier_of
from shop.views._helpers import attach_error, county_choices

# --- registration and invitations -----------------------------------------------------------


@bp.route("/supplier/register", methods=["GET", "POST"])
@require(Permission.ACCOUNT)
def register_supplier():
    if membership_of(current_user) is not None:
        return redirect(url_for("shop.workspace"))
    form = forms.SupplierRegistrationForm()
    form.county_id.choices = [SelectChoice(0, _("Choose a county")), *county_choices()]
    if form.validate_on_submit():
        try:
            suppliers.register_supplier(
                current_user, name=form.name.data, type=form.type.data, county_id=form.county_id.data,
                licence_number=form.licence_number.data, contact_name=form.contact_name.data,
                contact_phone=form.contact_phone.data, description=form.description.data or "",
            )
        except DomainError as err:
            db.session.rollback()
            if err.status == 403:
                raise
            attach_error(form, err)
        else:
            db.session.commit()
            flash(_("Your supplier is registered and waits for accreditation by the administrators of "
                    "its county."), "success")
            return redirect(url_for("shop.workspace"))
    status = 422 if request.method == "POST" else 200
    return render_template("shop/register_supplier.html", form=form), status


@bp.get("/invitations")
@require(Permission.ACCOUNT)
def invitations():
    return render_template("shop/invitations.html", invitations=suppliers.open_invitations_for(current_user))


@bp.post("/invitations/<int:invitation_id>/accept")
@require(Permission.ACCOUNT)
def accept_invitation(invitation_id: int):
    form = forms.ReasonForm()  # carries only the CSRF token here
    if not form.validate_on_submit():
        abort(400)
    member = suppliers.accept_invitation(invitation_id, current_user)
    db.session.commit()
    flash(_("You have joined %(name)s.", name=member.supplier.name), "success")
    return redirect(url_for("shop.workspace"))


# --- workspace overview and members ---------------------------------------------------------


def _overview(invite_form=None, status: int = 200):
    supplier = supplier_of(current_user)
    member = membership_of(current_user)
    counts = dict(db.session.execute(
        sa.select(Product.status, sa.func.count(Product.id)).where(Product.supplier_id == supplier.id)
        .group_by(Product.status)
    ).all())
    helped = links.households_helped([supplier.id]).get(supplier.id, (0, 0))
    return render_template(
        "shop/workspace.html", supplier=supplier, member=member, members=suppliers.members_of(supplier),
        invitations=suppliers.pending_invitations_of(supplier) if member.is_owner else [],
        invite_form=invite_form or forms.InviteForm(formdata=None), counts=counts, helped=helped,
        share_total=links.live_share_total(supplier.id),
    ), status


@bp.get("/workspace/")
@require(Permission.SUPPLIER_WORKSPACE)
def workspace():
    return _overview()


@bp.post("/workspace/invite")
@require(Permission.SUPPLIER_WORKSPACE)
def invite_member():
    form = forms.InviteForm()
    supplier = supplier_of(current_user)
    if form.validate_on_submit():
        try:
            invitation = suppliers.invite_member(supplier, current_user, form.email.data)
        except DomainError as err:
            db.session.rollback()
            attach_error(form, err)
        else:
            db.session.commit()
            send_mail(invitation.email, _("Join %(name)s on the consumption assistance market", name=supplier.name),
                      _("%(who)s invites you to sell for %(name)s. Log in with this e-mail address and open %(url)s "
                        "to accept.", who=current_user.display_name, name=supplier.name,
                        url=url_for("shop.invitations", _external=True)))
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("shop.workspace"))
    return _overview(form, 422)


@bp.post("/workspace/invitations/<int:invitation_id>/cancel")
@require(Permission.SUPPLIER_WORKSPACE)
def cancel_invitation(invitation_id: int):
    if not forms.ReasonForm().validate_on_submit():
        abort(400)
    suppliers.cancel_invitation(invitation_id, current_user)
    db.session.commit()
    flash(_("Invitation cancelled."), "info")
    return redirect(url_for("shop.workspace"))


# --- household links ------------------------------------------------------------------------


def _links_page(form=None, status: int = 200):
    supplier = supplier_of(current_user)
    return render_template(
        "shop/links.html", supplier=supplier, links=links.links_of_supplier(supplier.id),
        form=form or forms.HouseholdLinkForm(formdata=None),
        share_total=links.live_share_total(supplier.id),
    ), status


@bp.get("/workspace/links")
@require(Permission.SUPPLIER_WORKSPACE)
def supplier_links():
    return _links_page()


@bp.post("/workspace/links")
@require(Permission.SUPPLIER_WORKSPACE)
def declare_link():
    form = forms.HouseholdLinkForm()
    supplier = supplier_of(current_user)
    if form.validate_on_submit():
        try:
            household = links.find_household(form.id_number.data)
            links.declare_link(supplier, current_user, household, link_type=form.link_type.data,
                               started_on=form.started_on.data,
                               share_bp=links.parse_share_percent(form.share_percent.data))
        except DomainError as err:
            db.session.rollback()
            attach_error(form, err)
        else:
            db.session.commit()
            flash(_("The household link is declared."), "success")
            return redirect(url_for("shop.supplier_links"))
    form.id_number.data = ""  # never echo an ID number back into the page
    return _links_page(form, 422)


@bp.post("/workspace/links/<int:link_id>/end")
@require(Permission.SUPPLIER_WORKSPACE)
def end_link(link_id: int):
    form = forms.EndLinkForm()
    if not form.validate_on_submit():
        return _links_page(status=422)
    link = db.session.get(HouseholdLink, link_id)
    if link is None:
        abort(404)
    try:
        links.end_link(link, current_user, form.ended_on.data)
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        flash(err.message, "error")
        return _links_page(status=err.status)
    db.session.commit()
    flash(_("The link has ended; it stays in the history."), "info")
    return redirect(url_for("shop.supplier_links"))
