"""Late-cancellation and no-show fees: charged when the visit is lost, waived with a reason.

A fee is an invoice of its own (purpose FEE) for the visit, issued at once in the transaction
that cancelled the visit late or marked it a no-show (`billing.receivers`), so the visit
never changes without its fee nor the fee without the visit. One fee per visit: the visit is
locked by scheduling's service, and a unique constraint stands behind the check. Waiving
never deletes: a credit note takes the whole fee back and a `FeeWaiver` says why. The
patient is emailed when a no-show fee is charged and when any fee is waived
(`notifications`); a late cancellation's fee is named in the cancellation's own email.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from imsclinic.billing import fees, money
from imsclinic.billing.access import require_actor
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import (
    REASON_MAX,
    CancellationFeePolicy,
    FeeEvent,
    FeeWaiver,
    Invoice,
    InvoiceKind,
    InvoicePurpose,
    InvoiceStatus,
    ItemKind,
)
from imsclinic.billing.services.invoices import (
    credit_note_issue,
    draft_add_line,
    draft_recompute,
    invoice_issue,
    price_of,
    tax_of,
)
from imsclinic.billing.tasks import send_fee_email
from imsclinic.clinic.models import Clinic
from imsclinic.core.audit import audit_record
from imsclinic.core.locking import lock_rows
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.queueing import queue_with_change

if TYPE_CHECKING:
    from django.http import HttpRequest

    from imsclinic.accounts.models import User
    from imsclinic.clinic.models import Location, Service
    from imsclinic.scheduling.models import Appointment


def fee_policies(service: Service) -> dict[str, CancellationFeePolicy]:
    """Return the service's fee policies by event (late_cancel, no_show); absent: no fee."""
    return {
        policy.event: policy for policy in CancellationFeePolicy.objects.filter(service=service)
    }


def fee_of(policy: CancellationFeePolicy, service: Service, location: Location) -> Decimal:
    """Return what the policy charges for this service here, before tax."""
    price = price_of(service, location) if policy.share_percent is not None else money.ZERO
    return fees.fee_amount(amount=policy.amount, share_percent=policy.share_percent, price=price)


def fee_policies_by_service(services: list[Service]) -> dict[int, dict[str, CancellationFeePolicy]]:
    """Return each service's fee policies by event, for a list of services, in one query."""
    found: dict[int, dict[str, CancellationFeePolicy]] = {service.pk: {} for service in services}
    for policy in CancellationFeePolicy.objects.filter(service__in=services):
        found[policy.service_id][policy.event] = policy
    return found


def fee_policy_sentence(
    *,
    service: Service,
    location: Location | None = None,
    policies: dict[str, CancellationFeePolicy] | None = None,
    clinic: Clinic | None = None,
) -> str:
    """Return the service's policy as patients read it ("" when it has none).

    At a location the amounts are priced there; without one (the public list of services)
    a share is stated as a share of the visit's fee. A list passes `policies` (from
    `fee_policies_by_service`) and `clinic` to read them once.
    """
    policies = fee_policies(service) if policies is None else policies
    if not policies:
        return ""
    if location is not None:
        clinic = location.clinic
    elif clinic is None:
        clinic = Clinic.current()
    if clinic is None:
        return ""

    def terms(event: str) -> fees.FeeTerms | None:
        policy = policies.get(event)
        if policy is None:
            return None
        if location is None and policy.share_percent is not None:
            return fees.FeeTerms(share_percent=policy.share_percent)
        amount = (
            fee_of(policy, service, location)
            if location is not None
            else money.to_cents(policy.amount or money.ZERO)
        )
        return fees.FeeTerms(amount=amount) if amount > 0 else None

    tax_name = ""
    if location is not None:
        tax_name, tax_rate = tax_of(location, ItemKind.FEE)
        tax_name = tax_name if tax_rate > 0 else ""
    return fees.policy_sentence(
        late=terms(FeeEvent.LATE_CANCEL),
        no_show=terms(FeeEvent.NO_SHOW),
        hours=clinic.late_cancellation_hours,
        currency=clinic.currency,
        tax_name=tax_name,
    )


