"""Suppliers: registration, members and invitations, and accreditation (认定).

Accreditation is an explicit state machine: ``SUPPLIER_TRANSITIONS`` lists every
allowed move with the name of the one function that makes it; anything else is
refused with ``InvalidTransition``.
"""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core import audit
from core.database import utcnow
from core.errors import Conflict, DomainError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.personal_data import mask_phone, normalise_phone
from core.registry.models import Region, RegionLevel
from shop.models import Supplier, SupplierInvitation, SupplierMember, SupplierStatus, SupplierType
from shop.services.common import ensure_admin_scope, ensure_owner, membership_of

S = SupplierStatus
SUPPLIER_TRANSITIONS: dict[tuple[SupplierStatus, SupplierStatus], str] = {
    (S.PENDING, S.APPROVED): "approve",
    (S.PENDING, S.REJECTED): "reject",
    (S.APPROVED, S.SUSPENDED): "suspend",
    (S.SUSPENDED, S.APPROVED): "reinstate",
}
# Moves that must say why: the supplier reads the reason on its workspace.
REASON_REQUIRED = {"reject", "suspend"}
INVITATION_DAYS = 14

# 统一社会信用代码 (GB 32100-2015): 18 characters from this alphabet, the last a check character.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_licence_number(raw: str) -> str:
    """Validate a unified social credit code (18 characters with a check character)."""
    value = (raw or "").strip().upper().replace(" ", "")
    if len(value) != 18 or any(c not in _USCC_ALPHABET for c in value):
        raise ValidationFailed(
            _("The unified social credit code has 18 characters: digits and capital letters except I, O, S, V, Z."),
            field="licence_number",
        )
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    if _USCC_ALPHABET[(31 - total % 31) % 31] != value[17]:
        raise ValidationFailed(_("The unified social credit code's check character does not match; "
                                 "please check the code."), field="licence_number")
    return value


def _clean_text(value: str | None, *, field: str, max_length: int, required: bool = True,
                message: str | None = None) -> str:
    text = (value or "").strip()
    if (required and not text) or len(text) > max_length:
        raise ValidationFailed(message or _("Please fill this in (up to %(n)d characters).", n=max_length),
                               field=field)
    return text


def _county(county_id: int | None) -> Region:
    county = db.session.get(Region, county_id) if county_id else None
    if county is None or county.level != RegionLevel.COUNTY:
        raise ValidationFailed(_("Choose the county where the supplier is registered."), field="county_id")
    return county


def register_supplier(
    user, *, name: str, type: SupplierType | str, county_id: int, licence_number: str, contact_name: str,
    contact_phone: str, description: str = "",
) -> Supplier:
    """A consumer account registers a supplier and becomes its owner; the supplier awaits accreditation."""
    if user.role != Role.CONSUMER:
        raise Forbidden(_("Only a personal account can register a supplier. Administrators and unit buyers "
                          "use a separate account for it."))
    if membership_of(user) is not None:
        raise Conflict(_("Your account already belongs to a supplier."))
    name = _clean_text(name, field="name", max_length=120)
    try:
        supplier_type = SupplierType(type)
    except ValueError as exc:
        raise ValidationFailed(_("Choose the kind of supplier."), field="type") from exc
    county = _county(county_id)
    licence = normalise_licence_number(licence_number)
    if db.session.execute(sa.select(Supplier.id).where(Supplier.licence_number == licence)).first():
        raise Conflict(_("A supplier with this unified social credit code is already registered."),
                       field="licence_number")
    contact = _clean_text(contact_name, field="contact_name", max_length=40)
    try:
        phone = normalise_phone(contact_phone)
    except DomainError as exc:
        raise ValidationFailed(_("Enter an 11-digit mobile number."), field="contact_phone") from exc
    supplier = Supplier(
        name=name, type=supplier_type, county_id=county.id, licence_number=licence, contact_name=contact,
        contact_phone=phone, description=_clean_text(description, field="description", max_length=2000,
                                                     required=False),
        status=SupplierStatus.PENDING,
    )
    db.session.add(supplier)
    db.session.flush()
    db.session.add(SupplierMember(user_id=user.id, supplier_id=supplier.id, is_owner=True))
    user.role = Role.SUPPLIER
    db.session.flush()
    audit.record("supplier.registered", "supplier", supplier.id, actor_id=user.id, after={
        "name": name, "type": supplier_type.value, "county_id": county.id, "licence_number": licence,
        "contact_phone": mask_phone(phone), "status": supplier.status.value,
    })
    return supplier


