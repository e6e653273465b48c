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

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic
from imsclinic.consent.models import ConsentSignature
from imsclinic.consent.pdf import pdf_filename, signature_pdf
from imsclinic.consent.selectors import local_time_text

logger = logging.getLogger(__name__)


@task()
def send_signed_copy(signature_id: int) -> bool:
    """Email the patient a PDF of what was signed, once; say whether it went."""
    with transaction.atomic():
        signature = (
            ConsentSignature.objects.select_for_update(of=("self",))
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
    """Tell the patient and their care team, once, that consent to needling was withdrawn.

    The patient gets a dated record of it (they may have withdrawn by phone). Each active
    practitioner on the care team gets a link to the patient's page and no health
    information, so whoever would needle next knows before the visit. Returns the number of
    emails sent.
    """
    with transaction.atomic():
        signature = (
            ConsentSignature.objects.select_for_update(of=("self",))
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
        clinic = Clinic.current()
        clinic_name = clinic.name if clinic is not None else ""
        phone = clinic.phone if clinic is not None else ""
        reply_to = [clinic.email] if clinic is not None and clinic.email else None
        team = sorted(
            address
            for address in User.objects.filter(
                is_active=True,
                practitioner__is_active=True,
                practitioner__in=patient.care_team.all(),
            ).values_list("email", flat=True)
            if address
        )
        link = settings.SITE_URL + reverse("patient_detail", args=[patient.pk])
        messages = []
        with translation.override(settings.LANGUAGE_CODE):
            if patient.contact_email:
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
                            "phone": phone,
                            "clinic": clinic_name,
                        },
                        to=[patient.contact_email],
                        reply_to=reply_to,
                    )
                )
            for address in team:
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
        for message in messages:
            message.send()
        signature.withdrawal_emailed_at = timezone.now()
        signature.save(update_fields=["withdrawal_emailed_at"])
    logger.info("consent withdrawal %s: %d emailed", signature_id, len(messages))
    return len(messages)
