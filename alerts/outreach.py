"""Telling the recommended buyer units about a warning, their answers, the orders that followed, and
the conversion from warning to order.

The job calls ``reach_out`` for the warnings it opened or raised: the top ``ALERTS_RECOMMEND_TOP``
units of ``alerts.recommend`` get one ``Outreach`` row each and their administrators and buyers a
notification pointing at the unit's page ("产品滞销求助"). A rise tells only units not yet told
and records the rise on the rows of those already told. Everything is written in bulk.

An order *followed* an outreach when the unit submitted a procurement order containing the
warned product at or after the moment it was told (and, for a resolved warning, not after it
was resolved), and the order was not rejected. The orders are found in one statement, never
stored, so that an order placed by any path counts.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from alerts import bulk, recommend
from alerts import rules as rules_mod
from alerts.models import SHOWN_STATUSES, Notification, Warning, WarningLevel, WarningStatus
from alerts.models_outreach import Outreach, OutreachAnswer
from core import audit
from core.accounts.models import User
from core.database import utcnow
from core.errors import Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.registry.models import Region
from procurement.models import BuyerUnit, UnitMember
from procurement.models_orders import ProcurementOrder, ProcurementStatus
from procurement.services.common import LOCAL_TIMEZONE, unit_of
from shop.models import Order, OrderLine, Product, SubOrder

MAX_QUANTITY = 10_000  # the procurement cart's own limit per product
LEVEL_ORDER = (WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW, WarningLevel.BLUE)


def outreach_path(outreach_id: int | None = None) -> str:
    """The unit's outreach page as a path; built without a request (the job runs from Celery and the CLI)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    path = adapter.build("alerts.unit_outreach", {})
    return f"{path}#outreach-{outreach_id}" if outreach_id else path


# --- the job's part -----------------------------------------------------------------------------


