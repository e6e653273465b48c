"""Background work for billing: emailing a receipt asked for, and telling a patient of a fee."""

from __future__ import annotations

import logging

from django.tasks import task

from imsclinic.billing.models import Invoice, InvoicePurpose, ReceiptDelivery

logger = logging.getLogger(__name__)


@task()
def send_receipt_email(delivery_id: int) -> bool:
    """Email the receipt of this delivery, its PDF attached; say whether it went."""
    from imsclinic.billing.receipts import receipt_email_message

    delivery = (
        ReceiptDelivery.objects.select_related("receipt__patient__user", "receipt__payment")
        .filter(pk=delivery_id, channel=ReceiptDelivery.Channel.EMAIL)
        .first()
    )
    if delivery is None:
        return False
    message = receipt_email_message(delivery)
    if message is None:
        # Only ids in the log: a receipt names the patient and their care.
        logger.info("receipt delivery %s: the patient has no email address", delivery_id)
        return False
    message.send()
    return True


@task()
def send_fee_email(fee_id: int, kind: str) -> bool:
    """Email the patient that a no-show fee is charged, or a fee waived; say whether it went."""
    from imsclinic.billing.notifications import fee_email_message

    fee = (
        Invoice.objects.select_related(
            "patient__user",
            "location__clinic",
            "appointment__service",
            "appointment__practitioner",
        )
        .filter(pk=fee_id, purpose=InvoicePurpose.FEE)
        .first()
    )
    if fee is None:
        return False
    message = fee_email_message(fee, kind)
    if message is None:
        # Only ids in the log: a fee names the patient and their visit.
        logger.info("fee %s: the patient has no email address", fee_id)
        return False
    message.send()
    return True
