"""Where an online card provider plugs in; none is built in.

A provider is a class implementing `CardProvider`, named by its dotted path in the setting
`BILLING_CARD_PROVIDER` (environment variable of the same name). With none set,
`card_provider()` is None and the portal offers no card payment: it says to pay at the
clinic or by e-transfer. With one set, the portal's "Pay by card" sends the patient to the
provider for what they still owe on an invoice (`card_payment_start`), and the provider's
return to the portal is confirmed with the provider and recorded as an online card payment
through `payment_record`, once however often the provider calls back (`card_payment_record`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentMethod
from imsclinic.billing.selectors import invoice_figures, local_today
from imsclinic.billing.services.payments import Apply, payment_record
from imsclinic.core.locking import lock_rows
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.http import HttpRequest

    from imsclinic.accounts.models import User


@dataclass(frozen=True)
class CardCharge:
    """A card payment the provider confirms: for which invoice, how much, its reference."""

    invoice_id: int
    amount: Decimal
    reference: str
    # The provider's date for it, which may be in the provider's zone (often UTC), a day
    # ahead of the clinic's evening: recorded as the clinic's today then.
    paid_on: dt.date


class CardProvider(Protocol):
    """An online card provider: starts payments and confirms what was paid."""

    def start_payment(
        self, *, invoice: Invoice, amount: Decimal, currency: str, return_url: str
    ) -> str:
        """Open a payment of `amount` towards `invoice`; return the URL to send the patient to.

        The provider sends the patient back to `return_url` with its own query parameters.
        """
        ...

    def confirm(self, data: Mapping[str, str]) -> CardCharge | None:
        """Check a return or callback's parameters with the provider itself.

        Return the charge it confirms, or None when it confirms none (declined, abandoned,
        forged). Never trust the parameters alone.
        """
        ...


def card_provider() -> CardProvider | None:
    """Return the configured card provider, or None when the clinic has none."""
    path = getattr(settings, "BILLING_CARD_PROVIDER", "")
    if not path:
        return None
    provider: CardProvider = import_string(path)()
    return provider


def card_payment_start(
    *, provider: CardProvider, invoice: Invoice, currency: str, return_url: str
) -> str:
    """Start paying what the patient still owes on an issued invoice; return where to go."""
    if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.ISSUED:
        raise BillingRefused(_("Only an issued invoice can be paid online."))
    due = invoice_figures(invoice).patient_due
    if due <= 0:
        raise BillingRefused(_("Nothing is owed on this invoice."))
    return provider.start_payment(
        invoice=invoice, amount=due, currency=currency, return_url=return_url
    )


def card_payment_record(
    *,
    provider: CardProvider,
    data: Mapping[str, str],
    patient: Patient,
    actor: User | None,
    request: HttpRequest | None = None,
) -> Payment:
    """Record the card payment the provider confirms, once per provider reference."""
    charge = provider.confirm(data)
    if charge is None or not charge.reference:
        raise BillingRefused(_("The card payment was not confirmed; nothing was charged here."))
    invoice = Invoice.objects.filter(pk=charge.invoice_id, patient=patient).first()
    if invoice is None:
        raise BillingRefused(_("That payment is not for one of your invoices."))
    with transaction.atomic():
        # A provider may call back twice: the patient's lock makes the second see the first.
        lock_rows(Patient, patient.pk)
        existing = Payment.objects.filter(
            patient=patient, method=PaymentMethod.ONLINE_CARD, reference=charge.reference
        ).first()
        if existing is not None:
            return existing
        due = invoice_figures(invoice).patient_due
        return payment_record(
            method=PaymentMethod.ONLINE_CARD,
            amount=charge.amount,
            # The money is taken: a date ahead of the clinic's today is its zone, not an error.
            received_on=min(charge.paid_on, local_today(invoice.location)),
            actor=actor,
            patient=patient,
            # Paid beyond what is owed (a second tab, a correction meanwhile): it is credit.
            allocations=[Apply(invoice=invoice, amount=min(charge.amount, due))] if due > 0 else [],
            reference=charge.reference,
            request=request,
        )