def reach_out(told: list[tuple[int, int, WarningLevel]], *, year: int, now: datetime | None = None
              ) -> list[tuple[str, str, str]]:
    """Tell the recommended units about warnings just opened or raised: ``told`` is (warning id, product
    id, level). Flushes; returns the e-mails to send after the commit (when SMTP is configured)."""
    now = now or utcnow()
    top = recommend.top_setting()
    if not told or top <= 0:
        return []
    ranked = recommend.recommend_many({pid for _w, pid, _l in told}, top=top, year=year, now=now)
    warning_ids = sorted({wid for wid, _p, _l in told})
    already = set(db.session.execute(sa.select(Outreach.warning_id, Outreach.unit_id)
                                     .where(Outreach.warning_id.in_(warning_ids))).all())
    # Units already told about a warning that rose: record the rise, do not tell them again.
    told_before = {wid for wid, _u in already}
    rises = [{"w_id": wid, "w_level": level, "w_at": now} for wid, _p, level in told if wid in told_before]
    if rises:
        table = Outreach.__table__
        db.session.connection().execute(
            table.update().where(table.c.warning_id == sa.bindparam("w_id"))
            .values(level=sa.bindparam("w_level"), raised_at=sa.bindparam("w_at")), rises)
    new = [(wid, level, rec) for wid, pid, level in told for rec in ranked[pid] if (wid, rec.unit_id) not in already]
    if not new:
        return []
    members: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in db.session.execute(
            sa.select(UnitMember.user_id, UnitMember.unit_id).join(User, User.id == UnitMember.user_id)
            .where(UnitMember.unit_id.in_(sorted({r.unit_id for _w, _l, r in new})),
                   UnitMember.role.in_(recommend.TOLD_ROLES), User.active.is_(True))
            .order_by(UnitMember.user_id)):
        members[unit_id].append(user_id)
    # The same unit recommended for many products mostly carries the same figures: serialised once each.
    figures: dict[tuple, bulk.Serialised] = {}

    def figures_of(rec: recommend.Recommendation) -> bulk.Serialised:
        key = (rec.unit_id, rec.assisted, rec.assistance_kind, rec.county_name, rec.plan_fen, rec.counted_fen,
               rec.purchases_fen, rec.distance)
        if key not in figures:
            figures[key] = bulk.Serialised(json.dumps(rec.figures(year)))
        return figures[key]

    told_ids = {unit_id: bulk.Serialised(json.dumps(user_ids)) for unit_id, user_ids in members.items()}
    ids = bulk.insert_returning_ids(Outreach.__table__, new, lambda item: {
        "warning_id": item[0], "unit_id": item[2].unit_id, "rank": item[2].rank, "figures": figures_of(item[2]),
        "level": item[1], "notified_at": now, "told_user_ids": told_ids.get(item[2].unit_id, bulk.Serialised("[]")),
        "answer_note": "", "created_at": now}, key=("warning_id", "unit_id"))
    facts = {wid: (name, county) for wid, name, county in db.session.execute(
        sa.select(Warning.id, Product.name, Region.name).join(Product, Product.id == Warning.product_id)
        .join(Region, Region.id == Product.origin_county_id).where(Warning.id.in_(warning_ids)))}
    # Translated once, formatted per outreach: the same text as ``_(template, **values)``.
    template = _("Help wanted: %(product)s from %(county)s may go unsold (%(level)s). Your unit is among those "
                 "recommended to buy it.")
    levels = {level: str(label) for level, label in rules_mod.LEVEL_LABELS.items()}
    path = outreach_path()

    def rows():
        for (wid, level, rec), oid in zip(new, ids, strict=True):
            name, county = facts[wid]
            text = template % {"product": name, "county": county, "level": levels[level]}
            link = f"{path}#outreach-{oid}"
            for uid in members[rec.unit_id]:
                yield {"user_id": uid, "text": text[:500], "link": link, "warning_id": wid, "created_at": now}

    told_any = bulk.insert_rows(Notification.__table__, rows())
    if not current_app.config.get("SMTP_HOST") or not told_any:
        return []
    emails = dict(db.session.execute(sa.select(User.id, User.email).where(
        User.id.in_(sorted({uid for _w, _l, rec in new for uid in members[rec.unit_id]})))).all())
    return [(emails[r["user_id"]], _("Help wanted: produce that may go unsold"), f"{r['text']}\n{r['link']}")
            for r in rows() if r["user_id"] in emails]


# --- the orders that followed -------------------------------------------------------------------


@dataclass
class FollowingOrder:
    procurement_order_id: int
    number: str
    submitted_at: datetime
    status: str
    quantity: int
    amount_fen: int


def following_orders(outreach_ids: list[int]) -> dict[int, list[FollowingOrder]]:
    """outreach id → the procurement orders that followed it (one statement), oldest first."""
    if not outreach_ids:
        return {}
    stmt = (
        sa.select(Outreach.id, ProcurementOrder.id, Order.number, ProcurementOrder.submitted_at,
                  ProcurementOrder.status, sa.func.sum(OrderLine.quantity),
                  sa.func.sum(OrderLine.amount_fen))
        .join(Warning, Warning.id == Outreach.warning_id)
        .join(ProcurementOrder, sa.and_(*_follows()))
        .join(Order, Order.id == ProcurementOrder.order_id)
        .join(SubOrder, SubOrder.order_id == Order.id)
        .join(OrderLine, sa.and_(OrderLine.sub_order_id == SubOrder.id, OrderLine.product_id == Warning.product_id))
        .where(Outreach.id.in_(outreach_ids))
        .group_by(Outreach.id, ProcurementOrder.id, Order.number, ProcurementOrder.submitted_at,
                  ProcurementOrder.status)
        .order_by(Outreach.id, ProcurementOrder.submitted_at, ProcurementOrder.id)
    )
    out: dict[int, list[FollowingOrder]] = defaultdict(list)
    for oid, po_id, number, submitted_at, status, quantity, amount in db.session.execute(stmt):
        out[oid].append(FollowingOrder(po_id, number, submitted_at, getattr(status, "value", status), int(quantity),
                                       int(amount)))
    return out


