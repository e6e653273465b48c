"""Background work for consent: email the signer their signed copy as a PDF."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

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
