"""Official receipts: issued with the next receipt number, delivered (downloaded or emailed).

A receipt covers one of the patient's own payments (the invoices it paid), or the services
the patient was invoiced for in a period and what they paid on them, less what the patient's
earlier receipts already covered: each dollar paid is on one original receipt only. It
takes its number from the receipt series under the counter's lock, so numbers are never
shared or skipped.
The first delivery of a receipt is the original; every later one is marked as a copy.

Locks: the patient, then the payment, then the number counter last (as invoices do); a
delivery locks its receipt, so two at once cannot both be the original.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imsclinic.billing.errors import AlreadyReceipted, BillingRefused
from imsclinic.billing.models import (
    DocumentSeries,
    Payment,
    Receipt,
    ReceiptDelivery,
)
from imsclinic.billing.receipts import ReceiptLedger
from imsclinic.billing.services.invoices import next_number
from imsclinic.core.audit import audit_record
from imsclinic.core.locking import lock_rows
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.queueing import queue_with_change
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.http import HttpRequest

    from imsclinic.accounts.models import User

logger = logging.getLogger(__name__)


def _already_message(receipts: tuple[Receipt, ...], *, payment: bool) -> str:
    numbers = ", ".join(receipt.display_number for receipt in receipts)
    if payment:
        return ngettext(
            "Everything this payment paid is on receipt %(numbers)s already; print a copy of it.",
            "Everything this payment paid is on receipts %(numbers)s already; "
            "print a copy of them.",
            len(receipts),
        ) % {"numbers": numbers}
    return ngettext(
        "Everything paid for these visits is on receipt %(numbers)s already; print a copy of it.",
        "Everything paid for these visits is on receipts %(numbers)s already; "
        "print a copy of them.",
        len(receipts),
    ) % {"numbers": numbers}


def _check_period(period: tuple[dt.date, dt.date]) -> None:
    start, end = period
    if end < start:
        raise BillingRefused(_("The period must end on or after the day it starts."), field="end")
    if (end - start).days > 366:
        raise BillingRefused(_("A receipt covers at most a year."), field="end")


def receipt_issue(
    *,
    patient: Patient,
    actor: User | None,
    payment: Payment | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Receipt:
    """Issue an official receipt for one of the patient's payments, or for a period.

    It covers only what the patient's earlier receipts did not, so each dollar is on one
    original. Refused when it would show nothing the patient paid, or only what earlier
    receipts hold (AlreadyReceipted names them: a reprint is a copy of those), when the
    payment is not the patient's own (an insurer's payment is not their expense), or when
    the payment already has its receipt.
    """
    if (payment is None) == (period is None):
        raise BillingRefused(_("A receipt is for one payment or for a period."))
    if period is not None:
        _check_period(period)
    with transaction.atomic():
        lock_rows(Patient, patient.pk)
        if payment is not None:
            if payment.patient_id != patient.pk:
                raise BillingRefused(
                    _("Receipts are for the patient's own payments; this one is not theirs."),
                    field="payment",
                )
            lock_rows(Payment, payment.pk)
            existing = Receipt.objects.filter(payment=payment).first()
            if existing is not None:
                raise BillingRefused(
                    _("This payment already has receipt %(number)s; print a copy of it.")
                    % {"number": existing.display_number},
                    field="payment",
                )
        # Taken under the patient's lock: one patient's receipts are issued in number order.
        now = now or timezone.now()
        cover = ReceiptLedger(patient_id=patient.pk, as_of=now).cover(
            payment_id=payment.pk if payment is not None else None, period=period
        )
        field = "payment" if period is None else "start"
        if cover.total <= 0 and cover.earlier:
            raise AlreadyReceipted(
                _already_message(cover.earlier, payment=payment is not None),
                receipts=cover.earlier,
                field=field,
            )
        if cover.total <= 0:
            raise BillingRefused(
                _("None of this payment went towards an invoice, so there is nothing to receipt.")
                if period is None
                else _(
                    "Nothing was paid for services in this period, so there is nothing to receipt."
                ),
                field=field,
            )
        receipt = Receipt.objects.create(
            number=next_number(DocumentSeries.RECEIPT),
            patient=patient,
            payment=payment,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            issued_at=now,
            issued_by=actor,
        )
        detail: dict[str, object] = {"number": receipt.number}
        if payment is not None:
            detail["payment"] = payment.pk
        else:
            assert period is not None
            detail["period"] = [period[0].isoformat(), period[1].isoformat()]
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.RECEIPT,
            object_id=receipt.pk,
            patient=patient,
            request=request,
            detail=detail,
        )
    return receipt


def _deliver(
    receipt: Receipt,
    *,
    channel: str,
    actor: User | None,
    request: HttpRequest | None,
    now: dt.datetime,
) -> ReceiptDelivery:
    lock_rows(Receipt, receipt.pk)
    delivery = ReceiptDelivery.objects.create(
        receipt=receipt,
        channel=channel,
        is_copy=ReceiptDelivery.objects.filter(receipt=receipt).exists(),
        at=now,
        by=actor,
    )
    audit_record(
        actor=actor,
        action=Action.EXPORT,
        object_type=ObjectType.RECEIPT,
        object_id=receipt.pk,
        patient_id=receipt.patient_id,
        request=request,
        detail={"channel": channel, "copy": delivery.is_copy},
    )
    return delivery


def receipt_deliver(
    *,
    receipt: Receipt,
    channel: str,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> ReceiptDelivery:
    """Record that a receipt goes out (downloaded, printed); all but the first are copies."""
    with transaction.atomic():
        return _deliver(
            receipt, channel=channel, actor=actor, request=request, now=now or timezone.now()
        )


def receipt_email(
    *,
    receipt: Receipt,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> ReceiptDelivery:
    """Queue the receipt's PDF to the patient's email address, recorded as a delivery."""
    if not receipt.patient.contact_email:
        raise BillingRefused(
            _("The patient has no email address on file; add one first, or print the receipt.")
        )
    with transaction.atomic():
        delivery = _deliver(
            receipt,
            channel=ReceiptDelivery.Channel.EMAIL,
            actor=actor,
            request=request,
            now=now or timezone.now(),
        )
        delivery_id = delivery.pk

        def queue() -> None:
            from imsclinic.billing.tasks import send_receipt_email

            send_receipt_email.enqueue(delivery_id)

        # The task row commits with the delivery (see queue_with_change).
        queue_with_change(queue)
    return delivery
