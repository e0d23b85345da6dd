"""Money is integer fen (分). One parser and one formatter for ¥ amounts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ValidationFailed


def parse_yuan(text: str | int | Decimal) -> int:
    """Parse "12.5", "¥1,234.00" or a Decimal into integer fen; refuse sub-fen amounts."""
    if isinstance(text, float):
        raise TypeError("money is never a float")
    raw = str(text).strip().replace(",", "").replace("¥", "").replace("￥", "")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValidationFailed(f"“{text}” is not an amount of money") from exc
    if not value.is_finite():
        raise ValidationFailed(f"“{text}” is not an amount of money")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValidationFailed(f"“{text}” has more than two decimal places")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_fen(fen: int | None, *, symbol: bool = True) -> str:
    if fen is None:
        return "—"
    yuan = fen_to_yuan(fen)
    text = f"{yuan:,.2f}"
    return f"¥{text}" if symbol else text


def format_fen_wan(fen: int | None) -> str:
    """Large amounts in 万元 / 亿元, as official reports write them."""
    if fen is None:
        return "—"
    yuan = Decimal(fen) / 100
    if abs(yuan) >= Decimal(100_000_000):
        return f"{(yuan / Decimal(100_000_000)).quantize(Decimal('0.01'), ROUND_HALF_UP)}亿元"
    if abs(yuan) >= Decimal(10_000):
        return f"{(yuan / Decimal(10_000)).quantize(Decimal('0.01'), ROUND_HALF_UP)}万元"
    return f"{yuan.quantize(Decimal('0.01'))}元"