def _fee_description(event: str, service: Service, day: dt.date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        values = {"service": service.name, "date": date_format(day, "j F Y")}
        if event == FeeEvent.NO_SHOW:
            return _("No-show fee: %(service)s on %(date)s") % values
        return _("Late-cancellation fee: %(service)s on %(date)s") % values


def fee_for_visit(
    *,
    appointment: Appointment,
    event: str,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Invoice | None:
    """Charge the visit's late-cancellation or no-show fee: an issued invoice, or None.

    None when the service has no policy for the event or it comes to nothing; the fee
    already charged when the visit has one. Called inside the transaction that changed the
    visit (which holds its row lock); the fee is the patient's alone, never a payer's.
    """
    now = now or timezone.now()
    event = FeeEvent(event)
    with transaction.atomic():
        existing = (
            Invoice.objects.filter(
                appointment=appointment, purpose=InvoicePurpose.FEE, kind=InvoiceKind.INVOICE
            )
            .exclude(status=InvoiceStatus.DISCARDED)
            .first()
        )
        if existing is not None:
            return existing
        policy = CancellationFeePolicy.objects.filter(
            service=appointment.service, event=event
        ).first()
        if policy is None:
            return None
        location = appointment.location
        amount = fee_of(policy, appointment.service, location)
        if amount <= 0:
            return None
        day = appointment.start.astimezone(location.zone).date()
        invoice = Invoice.objects.create(
            kind=InvoiceKind.INVOICE,
            purpose=InvoicePurpose.FEE,
            fee_event=event,
            patient=appointment.patient,
            location=location,
            practitioner=appointment.practitioner,
            appointment=appointment,
            service_date=day,
            created_at=now,
            created_by=actor,
        )
        draft_add_line(
            invoice,
            item_kind=ItemKind.FEE,
            description=_fee_description(event, appointment.service, day),
            quantity=Decimal("1"),
            unit_price=amount,
            service=appointment.service,
        )
        draft_recompute(invoice)
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.INVOICE,
            object_id=invoice.pk,
            patient=appointment.patient,
            request=request,
            detail={"purpose": "fee", "event": str(event), "appointment": appointment.pk},
        )
        invoice_issue(invoice=invoice, actor=actor, request=request, now=now)
        if event == FeeEvent.NO_SHOW:
            # A late cancellation's fee is named in the cancellation's email.
            _tell_the_patient(invoice, "charged")
    return invoice


def _tell_the_patient(fee: Invoice, kind: str) -> None:
    """Queue the patient's email about this fee, to go if and only if the change commits."""
    fee_id = fee.pk
    queue_with_change(lambda: send_fee_email.enqueue(fee_id, kind))


def fee_waive(
    *,
    fee_invoice: Invoice,
    reason: str,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> FeeWaiver:
    """Waive a fee once: a credit note for all of it, and the reason kept beside it.

    What the patient already paid on the fee goes back to their account credit
    (`credit_note_issue` releases it).
    """
    require_actor(actor, "billing.waive_fee", fee_invoice.patient)
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise BillingRefused(_("Say why the fee is waived."), field="reason")
    if len(reason) > REASON_MAX:
        raise BillingRefused(
            _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX}, field="reason"
        )
    with transaction.atomic():
        lock_rows(Invoice, fee_invoice.pk)
        fee = Invoice.objects.select_related("patient").get(pk=fee_invoice.pk)
        if fee.purpose != InvoicePurpose.FEE or fee.kind != InvoiceKind.INVOICE:
            raise BillingRefused(_("Only a late-cancellation or no-show fee can be waived."))
        if fee.status != InvoiceStatus.ISSUED:
            raise BillingRefused(_("Only an issued fee can be waived."))
        if FeeWaiver.objects.filter(fee_invoice=fee).exists():
            raise BillingRefused(_("This fee has already been waived."))
        note = credit_note_issue(
            invoice=fee,
            amounts=None,
            reason=reason,
            actor=actor,
            request=request,
            now=now,
        )
        waiver = FeeWaiver.objects.create(
            fee_invoice=fee, credit_note=note, reason=reason, waived_at=now, waived_by=actor
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.FEE_WAIVER,
            object_id=waiver.pk,
            patient=fee.patient,
            request=request,
            detail={"fee": fee.number, "credit_note": note.number, "total": str(note.total)},
        )
        _tell_the_patient(fee, "waived")
    return waiver