def _follows() -> list[sa.ColumnElement[bool]]:
    """The join condition from (Outreach, Warning) to the ProcurementOrder rows that followed."""
    return [ProcurementOrder.unit_id == Outreach.unit_id, ProcurementOrder.submitted_at >= Outreach.notified_at,
            ProcurementOrder.status != ProcurementStatus.REJECTED,
            sa.or_(Warning.resolved_at.is_(None), ProcurementOrder.submitted_at <= Warning.resolved_at)]


def _followed_by_product() -> sa.ColumnElement[bool]:
    """EXISTS an order line of the warned product in the ProcurementOrder (joined in the enclosing query)."""
    return (sa.select(OrderLine.id).join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
            .where(SubOrder.order_id == ProcurementOrder.order_id, OrderLine.product_id == Warning.product_id)
            .correlate(ProcurementOrder, Warning).exists())


# --- the unit's side ----------------------------------------------------------------------------


@dataclass
class UnitOutreachRow:
    outreach: Outreach
    warning: Warning
    product: Product
    county_name: str
    suggested_quantity: int
    on_sale: bool
    orders: list[FollowingOrder] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return recommend.reasons(self.outreach.figures)

    @property
    def live(self) -> bool:
        return self.warning.status in SHOWN_STATUSES


def suggested_quantity(warning: Warning, product: Product, room_fen: int | None) -> int:
    """What to put in the cart: the units at risk, no more than the plan's room buys, no more than the
    stock, never under the product's minimum order quantity, never over the cart's limit."""
    price = max(product.price_fen, 1)
    at_risk = -(-warning.amount_at_risk_fen // price) if warning.amount_at_risk_fen else product.stock
    quantity = at_risk
    if room_fen is not None and room_fen > 0:
        quantity = min(quantity, room_fen // price)
    if product.stock:
        quantity = min(quantity, product.stock)
    return max(product.min_order_qty, min(quantity, MAX_QUANTITY), 1)


def unit_rows(unit_id: int, *, outreach_id: int | None = None, limit: int = 100) -> list[UnitOutreachRow]:
    """The unit's outreach, live warnings first, newest first (three statements whatever the number)."""
    from shop.models import Supplier
    from shop.services.catalog import on_sale

    live_first = sa.case((Warning.status.in_(SHOWN_STATUSES), 0), else_=1)
    stmt = (sa.select(Outreach, Warning, Product, Region.name, on_sale().label("on_sale"))
            .join(Warning, Warning.id == Outreach.warning_id).join(Product, Product.id == Warning.product_id)
            .join(Supplier, Supplier.id == Product.supplier_id).join(Region, Region.id == Product.origin_county_id)
            .where(Outreach.unit_id == unit_id))
    if outreach_id is not None:
        stmt = stmt.where(Outreach.id == outreach_id)
    rows = db.session.execute(stmt.order_by(live_first, Outreach.notified_at.desc(), Outreach.id.desc())
                              .limit(limit)).all()
    orders = following_orders([o.id for o, *_rest in rows])
    return [UnitOutreachRow(o, w, p, county, suggested_quantity(w, p, o.figures.get("room_fen")),
                            bool(sale) and w.status in SHOWN_STATUSES, orders.get(o.id, []))
            for o, w, p, county, sale in rows]


def mark_seen(user, unit_id: int) -> int:
    """The first member to open the unit's list marks its new outreach seen (one statement)."""
    return db.session.execute(
        sa.update(Outreach).where(Outreach.unit_id == unit_id, Outreach.seen_at.is_(None))
        .values(seen_at=utcnow(), seen_by_id=user.id).execution_options(synchronize_session=False)).rowcount


def get_for_member(user, outreach_id: int) -> Outreach:
    """An outreach of the member's own unit; another unit's answers NotFound (it does not exist for them)."""
    member = unit_of(user)
    outreach = db.session.execute(sa.select(Outreach).where(
        Outreach.id == outreach_id, Outreach.unit_id == member.unit_id)).scalar_one_or_none()
    if outreach is None:
        raise NotFound(_("No such request for help."))
    return outreach


def answer(user, outreach: Outreach, value: OutreachAnswer | str, note: str = "") -> Outreach:
    """A unit administrator or buyer answers: ordering (from the one-click path) or declined ("not for us")."""
    member = unit_of(user)
    if member.unit_id != outreach.unit_id:
        raise NotFound(_("No such request for help."))
    if member.role not in recommend.TOLD_ROLES:
        raise Forbidden(_("Only the unit's administrator or a buyer answers a request for help."))
    try:
        value = OutreachAnswer(value)
    except ValueError:
        raise ValidationFailed(_("Choose an answer."), field="answer") from None
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationFailed(_("Keep the note under 500 characters."), field="note")
    before = {"answer": outreach.answer.value if outreach.answer else None}
    outreach.answer, outreach.answered_at, outreach.answered_by_id = value, utcnow(), user.id
    outreach.answer_note = note
    if outreach.seen_at is None:
        outreach.seen_at, outreach.seen_by_id = outreach.answered_at, user.id
    audit.record(f"alerts.outreach_{value.value}", "alert_outreach", outreach.id, before=before,
                 after={"answer": value.value, "unit_id": outreach.unit_id, "warning_id": outreach.warning_id},
                 reason=note or None, actor_id=user.id)
    db.session.flush()
    return outreach


# --- the administrators' side -------------------------------------------------------------------


@dataclass
class AdminOutreachRow:
    outreach: Outreach
    unit_name: str
    told: list[str]
    answered_by: str | None
    orders: list[FollowingOrder]

    @property
    def reasons(self) -> list[str]:
        return recommend.reasons(self.outreach.figures)


def warning_rows(warning: Warning) -> list[AdminOutreachRow]:
    """Who was recommended and told about ``warning``, who answered, which orders followed (three statements)."""
    rows = db.session.execute(
        sa.select(Outreach, BuyerUnit.name).join(BuyerUnit, BuyerUnit.id == Outreach.unit_id)
        .where(Outreach.warning_id == warning.id).order_by(Outreach.notified_at, Outreach.rank, Outreach.id)).all()
    user_ids = {uid for o, _n in rows for uid in (o.told_user_ids or [])} | {
        o.answered_by_id for o, _n in rows if o.answered_by_id}
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_(sorted(user_ids)))).all()) if user_ids else {}
    orders = following_orders([o.id for o, _n in rows])
    return [AdminOutreachRow(o, unit_name, [names.get(uid, "—") for uid in (o.told_user_ids or [])],
                             names.get(o.answered_by_id) if o.answered_by_id else None, orders.get(o.id, []))
            for o, unit_name in rows]


