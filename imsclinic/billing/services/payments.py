"""Payments, their allocation to invoices, account credit and refunds.

A payment comes from a patient or from a payer. It is put towards issued invoices of that
patient (their share) or billed to that payer (the payer's share), never beyond what the
invoice still owes in that share nor beyond the payment's own amount; what is left is the
patient's (or payer's) account credit, which a later allocation spends. A refund gives back
part of what is left, to the payment's own method.

Locks, in this order: the patient (or the payer), the invoices in primary-key order, then
the payments whose money moves in primary-key order. Two front-desk computers paying the
same invoice queue on it; the second sees what the first paid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.billing import money
from imsclinic.billing.access import require_actor
from imsclinic.billing.errors import BillingRefused, OverAllocated
from imsclinic.billing.models import (
    REASON_MAX,
    REFERENCE_MAX,
    Allocation,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payer,
    Payment,
    PaymentMethod,
    Refund,
)
from imsclinic.billing.selectors import (
    figures_for,
    local_today,
    payment_left,
    payments_with_money_left,
)
from imsclinic.core.audit import audit_record
from imsclinic.core.locking import lock_rows
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.http import HttpRequest

    from imsclinic.accounts.models import User
    from imsclinic.clinic.models import Location

# Methods a patient pays by at the desk; a payer's payment may come by any of these or as
# an insurer's own payment. Card payments online need a provider (`billing.online`).
DESK_METHODS = (
    PaymentMethod.CASH,
    PaymentMethod.DEBIT,
    PaymentMethod.CREDIT_CARD,
    PaymentMethod.E_TRANSFER,
    PaymentMethod.CHEQUE,
)
# Methods only a card provider records (`billing.online`), never the desk by hand.
ONLINE_METHODS = (PaymentMethod.ONLINE_CARD,)
PAYER_METHODS = (
    PaymentMethod.INSURER,
    PaymentMethod.E_TRANSFER,
    PaymentMethod.CHEQUE,
    PaymentMethod.CREDIT_CARD,
)


@dataclass(frozen=True)
class Apply:
    """Put this much of a payment towards this invoice."""

    invoice: Invoice
    amount: Decimal


def _lock_invoices(applies: Sequence[Apply]) -> dict[int, Invoice]:
    ids = sorted({apply.invoice.pk for apply in applies})
    if ids:
        lock_rows(Invoice, *ids)
    return {invoice.pk: invoice for invoice in Invoice.objects.filter(pk__in=ids)}


def _check_applies(
    applies: Sequence[Apply],
    invoices: dict[int, Invoice],
    *,
    patient_id: int | None,
    payer_id: int | None,
    available: Decimal,
) -> list[Apply]:
    """Refuse what would pay an invoice that is not theirs or beyond what it owes."""
    figures = figures_for(invoices.values())
    merged: dict[int, Decimal] = {}
    for apply in applies:
        amount = money.to_cents(apply.amount)
        if amount < 0:
            raise OverAllocated(_("An amount put towards an invoice cannot be negative."))
        if amount == 0:
            continue
        merged[apply.invoice.pk] = merged.get(apply.invoice.pk, money.ZERO) + amount
    result = []
    for invoice_id, amount in merged.items():
        invoice = invoices[invoice_id]
        field = f"invoice.{invoice_id}"
        if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE:
            raise OverAllocated(_("Only an issued invoice can be paid."), field=field)
        if payer_id is not None:
            if invoice.payer_id != payer_id:
                raise OverAllocated(
                    _("%(number)s is not billed to this payer.")
                    % {"number": invoice.display_number},
                    field=field,
                )
            due = figures[invoice_id].payer_due
        else:
            if invoice.patient_id != patient_id:
                raise OverAllocated(
                    _("%(number)s is another patient's invoice.")
                    % {"number": invoice.display_number},
                    field=field,
                )
            due = figures[invoice_id].patient_due
        if amount > due:
            raise OverAllocated(
                _("%(number)s owes %(due)s; %(amount)s is more than that.")
                % {"number": invoice.display_number, "due": max(due, money.ZERO), "amount": amount},
                field=field,
            )
        result.append(Apply(invoice=invoice, amount=amount))
    total = sum((apply.amount for apply in result), money.ZERO)
    if total > available:
        raise OverAllocated(
            _("%(total)s would be put towards invoices, but only %(available)s is available.")
            % {"total": total, "available": available}
        )
    return result


def _check_text(value: str, limit: int, field: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise BillingRefused(_("Keep this under %(n)d characters.") % {"n": limit}, field=field)
    return value


def payment_record(
    *,
    method: str,
    amount: Decimal,
    received_on: dt.date,
    actor: User | None,
    patient: Patient | None = None,
    payer: Payer | None = None,
    allocations: Sequence[Apply] = (),
    reference: str = "",
    note: str = "",
    location: Location | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Payment:
    """Record money received and put it towards invoices; the rest is account credit."""
    if method in ONLINE_METHODS and patient is not None:
        # Confirmed by the card provider on the patient's own return (`billing.online`).
        require_actor(actor, "billing.view_own_account", patient)
    else:
        require_actor(actor, "billing.take_payment", patient)
    now = now or timezone.now()
    if (patient is None) == (payer is None):
        raise BillingRefused(_("A payment comes from a patient or from a payer."))
    if method not in (PAYER_METHODS if payer is not None else DESK_METHODS + ONLINE_METHODS):
        raise BillingRefused(_("Choose how the money was paid."), field="method")
    amount = money.to_cents(amount)
    if amount <= 0:
        raise BillingRefused(_("A payment must be more than zero."), field="amount")
    if amount >= Decimal(10) ** 10:
        raise BillingRefused(_("That amount is too large."), field="amount")
    reference = _check_text(reference, REFERENCE_MAX, "reference")
    note = _check_text(note, REASON_MAX, "note")
    if location is None and allocations:
        # Taken where the first invoice it pays was billed (the API, a payer, a card online).
        location = allocations[0].invoice.location
    if received_on > local_today(location, now=now):
        raise BillingRefused(_("A payment cannot be dated after today."), field="received_on")
    with transaction.atomic():
        if patient is not None:
            lock_rows(Patient, patient.pk)
        else:
            assert payer is not None
            lock_rows(Payer, payer.pk)
        invoices = _lock_invoices(allocations)
        applies = _check_applies(
            allocations,
            invoices,
            patient_id=patient.pk if patient is not None else None,
            payer_id=payer.pk if payer is not None else None,
            available=amount,
        )
        payment = Payment.objects.create(
            patient=patient,
            payer=payer,
            method=method,
            amount=amount,
            received_on=received_on,
            reference=reference,
            note=note,
            location=location,
            recorded_at=now,
            recorded_by=actor,
        )
        _write(payment, applies, actor=actor, now=now)
        detail: dict[str, object] = {
            "method": method,
            "amount": str(amount),
            "invoices": {str(a.invoice.pk): str(a.amount) for a in applies},
        }
        if payer is not None:
            detail["payer"] = payer.pk
            for patient_id in sorted({a.invoice.patient_id for a in applies}):
                audit_record(
                    actor=actor,
                    action=Action.CREATE,
                    object_type=ObjectType.PAYMENT,
                    object_id=payment.pk,
                    patient_id=patient_id,
                    request=request,
                    detail=detail,
                )
            if not applies:
                audit_record(
                    actor=actor,
                    action=Action.CREATE,
                    object_type=ObjectType.PAYMENT,
                    object_id=payment.pk,
                    request=request,
                    detail=detail,
                )
        else:
            audit_record(
                actor=actor,
                action=Action.CREATE,
                object_type=ObjectType.PAYMENT,
                object_id=payment.pk,
                patient=patient,
                request=request,
                detail=detail,
            )
    return payment


def _write(
    payment: Payment, applies: Sequence[Apply], *, actor: User | None, now: dt.datetime
) -> list[Allocation]:
    return Allocation.objects.bulk_create(
        [
            Allocation(
                payment=payment,
                invoice=apply.invoice,
                amount=apply.amount,
                created_at=now,
                created_by=actor,
            )
            for apply in applies
        ]
    )


def credit_apply(
    *,
    invoice: Invoice,
    amount: Decimal | None,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> list[Allocation]:
    """Pay a patient's invoice from their account credit, oldest money first.

    `amount` None: as much as the credit covers of what the patient still owes on it.
    """
    require_actor(actor, "billing.take_payment", invoice.patient)
    now = now or timezone.now()
    with transaction.atomic():
        lock_rows(Patient, invoice.patient_id)
        invoices = _lock_invoices([Apply(invoice=invoice, amount=money.ZERO)])
        locked = invoices[invoice.pk]
        patient = locked.patient
        # Read under the patient's lock: every service that spends a patient's payments
        # (allocating, paying from credit, refunding) takes that lock first.
        sources = payments_with_money_left(patient=patient)
        available = sum((left for _p, left in sources), money.ZERO)
        if available <= 0:
            raise BillingRefused(_("This patient has no account credit."))
        due = figures_for([locked])[locked.pk].patient_due
        wanted = min(available, due) if amount is None else money.to_cents(amount)
        applies = _check_applies(
            [Apply(invoice=locked, amount=wanted)],
            invoices,
            patient_id=patient.pk,
            payer_id=None,
            available=available,
        )
        if not applies:
            raise BillingRefused(_("Nothing is owed on this invoice."))
        written: list[Allocation] = []
        for payment, take in money.spread_oldest_first(applies[0].amount, sources).items():
            written += _write(payment, [Apply(invoice=locked, amount=take)], actor=actor, now=now)
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.PAYMENT,
            object_id=",".join(str(a.payment_id) for a in written),
            patient=patient,
            request=request,
            detail={"credit_applied": str(applies[0].amount), "invoice": locked.pk},
        )
    return written


def payment_allocate(
    *,
    payment: Payment,
    allocations: Sequence[Apply],
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> list[Allocation]:
    """Put what is left of an earlier payment towards invoices (a payer's cheque, say)."""
    require_actor(actor, "billing.take_payment", payment.patient)
    now = now or timezone.now()
    with transaction.atomic():
        if payment.patient_id is not None:
            lock_rows(Patient, payment.patient_id)
        else:
            lock_rows(Payer, payment.payer_id)  # type: ignore[arg-type]
        invoices = _lock_invoices(allocations)
        lock_rows(Payment, payment.pk)
        applies = _check_applies(
            allocations,
            invoices,
            patient_id=payment.patient_id,
            payer_id=payment.payer_id,
            available=payment_left(payment),
        )
        if not applies:
            raise BillingRefused(_("Say how much to put towards which invoice."))
        written = _write(payment, applies, actor=actor, now=now)
        for patient_id in sorted({a.invoice.patient_id for a in applies}):
            audit_record(
                actor=actor,
                action=Action.CREATE,
                object_type=ObjectType.PAYMENT,
                object_id=payment.pk,
                patient_id=patient_id,
                request=request,
                detail={"allocated": {str(a.invoice.pk): str(a.amount) for a in applies}},
            )
    return written


def refund_issue(
    *,
    payment: Payment,
    amount: Decimal,
    reason: str,
    refunded_on: dt.date,
    actor: User | None,
    reference: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Refund:
    """Give back part of a payment's unallocated money, to the payment's own method."""
    require_actor(actor, "billing.refund", payment.patient)
    now = now or timezone.now()
    reason = _check_text(reason, REASON_MAX, "reason")
    if not reason:
        raise BillingRefused(_("Say why the money is given back."), field="reason")
    reference = _check_text(reference, REFERENCE_MAX, "reference")
    amount = money.to_cents(amount)
    if amount <= 0:
        raise BillingRefused(_("A refund must be more than zero."), field="amount")
    if refunded_on > local_today(payment.location, now=now):
        raise BillingRefused(_("A refund cannot be dated after today."), field="refunded_on")
    if refunded_on < payment.received_on:
        raise BillingRefused(
            _("A refund cannot be dated before the payment it gives back (%(day)s).")
            % {"day": payment.received_on.isoformat()},
            field="refunded_on",
        )
    with transaction.atomic():
        if payment.patient_id is not None:
            lock_rows(Patient, payment.patient_id)
        else:
            lock_rows(Payer, payment.payer_id)  # type: ignore[arg-type]
        lock_rows(Payment, payment.pk)
        left = payment_left(payment)
        if amount > left:
            raise BillingRefused(
                _(
                    "Only %(left)s of this payment is not put towards an invoice; correct the "
                    "invoice with a credit note first to give back more."
                )
                % {"left": left},
                field="amount",
            )
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            method=payment.method,
            refunded_on=refunded_on,
            reason=reason,
            reference=reference,
            recorded_at=now,
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.REFUND,
            object_id=refund.pk,
            patient_id=payment.patient_id,
            request=request,
            detail={"payment": payment.pk, "amount": str(amount), "method": payment.method},
        )
    return refund


def release_overpaid(invoice: Invoice, *, actor: User | None, now: dt.datetime) -> None:
    """Take back what was paid on an invoice beyond what it now owes, newest money first.

    Called in the credit note's transaction, with the invoice locked: the money becomes the
    patient's (or the payer's) account credit again, by a negative allocation.
    """
    figures = figures_for([invoice])[invoice.pk]
    for over, from_payer in ((-figures.patient_due, False), (-figures.payer_due, True)):
        if over <= 0:
            continue
        rows = (
            Allocation.objects.filter(invoice=invoice, payment__payer__isnull=not from_payer)
            .order_by("-created_at", "-pk")
            .values_list("payment_id", "amount")
        )
        net: dict[int, Decimal] = {}
        order: list[int] = []
        for payment_id, amount in rows:
            if payment_id not in net:
                order.append(payment_id)
            net[payment_id] = net.get(payment_id, money.ZERO) + amount
        for payment_id in order:
            if over <= 0:
                break
            take = min(net[payment_id], over)
            if take <= 0:
                continue
            Allocation.objects.create(
                payment_id=payment_id,
                invoice=invoice,
                amount=-take,
                created_at=now,
                created_by=actor,
            )
            over -= take
