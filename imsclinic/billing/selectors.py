"""What is owed and what is paid, read the same way by every page, report and the API.

An invoice is owed in two shares: the payer's (`payer_share`) and the patient's (the rest).
Credit notes take back from both shares in the invoice's proportion; a patient's payments
pay the patient's share, a payer's payments the payer's share. A patient's balance is their
issued invoices, less credit notes, less their payments and their payers' payments on their
invoices, plus refunds of their payments: positive, they (or their payers) owe the clinic;
negative, the clinic holds their money.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Round
from django.utils import timezone

from imsclinic.billing.models import (
    MONEY_DIGITS,
    ZERO,
    Allocation,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
    Payment,
    Refund,
)
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.sql import among_ids

if TYPE_CHECKING:
    from imsclinic.clinic.models import Location
    from imsclinic.patients.models import Patient


def money_sum(field: str, *, filter: Q | None = None) -> Round:
    """Sum an amount column, rounded to the cent in the database; zero when there is none.

    SQLite keeps amounts as binary floats: unrounded, a sum of 176.33s comes back a few
    1e-14 off its cents, and a balance made of such sums is off by as much.
    """
    money = DecimalField(max_digits=MONEY_DIGITS, decimal_places=2)
    return Round(
        Coalesce(Sum(field, filter=filter), ZERO, output_field=money),
        2,
        output_field=money,
    )


_ZERO = money_sum("amount")


@dataclass(frozen=True)
class InvoiceFigures:
    """One invoice's money: what it charged, what credit notes took back, what was paid."""

    total: Decimal
    payer_share: Decimal
    credited: Decimal = ZERO
    credited_payer: Decimal = ZERO
    paid_by_patient: Decimal = ZERO
    paid_by_payer: Decimal = ZERO

    @property
    def patient_due(self) -> Decimal:
        return (
            self.total
            - self.payer_share
            - (self.credited - self.credited_payer)
            - self.paid_by_patient
        )

    @property
    def payer_due(self) -> Decimal:
        return self.payer_share - self.credited_payer - self.paid_by_payer

    @property
    def outstanding(self) -> Decimal:
        return self.patient_due + self.payer_due

    @property
    def paid(self) -> Decimal:
        return self.paid_by_patient + self.paid_by_payer

    @property
    def net_total(self) -> Decimal:
        return self.total - self.credited


def figures_for(invoices: Iterable[Invoice]) -> dict[int, InvoiceFigures]:
    """Return each issued invoice's figures, in two queries however many there are."""
    rows = {invoice.pk: invoice for invoice in invoices}
    if not rows:
        return {}
    credited: dict[int, tuple[Decimal, Decimal]] = {
        row["corrects_id"]: (row["total"], row["payer"])
        for row in Invoice.objects.filter(
            corrects_id__in=rows, kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
        )
        .values("corrects_id")
        .annotate(total=money_sum("total"), payer=money_sum("payer_share"))
    }
    paid: dict[int, tuple[Decimal, Decimal]] = {
        row["invoice_id"]: (row["patient"], row["payer"])
        for row in Allocation.objects.filter(invoice_id__in=rows)
        .values("invoice_id")
        .annotate(
            patient=money_sum("amount", filter=Q(payment__payer__isnull=True)),
            payer=money_sum("amount", filter=Q(payment__payer__isnull=False)),
        )
    }
    return {
        pk: InvoiceFigures(
            total=invoice.total,
            payer_share=invoice.payer_share,
            credited=credited.get(pk, (ZERO, ZERO))[0],
            credited_payer=credited.get(pk, (ZERO, ZERO))[1],
            paid_by_patient=paid.get(pk, (ZERO, ZERO))[0],
            paid_by_payer=paid.get(pk, (ZERO, ZERO))[1],
        )
        for pk, invoice in rows.items()
    }


