"""How billing reacts to the areas below it, which do not import billing.

- A visit marked completed (`scheduling.signals.visit_status_changed`) gets its draft
  invoice, in the same transaction, for the front desk to check out.
- A visit cancelled late or marked a no-show (the same signal) is charged its fee, issued in
  that transaction, when the owner set one for the service (`services.fees`).
- A visit's email (`scheduling.signals.notice_composing`) states the service's fee policy.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.dispatch import receiver

from imsclinic.billing.models import FeeEvent
from imsclinic.billing.services.fees import fee_for_visit, fee_policy_sentence
from imsclinic.billing.services.invoices import invoice_for_visit
from imsclinic.scheduling.models import Appointment, AppointmentStatus, NoticeKind
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
    """Charge the fee of a late cancellation or a no-show (reschedules send no signal)."""
    if target == AppointmentStatus.CANCELLED and late:
        fee_for_visit(appointment=appointment, event=FeeEvent.LATE_CANCEL, actor=actor, now=now)
    elif target == AppointmentStatus.NO_SHOW:
        fee_for_visit(appointment=appointment, event=FeeEvent.NO_SHOW, actor=actor, now=now)


@receiver(notice_composing, sender=Appointment, dispatch_uid="billing_fee_policy_in_notice")
def fee_policy_in_notice(
    sender: Any, *, appointment: Appointment, kind: str, **kwargs: Any
) -> dict[str, str]:
    """Return the service's fee policy for an email about a visit still to come."""
    if kind == NoticeKind.CANCELLATION:
        return {}
    return {
        "fee_policy": fee_policy_sentence(
            service=appointment.service, location=appointment.location
        )
    }
