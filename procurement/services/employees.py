"""Two ways a unit's name reaches shop orders.

- The employee link (职工个人): a consumer names the unit they work for. Their own
  completed purchases are the unit's employee-personal channel.
- The promotion code (帮助销售): the unit hands out a link /u/<code>. Whoever arrives
  through it carries the code in their session; the shop copies it into
  Order.referral_code at checkout, and those sales are the unit's help-sales —
  reported beside, never inside, its own purchases.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from core import audit
from core.database import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from procurement.models import BuyerUnit, UnitEmployee, UnitStatus
from procurement.services.common import ensure_active, ensure_may_manage

# No 0/O, 1/I/L: codes are read aloud and typed from posters.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,31}")
SESSION_KEY = "referral_code"


# --- employee link ----------------------------------------------------------------------------


def employer_of(user) -> UnitEmployee | None:
    return db.session.get(UnitEmployee, user.id)


def name_employer(user, unit_id: int) -> UnitEmployee:
    """``user`` says they work for ``unit_id`` (replacing any unit they named before)."""
    unit = db.session.get(BuyerUnit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(_("No such unit."))
    if unit.status != UnitStatus.ACTIVE:
        raise ValidationFailed(_("Only an active unit can be named as your employer."), field="unit_id")
    link = employer_of(user)
    if link is not None and link.unit_id == unit.id:
        return link
    before = None if link is None else {"unit_id": link.unit_id}
    if link is None:
        link = UnitEmployee(user_id=user.id, unit_id=unit.id)
        db.session.add(link)
    else:
        link.unit_id = unit.id
        link.since = utcnow()
    db.session.flush()
    audit.record("unit.employee_named", "user", user.id, before=before, after={"unit_id": unit.id},
                 actor_id=user.id)
    return link


def clear_employer(user) -> None:
    link = employer_of(user)
    if link is None:
        return
    before = {"unit_id": link.unit_id}
    db.session.delete(link)
    db.session.flush()
    audit.record("unit.employee_cleared", "user", user.id, before=before, actor_id=user.id)


def find_units(q: str, *, limit: int = 20) -> list[BuyerUnit]:
    """Active units whose name contains ``q``, for a person looking for their employer."""
    q = (q or "").strip()[:60]
    if not q:
        return []
    return list(db.session.execute(
        sa.select(BuyerUnit).where(BuyerUnit.status == UnitStatus.ACTIVE, BuyerUnit.name.contains(q, autoescape=True))
        .order_by(sa.func.length(BuyerUnit.name), BuyerUnit.name).limit(limit)
    ).scalars())


def employee_count(unit_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(UnitEmployee).where(UnitEmployee.unit_id == unit_id)
    ).scalar_one()


# --- promotion codes --------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def regenerate_promotion_code(actor, unit: BuyerUnit) -> str:
    """Give the unit a new random promotion code; links with the old code stop counting."""
    ensure_may_manage(actor, unit)
    ensure_active(unit)
    for _attempt in range(8):
        code = _new_code()
        taken = db.session.execute(sa.select(BuyerUnit.id).where(BuyerUnit.promotion_code == code)).first()
        if not taken:
            break
    else:  # 31**8 codes: eight collisions in a row means something else is wrong
        raise Conflict(_("No free promotion code was found; please try again."))
    before = {"promotion_code": unit.promotion_code}
    unit.promotion_code = code
    db.session.flush()
    audit.record("unit.promotion_code_generated", "buyer_unit", unit.id, before=before,
                 after={"promotion_code": code}, actor_id=actor.id)
    return code


def normalise_code(raw: str | None) -> str | None:
    code = (raw or "").strip().upper()
    return code if CODE_RE.fullmatch(code) else None


def unit_for_promotion_code(raw: str | None) -> BuyerUnit | None:
    """The active unit that hands out this code, or None."""
    code = normalise_code(raw)
    if code is None:
        return None
    return db.session.execute(
        sa.select(BuyerUnit).where(BuyerUnit.promotion_code == code, BuyerUnit.status == UnitStatus.ACTIVE)
    ).scalar_one_or_none()