# --- conversion ---------------------------------------------------------------------------------


@dataclass
class ConversionRow:
    level: WarningLevel | None  # None: every level
    opened: int = 0
    recommended: int = 0  # warnings with at least one unit told
    units_told: int = 0
    units_answered: int = 0
    converted: int = 0  # warnings with at least one following order
    orders: int = 0
    resolved: int = 0
    median_hours_to_resolution: float | None = None
    median_hours_to_first_order: float | None = None
    _resolution: list[float] = field(default_factory=list, repr=False)
    _first_order: list[float] = field(default_factory=list, repr=False)

    @property
    def conversion_percent(self) -> float | None:
        """Warnings with a following order ÷ warnings opened, in percent (one decimal)."""
        return round(self.converted * 100 / self.opened, 1) if self.opened else None

    def count(self, hours_to_resolution: float | None, hours_to_first_order: float | None, told: int,
              answered: int, orders: int) -> None:
        self.opened += 1
        self.recommended += 1 if told else 0
        self.units_told += told
        self.units_answered += answered
        self.orders += orders
        if orders:
            self.converted += 1
        if hours_to_resolution is not None:
            self.resolved += 1
            self._resolution.append(hours_to_resolution)
        if hours_to_first_order is not None:
            self._first_order.append(hours_to_first_order)

    def finish(self) -> None:
        self.median_hours_to_resolution = round(statistics.median(self._resolution), 1) if self._resolution else None
        self.median_hours_to_first_order = (round(statistics.median(self._first_order), 1) if self._first_order
                                            else None)


