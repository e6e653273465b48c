"""Emails telling a patient about a fee: a no-show fee charged, a fee waived.

A late-cancellation fee is named in the cancellation's own email (`billing.receivers`); a
no-show has no email of its own, so its fee gets this one. Both are queued with the change
that caused them (`services.fees`, through `core.queueing.queue_with_change`) and sent by
`tasks.send_fee_email`. They carry what the visit emails carry (service, practitioner, time,
place) and the money, never the desk's reason for waiving.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from imsclinic.billing.fees import money_label
from imsclinic.billing.models import FeeEvent, Invoice, InvoiceKind
from imsclinic.billing.online import card_provider
from imsclinic.scheduling.ics import portal_url
from imsclinic.scheduling.notifications import local_time_label

CHARGED = "charged"
WAIVED = "waived"
KINDS = (CHARGED, WAIVED)


def fee_email_message(fee: Invoice, kind: str) -> EmailMultiAlternatives | None:
    """Compose the email about this fee; None when the patient has no email address."""
    # Imported here: the fee services queue this email.
    from imsclinic.billing.services.fees import fee_policy_sentence

    if kind not in KINDS:
        raise ValueError(f"unknown fee email {kind!r}")
    patient = fee.patient
    recipient = patient.contact_email
    visit = fee.appointment
    if not recipient or visit is None:
        return None
    location = fee.location
    clinic = location.clinic
    with translation.override(settings.LANGUAGE_CODE):
        when = local_time_label(visit.start, location.zone)
        no_show = fee.fee_event == FeeEvent.NO_SHOW
        credit_note = (
            fee.credit_notes.filter(kind=InvoiceKind.CREDIT_NOTE).order_by("pk").last()
            if kind == WAIVED
            else None
        )
        context: dict[str, Any] = {
            "kind": kind,
            "no_show": no_show,
            "name": patient.preferred_name or patient.given_name,
            "service": visit.service.name,
            "practitioner": visit.practitioner.display_name,
            "when": when,
            "clinic": clinic,
            "location": location,
            "phone": location.phone or clinic.phone,
            "amount": money_label(fee.total, clinic.currency),
            "number": fee.display_number,
            "credit_note": credit_note.display_number if credit_note is not None else "",
            "policy": fee_policy_sentence(service=visit.service, location=location),
            "late_hours": clinic.late_cancellation_hours,
            "portal_url": portal_url(),
            "card_payments": card_provider() is not None,
        }
        values = {"service": visit.service.name, "when": when}
        if kind == WAIVED:
            subject = _("Fee waived: %(service)s on %(when)s") % values
        elif no_show:
            subject = _("No-show fee: %(service)s on %(when)s") % values
        else:
            subject = _("Late-cancellation fee: %(service)s on %(when)s") % values
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("billing/email/fee.txt", context),
            to=[recipient],
            reply_to=[clinic.email] if clinic.email else [],
        )
        message.attach_alternative(render_to_string("billing/email/fee.html", context), "text/html")
    return message
