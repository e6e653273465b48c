"""Background work for billing: emailing a receipt the front desk or the patient asked for."""

from __future__ import annotations

import logging

from django.tasks import task

from imsclinic.billing.models import ReceiptDelivery

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
