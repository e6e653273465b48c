"""Money arithmetic with no database: rounding, lines, shares and ageing.

Every amount is a `Decimal` to the cent. A line is rounded once, half-up to the cent: its
amount (quantity times unit price), then its tax on that rounded amount; an invoice's totals
are sums of rounded lines, never a rounding of the sum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def to_cents(value: Decimal) -> Decimal:
    """Round half-up to the cent (2.345 -> 2.35, -2.345 -> -2.35)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def share_of(amount: Decimal, percent: Decimal) -> Decimal:
    """Return percent % of amount, rounded once."""
    return to_cents(amount * percent / HUNDRED)


@dataclass(frozen=True)
class LineFigures:
    amount: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


def line_figures(quantity: Decimal, unit_price: Decimal, tax_percent: Decimal) -> LineFigures:
    """Return a line's amount and tax, each rounded once."""
    amount = to_cents(quantity * unit_price)
    return LineFigures(amount=amount, tax=share_of(amount, tax_percent))


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


def totals(lines: Iterable[LineFigures]) -> Totals:
    """Add up rounded lines."""
    subtotal = tax = ZERO
    for line in lines:
        subtotal += line.amount
        tax += line.tax
    return Totals(subtotal=subtotal, tax=tax)


# The receivables ageing buckets: days past the invoice date, inclusive bounds.
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


def ageing_bucket(issued_on: dt.date, as_of: dt.date) -> str:
    """Name the ageing bucket of an amount owed since issued_on, seen on as_of."""
    days = max((as_of - issued_on).days, 0)
    for name, low, high in AGEING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return AGEING_BUCKETS[-1][0]


def spread_oldest_first[K: Hashable](
    amount: Decimal, owed: Sequence[tuple[K, Decimal]]
) -> dict[K, Decimal]:
    """Put `amount` towards what is owed, in the order given (oldest first), never beyond it.

    Returns only the parts that receive something; what does not fit stays unspread (the
    payer's account credit).
    """
    spread: dict[K, Decimal] = {}
    rest = amount
    for key, due in owed:
        if rest <= 0:
            break
        take = min(rest, due)
        if take > 0:
            spread[key] = take
            rest -= take
    return spread
