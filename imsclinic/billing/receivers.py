"""How billing reacts to the areas below it, which do not import billing.

- A visit marked completed (`scheduling.signals.visit_status_changed`) gets its draft
  invoice, in the same transaction, for the front desk to check out.
- A visit the patient cancelled late, or marked a no-show (the same signal), is charged its
  fee, issued in that transaction, when the owner set one for the service (`services.fees`);
  a visit the clinic cancelled is never charged.
- A visit's email (`scheduling.signals.notice_composing`) states the service's fee policy.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.dispatch import receiver
from django.utils.translation import gettext

from imsclinic.billing.fees import money_label
from imsclinic.billing.models import FeeEvent, Invoice, InvoicePurpose, InvoiceStatus
from imsclinic.billing.services.fees import fee_for_visit, fee_policy_sentence
from imsclinic.billing.services.invoices import invoice_for_visit
from imsclinic.scheduling.models import Appointment, AppointmentStatus, CancelledBy, NoticeKind
from imsclinic.scheduling.signals import notice_composing, visit_status_changed

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


@receiver(visit_status_changed, sender=Appointment, dispatch_uid="billing_invoice_on_completion")
def invoice_on_completion(
    sender: Any,
    *,
    appointment: Appointment,
    target: str,
    actor: User | None,
    now: dt.datetime,
    **kwargs: Any,
) -> None:
    """Draft the visit's invoice when it is completed."""
    if target == AppointmentStatus.COMPLETED:
        invoice_for_visit(appointment=appointment, actor=actor, now=now)


@receiver(visit_status_changed, sender=Appointment, dispatch_uid="billing_fee_on_lost_visit")
def fee_on_lost_visit(
    sender: Any,
    *,
    appointment: Appointment,
    target: str,
    late: bool,
    actor: User | None,
    now: dt.datetime,
    **kwargs: Any,
) -> None:
    """Charge the fee of a patient's late cancellation or a no-show (moves send no signal)."""
    if (
        target == AppointmentStatus.CANCELLED
        and late
        and appointment.cancelled_by != CancelledBy.CLINIC
    ):
        fee_for_visit(appointment=appointment, event=FeeEvent.LATE_CANCEL, actor=actor, now=now)
    elif target == AppointmentStatus.NO_SHOW:
        fee_for_visit(appointment=appointment, event=FeeEvent.NO_SHOW, actor=actor, now=now)


@receiver(notice_composing, sender=Appointment, dispatch_uid="billing_fee_policy_in_notice")
def fee_policy_in_notice(
    sender: Any, *, appointment: Appointment, kind: str, **kwargs: Any
) -> dict[str, str]:
    """Return the fee policy for an email about a visit to come; the fee charged, if cancelled."""
    if kind == NoticeKind.CANCELLATION:
        fee = (
            Invoice.objects.filter(
                appointment=appointment, purpose=InvoicePurpose.FEE, status=InvoiceStatus.ISSUED
            )
            .select_related("location__clinic")
            .first()
        )
        if fee is None:
            return {}
        return {
            "fee_charged": gettext(
                "As the visit was cancelled less than %(hours)d hours before, a "
                "late-cancellation fee of %(amount)s is charged (invoice %(number)s, under "
                '"Bills and receipts" in your portal). If something kept you away that you '
                "could not help, call us."
            )
            % {
                "hours": fee.location.clinic.late_cancellation_hours,
                "amount": money_label(fee.total, fee.location.clinic.currency),
                "number": fee.display_number,
            }
        }
    return {
        "fee_policy": fee_policy_sentence(
            service=appointment.service, location=appointment.location
        )
    }