def owing() -> Round:
    """What an issued invoice still waits for, as a query expression (to filter lists by).

    Its total less its credit notes and every payment on it: `InvoiceFigures.outstanding`.
    """
    money = DecimalField(max_digits=MONEY_DIGITS, decimal_places=2)
    credited = (
        Invoice.objects.filter(
            corrects=OuterRef("pk"), kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
        )
        .values("corrects")
        .annotate(s=Sum("total"))
        .values("s")
    )
    paid = (
        Allocation.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Round(
        F("total")
        - Coalesce(Subquery(credited, output_field=money), ZERO, output_field=money)
        - Coalesce(Subquery(paid, output_field=money), ZERO, output_field=money),
        2,
        output_field=money,
    )


def invoice_figures(invoice: Invoice) -> InvoiceFigures:
    """Return one invoice's figures."""
    return figures_for([invoice])[invoice.pk]


def payment_left(payment: Payment) -> Decimal:
    """Return what of a payment is neither allocated nor refunded: its payer's credit."""
    allocated = Allocation.objects.filter(payment=payment).aggregate(s=_ZERO)["s"]
    refunded = Refund.objects.filter(payment=payment).aggregate(s=_ZERO)["s"]
    return payment.amount - allocated - refunded


def payments_with_money_left(
    *, patient: Patient | None = None, payer_id: int | None = None
) -> list[tuple[Payment, Decimal]]:
    """Return the payments of a patient (or a payer) with money left, oldest first."""
    payments: QuerySet[Payment] = Payment.objects.all()
    if patient is not None:
        payments = payments.filter(patient=patient)
    elif payer_id is not None:
        payments = payments.filter(payer_id=payer_id)
    else:
        return []
    annotated = payments.annotate(
        allocated=money_sum("allocations__amount"),
    ).order_by("received_on", "pk")
    refunded = dict(
        Refund.objects.filter(payment__in=[p.pk for p in annotated])
        .values("payment_id")
        .annotate(s=_ZERO)
        .values_list("payment_id", "s")
    )
    left: list[tuple[Payment, Decimal]] = []
    for payment in annotated:
        rest = payment.amount - payment.allocated - refunded.get(payment.pk, ZERO)
        if rest > 0:
            left.append((payment, rest))
    return left


@dataclass(frozen=True)
class Account:
    """A patient's money with the clinic."""

    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    paid_by_payers: Decimal
    refunded: Decimal
    patient_owes: Decimal
    payers_owe: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Issued invoices - credit notes - payments + refunds (payers' payments included)."""
        return self.invoiced - self.credited - self.paid - self.paid_by_payers + self.refunded


def patient_account(patient: Patient) -> Account:
    """Return a patient's balance, what they and their payers owe, and their credit."""
    issued = Invoice.objects.filter(patient=patient, status=InvoiceStatus.ISSUED)
    sums = issued.aggregate(
        invoiced=money_sum("total", filter=Q(kind=InvoiceKind.INVOICE)),
        credited=money_sum("total", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
    )
    paid = Payment.objects.filter(patient=patient).aggregate(s=_ZERO)["s"]
    allocations = Allocation.objects.filter(invoice__patient=patient).aggregate(
        patient=money_sum("amount", filter=Q(payment__payer__isnull=True)),
        payers=money_sum("amount", filter=Q(payment__payer__isnull=False)),
    )
    refunded = Refund.objects.filter(payment__patient=patient).aggregate(s=_ZERO)["s"]
    figures = figures_for(issued.filter(kind=InvoiceKind.INVOICE))
    return Account(
        invoiced=sums["invoiced"],
        credited=sums["credited"],
        paid=paid,
        paid_by_payers=allocations["payers"],
        refunded=refunded,
        patient_owes=sum((f.patient_due for f in figures.values()), ZERO),
        payers_owe=sum((f.payer_due for f in figures.values()), ZERO),
        credit=paid - allocations["patient"] - refunded,
    )


@dataclass(frozen=True)
class Dues:
    """A patient's balance, and how much of it their insurers and third parties owe."""

    balance: Decimal
    payers_owe: Decimal

    @property
    def patient_owes(self) -> Decimal:
        """What the patient is asked for at the desk: the balance less their payers' shares.

        Negative when the clinic holds more of their money than they owe (account credit).
        """
        return self.balance - self.payers_owe


def dues_for(patient_ids: Iterable[int]) -> dict[int, Dues]:
    """Return each patient's balance and their payers' part of it, in four queries.

    The same figures as `patient_account` (a test holds them equal), for many patients.
    """
    ids = list(set(patient_ids))
    if not ids:
        return {}
    balance = dict.fromkeys(ids, ZERO)
    payers = dict.fromkeys(ids, ZERO)
    for row in (
        Invoice.objects.filter(among_ids("patient_id", ids), status=InvoiceStatus.ISSUED)
        .values("patient_id")
        .annotate(
            invoiced=money_sum("total", filter=Q(kind=InvoiceKind.INVOICE)),
            credited=money_sum("total", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
            payer_billed=money_sum("payer_share", filter=Q(kind=InvoiceKind.INVOICE)),
            payer_credited=money_sum("payer_share", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
        )
    ):
        patient_id = row["patient_id"]
        balance[patient_id] += row["invoiced"] - row["credited"]
        payers[patient_id] += row["payer_billed"] - row["payer_credited"]
    for patient_id, paid in (
        Payment.objects.filter(among_ids("patient_id", ids))
        .values("patient_id")
        .annotate(s=_ZERO)
        .values_list("patient_id", "s")
    ):
        balance[patient_id] -= paid
    for patient_id, paid in (
        Allocation.objects.filter(
            among_ids("invoice__patient_id", ids), payment__payer__isnull=False
        )
        .values("invoice__patient_id")
        .annotate(s=_ZERO)
        .values_list("invoice__patient_id", "s")
    ):
        balance[patient_id] -= paid
        payers[patient_id] -= paid
    for patient_id, refunded in (
        Refund.objects.filter(among_ids("payment__patient_id", ids))
        .values("payment__patient_id")
        .annotate(s=_ZERO)
        .values_list("payment__patient_id", "s")
    ):
        balance[patient_id] += refunded
    return {pk: Dues(balance=balance[pk], payers_owe=payers[pk]) for pk in ids}


def balances_for(patient_ids: Iterable[int]) -> dict[int, Decimal]:
    """Return each patient's balance (positive: owed to the clinic), in four queries."""
    return {pk: dues.balance for pk, dues in dues_for(patient_ids).items()}


def visits_paid(appointment_ids: Iterable[int]) -> frozenset[int]:
    """Return the visits among these whose invoice is issued and owes nothing (one query)."""
    credited = (
        Invoice.objects.filter(
            corrects=OuterRef("pk"), kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
        )
        .order_by()
        .values("corrects")
        .annotate(s=Sum("total"))
        .values("s")
    )
    rows = (
        Invoice.objects.filter(
            appointment_id__in=list(appointment_ids),
            kind=InvoiceKind.INVOICE,
            purpose=InvoicePurpose.VISIT,
            status=InvoiceStatus.ISSUED,
        )
        .order_by()
        .values("pk", "appointment_id", "total")
        .annotate(
            paid=money_sum("allocations__amount"),
            credited=Coalesce(
                Subquery(credited), ZERO, output_field=DecimalField(max_digits=MONEY_DIGITS)
            ),
        )
    )
    return frozenset(
        row["appointment_id"]
        for row in rows
        if row["total"] - row["credited"] - row["paid"] < Decimal("0.005")
    )


def local_today(location: Location | None = None, *, now: dt.datetime | None = None) -> dt.date:
    """Return today in the location's zone (none given: the clinic's), not the server's UTC."""
    zone = location.zone if location is not None else clinic_zone()
    return (now or timezone.now()).astimezone(zone).date()
