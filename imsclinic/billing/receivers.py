"""How billing reacts to the areas below it, which do not import billing.

- A visit marked completed (`scheduling.signals.visit_status_changed`) gets its draft
  invoice, in the same transaction, for the front desk to check out.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.dispatch import receiver

from imsclinic.billing.services.invoices import invoice_for_visit
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.signals import visit_status_changed

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
