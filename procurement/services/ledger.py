"""Writing and reading the plan ledger (``procurement.models_ledger.PlanLedgerEntry``).

Acceptance (验收) adds one row per accepted line for the accepted amount; a return
after acceptance adds a negative row. Both are written in the transaction of the
transition that causes them, with one INSERT each (never a query per line).
The year and month are those of the event in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from core.database import utcnow
from core.extensions import db
from procurement.models_ledger import LedgerReason, PlanLedgerEntry
from procurement.models_orders import ProcurementLine, ProcurementOrder, ProcurementPart
from procurement.services.common import LOCAL_TIMEZONE
from shop.models import OrderLine, Product


def _local_year_month(at: datetime) -> tuple[int, int]:
    local = at.astimezone(LOCAL_TIMEZONE)
    return local.year, local.month


def write_acceptance(order: ProcurementOrder, part: ProcurementPart, at: datetime) -> None:
    """One ledger row per accepted line of ``part``: accepted quantity × snapshotted unit price."""
    year, month = _local_year_month(at)
    select = (
        sa.select(
            sa.literal(order.unit_id), sa.literal(year), sa.literal(month), sa.literal(order.channel.value),
            sa.literal(LedgerReason.ACCEPTED.value),
            ProcurementLine.accepted_quantity * OrderLine.unit_price_fen,
            OrderLine.id, Product.origin_county_id, Product.category_id,
            sa.literal(at, PlanLedgerEntry.recorded_at.type),
        )
        .join(OrderLine, OrderLine.id == ProcurementLine.order_line_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(ProcurementLine.part_id == part.id, ProcurementLine.accepted_quantity > 0)
    )
    db.session.execute(sa.insert(PlanLedgerEntry).from_select(
        ["unit_id", "year", "month", "channel", "reason", "amount_fen", "order_line_id", "origin_county_id",
         "category_id", "recorded_at"], select))


def write_return(order: ProcurementOrder, quantities: dict[int, int], at: datetime | None = None) -> None:
    """Negative rows for goods sent back after acceptance: ``{order_line_id: quantity}``."""
    at = at or utcnow()
    year, month = _local_year_month(at)
    rows = db.session.execute(
        sa.select(OrderLine.id, OrderLine.unit_price_fen, Product.origin_county_id, Product.category_id)
        .join(Product, Product.id == OrderLine.product_id).where(OrderLine.id.in_(quantities))
    ).all()
    db.session.execute(sa.insert(PlanLedgerEntry), [
        {"unit_id": order.unit_id, "year": year, "month": month, "channel": order.channel,
         "reason": LedgerReason.RETURNED, "amount_fen": -quantities[line_id] * price, "order_line_id": line_id,
         "origin_county_id": county_id, "category_id": category_id, "recorded_at": at}
        for line_id, price, county_id, category_id in rows
    ])


def counted_fen(unit_ids: list[int] | tuple[int, ...], year: int) -> int:
    """What counts toward the plans of ``unit_ids`` in ``year`` (procurement channels only)."""
    return int(db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(PlanLedgerEntry.amount_fen), 0))
        .where(PlanLedgerEntry.unit_id.in_(list(unit_ids)), PlanLedgerEntry.year == year)
    ).scalar_one())