def get_supplier(supplier_id: int) -> Supplier:
    supplier = db.session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(_("No such supplier."))
    return supplier


# --- members and invitations ---------------------------------------------------------------


def invite_member(supplier: Supplier, actor, email: str) -> SupplierInvitation:
    """The owner invites a person by e-mail. Whoever logs in with that address may accept."""
    ensure_owner(actor, supplier)
    email = (email or "").strip().lower()
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationFailed(_("Enter a valid e-mail address."), field="email")
    if email == actor.email:
        raise ValidationFailed(_("You are already a member."), field="email")
    now = utcnow()
    open_invitation = db.session.execute(
        sa.select(SupplierInvitation).where(
            SupplierInvitation.supplier_id == supplier.id, SupplierInvitation.email == email,
            SupplierInvitation.accepted_at.is_(None), SupplierInvitation.cancelled_at.is_(None),
        )
    ).scalar_one_or_none()
    if open_invitation is not None:
        if open_invitation.expires_at > now:
            raise Conflict(_("This address has already been invited."), field="email")
        # An expired invitation is retired so that a fresh one can be sent.
        open_invitation.cancelled_at = now
        db.session.flush()
    invitation = SupplierInvitation(supplier_id=supplier.id, email=email, invited_by_id=actor.id,
                                    expires_at=now + timedelta(days=INVITATION_DAYS))
    db.session.add(invitation)
    db.session.flush()
    audit.record("supplier.member_invited", "supplier", supplier.id, after={"invitation_id": invitation.id})
    return invitation


def open_invitations_for(user) -> list[SupplierInvitation]:
    return list(db.session.execute(
        sa.select(SupplierInvitation).where(
            SupplierInvitation.email == user.email.lower(), SupplierInvitation.accepted_at.is_(None),
            SupplierInvitation.cancelled_at.is_(None), SupplierInvitation.expires_at > utcnow(),
        ).options(joinedload(SupplierInvitation.supplier)).order_by(SupplierInvitation.id)
    ).scalars())


def accept_invitation(invitation_id: int, user) -> SupplierMember:
    invitation = db.session.get(SupplierInvitation, invitation_id)
    if (invitation is None or invitation.email != user.email.lower() or invitation.accepted_at is not None
            or invitation.cancelled_at is not None):
        raise NotFound(_("No such invitation."))
    if invitation.expires_at <= utcnow():
        raise ValidationFailed(_("This invitation has expired. Ask the supplier to invite you again."))
    if user.role != Role.CONSUMER or membership_of(user) is not None:
        raise Forbidden(_("Only a personal account that belongs to no supplier can join one."))
    if invitation.supplier.status == SupplierStatus.REJECTED:
        raise ValidationFailed(_("This supplier was not accredited; it cannot take new members."))
    member = SupplierMember(user_id=user.id, supplier_id=invitation.supplier_id, is_owner=False)
    db.session.add(member)
    user.role = Role.SUPPLIER
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    db.session.flush()
    audit.record("supplier.member_joined", "supplier", invitation.supplier_id, actor_id=user.id,
                 after={"user_id": user.id, "invitation_id": invitation.id})
    return member


def cancel_invitation(invitation_id: int, actor) -> None:
    invitation = db.session.get(SupplierInvitation, invitation_id)
    if invitation is None:
        raise NotFound(_("No such invitation."))
    ensure_owner(actor, invitation.supplier)
    if invitation.accepted_at is None and invitation.cancelled_at is None:
        invitation.cancelled_at = utcnow()
        audit.record("supplier.invitation_cancelled", "supplier", invitation.supplier_id,
                     after={"invitation_id": invitation.id})


