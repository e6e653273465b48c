"""Background work for consent: the signer's PDF copy, and the notices of a withdrawal."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Clinic
from imsclinic.consent.models import ConsentSignature
from imsclinic.consent.pdf import pdf_filename, signature_pdf
from imsclinic.consent.selectors import (
    StateCode,
    consent_state,
    local_time_text,
    withdrawal_notice_team,
)
from imsclinic.core.mailing import retry_unsent, send_each

logger = logging.getLogger(__name__)


@task()
def send_signed_copy(signature_id: int) -> bool:
    """Email the patient a PDF of what was signed, once; say whether it went."""
    with transaction.atomic():
        signature = (
            ConsentSignature.objects.select_for_update(of=("self",), no_key=True)
            .select_related("patient__user", "version__document", "recorded_by")
            .filter(pk=signature_id)
            .first()
        )
        if signature is None or signature.copy_emailed_at is not None:
            return False
        to = signature.patient.contact_email
        if not to:
            logger.info("consent signature %s: the patient has no email address", signature_id)
            return False
        clinic = Clinic.current()
        clinic_name = clinic.name if clinic is not None else ""
        message = EmailMessage(
            subject=_("Your signed consent - %(clinic)s") % {"clinic": clinic_name},
            body=_(
                "Hello,\n\nAttached is a copy of the consent to IMS treatment signed on "
                "%(date)s (version %(number)d). Please keep it for your records.\n\n"
                "You can withdraw your consent at any time in the patient portal or by "
                "telling the clinic.\n\n%(clinic)s"
            )
            % {
                "number": signature.version.number,
                "date": local_time_text(signature.signed_at),
                "clinic": clinic_name,
            },
            to=[to],
            reply_to=[clinic.email] if clinic is not None and clinic.email else None,
        )
        message.attach(pdf_filename(signature), signature_pdf(signature), "application/pdf")
        message.send()
        signature.copy_emailed_at = timezone.now()
        signature.save(update_fields=["copy_emailed_at"])
    return True


@task()
def send_withdrawal_notice(signature_id: int) -> int:
    """Tell the care team and the patient, once, that consent to needling was withdrawn.

    Each active practitioner on the care team gets a link (keyed by the withdrawal, not the
    patient) and no health information, so whoever would needle next knows before the
    visit; the patient gets a dated record of it (they may have withdrawn by phone). Nothing
    is sent if they have signed again meanwhile. When no email at all could go, it tries again
    in 15 minutes for a day; when only some went, the others are logged as errors and not
    retried, so nobody is told twice. Returns the number of emails sent.
    """
    with transaction.atomic():
        signature = (
            ConsentSignature.objects.select_for_update(of=("self",), no_key=True)
            .select_related("patient__user")
            .filter(pk=signature_id)
            .first()
        )
        if (
            signature is None
            or signature.withdrawn_at is None
            or signature.withdrawal_emailed_at is not None
        ):
            return 0
        patient = signature.patient
        if consent_state(patient).code != StateCode.WITHDRAWN:
            logger.info("consent withdrawal %s: signed again since; no notice", signature_id)
            _mark_told(signature)
            return 0
        messages = _withdrawal_messages(signature)
        sent = send_each(messages, about=f"consent withdrawal {signature_id}")
        if messages and not sent:
            retry_unsent(
                send_withdrawal_notice,
                signature_id,
                since=signature.withdrawn_at,
                about=f"consent withdrawal {signature_id}",
            )
            return 0
        _mark_told(signature)
    logger.info("consent withdrawal %s: %d of %d emailed", signature_id, sent, len(messages))
    return sent


def _mark_told(signature: ConsentSignature) -> None:
    signature.withdrawal_emailed_at = timezone.now()
    signature.save(update_fields=["withdrawal_emailed_at"])


def _withdrawal_messages(signature: ConsentSignature) -> list[EmailMessage]:
    """Return the emails for the care team first, then the patient."""
    patient = signature.patient
    clinic = Clinic.current()
    clinic_name = clinic.name if clinic is not None else ""
    link = settings.SITE_URL + reverse("staff_consent_withdrawal", args=[signature.pk])
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for address in withdrawal_notice_team(patient):
            messages.append(
                EmailMessage(
                    subject=_("Consent to needling withdrawn - %(clinic)s")
                    % {"clinic": clinic_name},
                    body=_(
                        "Hello,\n\nA patient on your care team has withdrawn their consent "
                        "to needling. The needling interlock will stop a session until "
                        "they sign again.\n\nSee who it is after signing in:\n"
                        "%(link)s\n\nThis email holds no health information on purpose."
                        "\n\n%(clinic)s"
                    )
                    % {"link": link, "clinic": clinic_name},
                    to=[address],
                )
            )
        if patient.contact_email and signature.withdrawn_at is not None:
            messages.append(
                EmailMessage(
                    subject=_("Your consent to IMS treatment is withdrawn - %(clinic)s")
                    % {"clinic": clinic_name},
                    body=_(
                        "Hello,\n\nThis confirms that your consent to IMS (needling) "
                        "treatment was withdrawn on %(date)s. Nobody at the clinic will "
                        "needle you unless you sign a new consent, which you can do at any "
                        "time in the patient portal.\n\nYour booked visits stay booked. "
                        "To change or cancel one, use the portal or call us at "
                        "%(phone)s.\n\n%(clinic)s"
                    )
                    % {
                        "date": local_time_text(signature.withdrawn_at),
                        "phone": clinic.phone if clinic is not None else "",
                        "clinic": clinic_name,
                    },
                    to=[patient.contact_email],
                    reply_to=[clinic.email] if clinic is not None and clinic.email else None,
                )
            )
    return messages
