"""Household links (联农带农): the registry households a supplier is bound to.

A link's benefit share is stored in basis points; the live links of one
supplier share at most 100%. Administrators of the household's region can
challenge a link (it stops counting until cleared); ended links stay as history.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload

from core import audit
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.personal_data import hash_id_number, normalise_id_number
from core.registry.models import Household, Region
from core.registry.services import pepper, region_scope
from shop.models import HouseholdLink, LinkStatus, LinkType, Supplier, SupplierStatus
from shop.services.common import ensure_admin_scope, ensure_member, local_today

L = LinkStatus
LINK_TRANSITIONS: dict[tuple[LinkStatus, LinkStatus], str] = {
    (L.ACTIVE, L.CHALLENGED): "challenge",
    (L.CHALLENGED, L.ACTIVE): "clear",
    (L.ACTIVE, L.ENDED): "end",
    (L.CHALLENGED, L.ENDED): "end",
}
LIVE = (LinkStatus.ACTIVE, LinkStatus.CHALLENGED)
FULL_SHARE_BP = 10_000


def parse_share_percent(text: str | int | Decimal) -> int:
    """"12.5" (percent) → 1250 basis points; at most two decimals, above 0 and at most 100."""
    if isinstance(text, float):
        raise TypeError("shares are never floats")
    try:
        value = Decimal(str(text).strip().rstrip("%"))
    except InvalidOperation as exc:
        raise ValidationFailed(_("Enter the share as a percentage, e.g. 12.5."), field="share_percent") from exc
    bp = value * 100
    if not bp.is_finite() or bp != bp.to_integral_value():
        raise ValidationFailed(_("Use at most two decimals for the share."), field="share_percent")
    if not 0 < bp <= FULL_SHARE_BP:
        raise ValidationFailed(_("The share must be above 0% and at most 100%."), field="share_percent")
    return int(bp)


def live_share_total(supplier_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(HouseholdLink.benefit_share_bp), 0))
        .where(HouseholdLink.supplier_id == supplier_id, HouseholdLink.status.in_(LIVE))
    ).scalar_one()


def find_household(id_number: str) -> Household:
    """The registry household whose head has this ID number (matched by its keyed hash)."""
    try:
        value = normalise_id_number(id_number)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field="id_number") from exc
    household = db.session.execute(
        sa.select(Household).where(Household.id_number_hash == hash_id_number(value, pepper()))
    ).scalar_one_or_none()
    if household is None:
        raise ValidationFailed(_("No registered household has this ID number."), field="id_number")
    return household


def declare_link(
    supplier: Supplier, actor, household: Household, *, link_type: LinkType | str, started_on: date,
    share_bp: int,
) -> HouseholdLink:
    ensure_member(actor, supplier.id, not_found_message=_("No such supplier."))
    if supplier.status not in (SupplierStatus.PENDING, SupplierStatus.APPROVED):
        raise ValidationFailed(_("A supplier that is rejected or suspended cannot declare households."))
    village = household.village
    if not village.path.startswith(supplier.county.path):
        raise ValidationFailed(_("The household must live in a village of your own county."), field="id_number")
    try:
        kind = LinkType(link_type)
    except ValueError as exc:
        raise ValidationFailed(_("Choose how the household is linked."), field="link_type") from exc
    if started_on is None or started_on > date.today():  # noqa: DTZ011 — a calendar date, not an instant
        raise ValidationFailed(_("The start date cannot be in the future."), field="started_on")
    if not 0 < share_bp <= FULL_SHARE_BP:
        raise ValidationFailed(_("The share must be above 0% and at most 100%."), field="share_percent")
    # Serialise declarations of one supplier so that two at once cannot pass 100% together.
    db.session.execute(sa.select(Supplier.id).where(Supplier.id == supplier.id).with_for_update())
    if db.session.execute(
        sa.select(HouseholdLink.id).where(HouseholdLink.supplier_id == supplier.id,
                                          HouseholdLink.household_id == household.id,
                                          HouseholdLink.status.in_(LIVE))
    ).first():
        raise Conflict(_("This household is already linked to your supplier."), field="id_number")
    total = live_share_total(supplier.id)
    if total + share_bp > FULL_SHARE_BP:
        raise ValidationFailed(
            _("Shares of all your households would reach %(total)s%%; at most 100%% is possible "
              "(%(left)s%% left).", total=_percent(total + share_bp), left=_percent(FULL_SHARE_BP - total)),
            field="share_percent",
        )
    link = HouseholdLink(supplier_id=supplier.id, household_id=household.id, link_type=kind,
                         started_on=started_on, benefit_share_bp=share_bp, status=LinkStatus.ACTIVE)
    db.session.add(link)
    db.session.flush()
    audit.record("household_link.declared", "household_link", link.id, after={
        "supplier_id": supplier.id, "household_id": household.id, "link_type": kind.value,
        "started_on": started_on.isoformat(), "benefit_share_bp": share_bp,
    })
    return link


def _percent(bp: int) -> str:
    return f"{Decimal(bp) / 100:.2f}".rstrip("0").rstrip(".")


def get_link(link_id: int) -> HouseholdLink:
    link = db.session.execute(
        sa.select(HouseholdLink).where(HouseholdLink.id == link_id)
        .options(joinedload(HouseholdLink.household).joinedload(Household.village),
                 joinedload(HouseholdLink.supplier))
    ).scalar_one_or_none()
    if link is None:
        raise NotFound(_("No such household link."))
    return link


def _move(link: HouseholdLink, target: LinkStatus, via: str) -> dict:
    if LINK_TRANSITIONS.get((link.status, target)) != via:
        raise InvalidTransition(_("A link that is “%(current)s” cannot be moved to “%(target)s”.",
                                  current=link.status.value, target=target.value))
    before = {"status": link.status.value}
    link.status = target
    return before


def challenge_link(link: HouseholdLink, actor, note: str | None) -> HouseholdLink:
    ensure_admin_scope(actor, link.household.village)
    note = (note or "").strip()
    if not note or len(note) > 500:
        raise ValidationFailed(_("Say what is questioned (up to 500 characters)."), field="note")
    before = _move(link, LinkStatus.CHALLENGED, "challenge")
    link.challenge_note = note
    db.session.flush()
    audit.record("household_link.challenged", "household_link", link.id, before=before,
                 after={"status": link.status.value}, reason=note)
    return link


def clear_link(link: HouseholdLink, actor, note: str | None = None) -> HouseholdLink:
    ensure_admin_scope(actor, link.household.village)
    before = _move(link, LinkStatus.ACTIVE, "clear")
    # The challenge note stays on the row: it is the history of what was questioned.
    db.session.flush()
    audit.record("household_link.cleared", "household_link", link.id, before=before,
                 after={"status": link.status.value}, reason=(note or "").strip() or None)
    return link


def end_link(link: HouseholdLink, actor, ended_on: date | None = None) -> HouseholdLink:
    ensure_member(actor, link.supplier_id, not_found_message=_("No such household link."))
    ended_on = ended_on or local_today()
    if ended_on < link.started_on:
        raise ValidationFailed(_("A link cannot end before it started."), field="ended_on")
    before = _move(link, LinkStatus.ENDED, "end")
    link.ended_on = ended_on
    db.session.flush()
    audit.record("household_link.ended", "household_link", link.id, before=before,
                 after={"status": link.status.value, "ended_on": ended_on.isoformat()})
    return link


LINK_ACTIONS = {"challenge": challenge_link, "clear": clear_link, "end": end_link}


def transition_link(link: HouseholdLink, target: LinkStatus, actor, note: str | None = None) -> HouseholdLink:
    via = LINK_TRANSITIONS.get((link.status, LinkStatus(target)))
    if via is None:
        raise InvalidTransition(_("A link that is “%(current)s” cannot be moved to “%(target)s”.",
                                  current=link.status.value, target=LinkStatus(target).value))
    if via == "end":
        return end_link(link, actor)
    return LINK_ACTIONS[via](link, actor, note)


def links_of_supplier(supplier_id: int) -> list[HouseholdLink]:
    return list(db.session.execute(
        sa.select(HouseholdLink).where(HouseholdLink.supplier_id == supplier_id)
        .options(joinedload(HouseholdLink.household).joinedload(Household.village))
        .order_by(HouseholdLink.status != LinkStatus.ENDED, HouseholdLink.id)
    ).scalars())


def links_in_scope(user, status: LinkStatus | None = None) -> sa.Select:
    village = aliased(Region)
    stmt = (
        sa.select(HouseholdLink, Household, village, Supplier)
        .join(Household, Household.id == HouseholdLink.household_id)
        .join(village, village.id == Household.village_id)
        .join(Supplier, Supplier.id == HouseholdLink.supplier_id)
        .where(region_scope(user, Household.village_id))
        .order_by(HouseholdLink.id.desc())
    )
    if status is not None:
        stmt = stmt.where(HouseholdLink.status == status)
    return stmt


def households_helped(supplier_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Households and people each supplier helps through active links, in one grouped query."""
    if not supplier_ids:
        return {}
    rows = db.session.execute(
        sa.select(HouseholdLink.supplier_id, sa.func.count(sa.distinct(Household.id)),
                  sa.func.coalesce(sa.func.sum(Household.member_count), 0))
        .join(Household, Household.id == HouseholdLink.household_id)
        .where(HouseholdLink.supplier_id.in_(supplier_ids), HouseholdLink.status == LinkStatus.ACTIVE)
        .group_by(HouseholdLink.supplier_id)
    ).all()
    return {sid: (n, people) for sid, n, people in rows}