def members_of(supplier: Supplier) -> list[SupplierMember]:
    return list(db.session.execute(
        sa.select(SupplierMember).where(SupplierMember.supplier_id == supplier.id)
        .options(joinedload(SupplierMember.user)).order_by(SupplierMember.joined_at)
    ).scalars())


def pending_invitations_of(supplier: Supplier) -> list[SupplierInvitation]:
    return list(db.session.execute(
        sa.select(SupplierInvitation).where(
            SupplierInvitation.supplier_id == supplier.id, SupplierInvitation.accepted_at.is_(None),
            SupplierInvitation.cancelled_at.is_(None), SupplierInvitation.expires_at > utcnow(),
        ).order_by(SupplierInvitation.id)
    ).scalars())


# --- accreditation --------------------------------------------------------------------------


def _move(supplier: Supplier, target: SupplierStatus, via: str, actor, reason: str | None) -> Supplier:
    ensure_admin_scope(actor, supplier.county)
    if SUPPLIER_TRANSITIONS.get((supplier.status, target)) != via:
        raise InvalidTransition(
            _("A supplier that is “%(current)s” cannot be moved to “%(target)s”.",
              current=supplier.status.value, target=target.value)
        )
    reason = (reason or "").strip() or None
    if via in REASON_REQUIRED and not reason:
        raise ValidationFailed(_("Give the reason; the supplier will read it."), field="reason")
    if reason and len(reason) > 500:
        raise ValidationFailed(_("Keep the reason under 500 characters."), field="reason")
    before = {"status": supplier.status.value}
    supplier.status = target
    supplier.status_reason = reason
    if target == SupplierStatus.APPROVED and via == "approve":
        supplier.accredited_at = utcnow()
    db.session.flush()
    audit.record(f"supplier.{via}", "supplier", supplier.id, before=before, after={"status": target.value},
                 reason=reason, actor_id=actor.id)
    return supplier


def approve_supplier(supplier: Supplier, actor, reason: str | None = None) -> Supplier:
    return _move(supplier, S.APPROVED, "approve", actor, reason)


def reject_supplier(supplier: Supplier, actor, reason: str | None) -> Supplier:
    return _move(supplier, S.REJECTED, "reject", actor, reason)


def suspend_supplier(supplier: Supplier, actor, reason: str | None) -> Supplier:
    return _move(supplier, S.SUSPENDED, "suspend", actor, reason)


def reinstate_supplier(supplier: Supplier, actor, reason: str | None = None) -> Supplier:
    return _move(supplier, S.APPROVED, "reinstate", actor, reason)


ACTIONS = {
    "approve": approve_supplier,
    "reject": reject_supplier,
    "suspend": suspend_supplier,
    "reinstate": reinstate_supplier,
}


def transition_supplier(supplier: Supplier, target: SupplierStatus, actor, reason: str | None = None) -> Supplier:
    """Move ``supplier`` to ``target`` through the one function the table names for that move."""
    via = SUPPLIER_TRANSITIONS.get((supplier.status, SupplierStatus(target)))
    if via is None:
        raise InvalidTransition(
            _("A supplier that is “%(current)s” cannot be moved to “%(target)s”.",
              current=supplier.status.value, target=SupplierStatus(target).value)
        )
    return ACTIONS[via](supplier, actor, reason)


def allowed_actions(supplier: Supplier) -> list[str]:
    return [via for (start, _target), via in SUPPLIER_TRANSITIONS.items() if start == supplier.status]


def suppliers_in_scope(user, status: SupplierStatus | None = None) -> sa.Select:
    from core.registry.services import region_scope

    stmt = (sa.select(Supplier).where(region_scope(user, Supplier.county_id))
            .options(joinedload(Supplier.county)).order_by(Supplier.created_at, Supplier.id))
    if status is not None:
        stmt = stmt.where(Supplier.status == status)
    return stmt