@dataclass
class Conversion:
    since: date
    until: date
    levels: list[ConversionRow]
    total: ConversionRow


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TIMEZONE).astimezone(UTC)


def conversion(scope: sa.ColumnElement[bool], since: date, until: date) -> Conversion:
    """Warnings opened from ``since`` to ``until`` (Asia/Shanghai days, inclusive) among those ``scope``
    (a WHERE clause over Warning joined to Product) admits, by level: how many led to an order, and
    the median time from opening to resolution and to the first following order. Two statements."""
    if until < since:
        raise ValidationFailed(_("The end date comes before the start date."), field="until")
    start, end = local_day_start(since), local_day_start(until + timedelta(days=1))
    per_outreach = (
        sa.select(Outreach.id.label("outreach_id"), Outreach.warning_id,
                  sa.case((Outreach.answer.is_not(None), 1), else_=0).label("answered"))
        .join(Warning, Warning.id == Outreach.warning_id).join(Product, Product.id == Warning.product_id)
        .where(scope, Warning.opened_at >= start, Warning.opened_at < end)
    ).subquery("per_outreach")
    told = (sa.select(per_outreach.c.warning_id, sa.func.count().label("told"),
                      sa.func.sum(per_outreach.c.answered).label("answered"))
            .group_by(per_outreach.c.warning_id)).subquery("told")
    followed = (
        sa.select(Outreach.warning_id, sa.func.count(sa.distinct(ProcurementOrder.id)).label("orders"),
                  sa.func.min(ProcurementOrder.submitted_at).label("first_order_at"))
        .join(Warning, Warning.id == Outreach.warning_id)
        .join(ProcurementOrder, sa.and_(*_follows(), _followed_by_product()))
        .where(Outreach.id.in_(sa.select(per_outreach.c.outreach_id)))
        .group_by(Outreach.warning_id)
    ).subquery("followed")
    rows = db.session.execute(
        sa.select(Warning.level, Warning.opened_at, Warning.resolved_at, Warning.status,
                  sa.func.coalesce(told.c.told, 0), sa.func.coalesce(told.c.answered, 0),
                  sa.func.coalesce(followed.c.orders, 0), followed.c.first_order_at)
        .join(Product, Product.id == Warning.product_id)
        .outerjoin(told, told.c.warning_id == Warning.id).outerjoin(followed, followed.c.warning_id == Warning.id)
        .where(scope, Warning.opened_at >= start, Warning.opened_at < end)).all()
    by_level = {lv: ConversionRow(lv) for lv in LEVEL_ORDER}
    total = ConversionRow(None)
    for level, opened_at, resolved_at, status, n_told, n_answered, n_orders, first_order_at in rows:
        opened_at = _aware(opened_at)
        to_resolution = (_hours(_aware(resolved_at) - opened_at)
                         if resolved_at is not None and status == WarningStatus.RESOLVED else None)
        to_order = _hours(_aware(first_order_at) - opened_at) if first_order_at is not None else None
        for target in (by_level[WarningLevel(level)], total):
            target.count(to_resolution, to_order, int(n_told), int(n_answered), int(n_orders))
    for row in (*by_level.values(), total):
        row.finish()
    return Conversion(since, until, [by_level[lv] for lv in LEVEL_ORDER], total)


def _aware(value: datetime | str) -> datetime:
    """A timestamp from an aggregate: SQLite hands MIN() back as text, naive, in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hours(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0) / 3600
