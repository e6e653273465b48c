"""Late-cancellation and no-show fees with no database: what a policy costs, said plainly.

A policy is a fixed amount or a share of the visit's price at its location; the share is
rounded once, half-up to the cent (`money.share_of`). The sentence patients read states
both events in one line when they cost the same, and each on its own when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imsclinic.billing import money

# Currencies written with a dollar sign before the amount; any other is written after it.
DOLLAR_CURRENCIES = frozenset({"CAD", "USD", "AUD", "NZD"})


def fee_amount(*, amount: Decimal | None, share_percent: Decimal | None, price: Decimal) -> Decimal:
    """Return the fee before tax: the fixed amount, or the share of the price, rounded once."""
    if amount is not None:
        return money.to_cents(amount)
    if share_percent is not None:
        return money.share_of(price, share_percent)
    return money.ZERO


def money_label(amount: Decimal, currency: str) -> str:
    """Write an amount as patients read it: "$40", "$47.50", "40 EUR"."""
    cents = money.to_cents(amount)
    figure = f"{cents:,.0f}" if cents == cents.to_integral_value() else f"{cents:,.2f}"
    if currency.upper() in DOLLAR_CURRENCIES:
        return f"${figure}"
    return f"{figure} {currency.upper()}"


@dataclass(frozen=True)
class FeeTerms:
    """What one event costs: an amount, or (with no location to price it) a share."""

    amount: Decimal | None = None
    share_percent: Decimal | None = None

    def label(self, currency: str) -> str:
        if self.amount is not None:
            return money_label(self.amount, currency)
        percent = (self.share_percent or money.ZERO).normalize()
        return _("%(percent)s%% of the visit's fee") % {"percent": f"{percent:f}"}


def policy_sentence(
    *,
    late: FeeTerms | None,
    no_show: FeeTerms | None,
    hours: int,
    currency: str,
    tax_name: str = "",
) -> str:
    """Return the policy as one plain sentence, or "" when neither event costs anything.

    E.g. "Cancelling less than 24 hours before, or missing the visit, costs $40."
    """
    plus = (" " + _("plus %(tax)s") % {"tax": tax_name}) if tax_name else ""
    late_label = late.label(currency) + plus if late is not None else ""
    no_show_label = no_show.label(currency) + plus if no_show is not None else ""
    if late_label and late_label == no_show_label:
        return ngettext(
            "Cancelling less than %(hours)d hour before, or missing the visit, costs %(fee)s.",
            "Cancelling less than %(hours)d hours before, or missing the visit, costs %(fee)s.",
            hours,
        ) % {"hours": hours, "fee": late_label}
    if late_label and no_show_label:
        return ngettext(
            "Cancelling less than %(hours)d hour before costs %(late)s; missing the visit "
            "costs %(missed)s.",
            "Cancelling less than %(hours)d hours before costs %(late)s; missing the visit "
            "costs %(missed)s.",
            hours,
        ) % {"hours": hours, "late": late_label, "missed": no_show_label}
    if late_label:
        return ngettext(
            "Cancelling less than %(hours)d hour before costs %(fee)s.",
            "Cancelling less than %(hours)d hours before costs %(fee)s.",
            hours,
        ) % {"hours": hours, "fee": late_label}
    if no_show_label:
        return _("Missing the visit costs %(fee)s.") % {"fee": no_show_label}
    return ""
