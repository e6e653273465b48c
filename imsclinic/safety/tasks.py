"""Background work for safety: tell the owner at once about a significant or serious event."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic
from imsclinic.consent.selectors import local_time_text
from imsclinic.core.mailing import retry_unsent, send_each
from imsclinic.core.roles import Role
from imsclinic.safety.models import AdverseEvent

logger = logging.getLogger(__name__)


@task()
def alert_owner_of_adverse_event(event_id: int) -> int:
    """Email every active owner a link to the event, once; return how many were emailed.

    The email holds no health information: not the patient, the type or the severity, only
    that an event needs review and where to read it after signing in.
    """
    with transaction.atomic():
        event = AdverseEvent.objects.select_for_update(no_key=True).filter(pk=event_id).first()
        if event is None or event.owner_alerted_at is not None or not event.alerts_owner:
            return 0
        owners = list(
            User.objects.filter(role=Role.OWNER, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        if not owners:
            logger.warning("adverse event %s: no active owner to alert", event_id)
            return 0
        clinic = Clinic.current()
        clinic_name = clinic.name if clinic is not None else ""
        link = settings.SITE_URL + reverse("adverse_event_detail", args=[event.pk])
        messages = [
            EmailMessage(
                subject=_("An adverse event needs your review - %(clinic)s")
                % {"clinic": clinic_name},
                body=_(
                    "Hello,\n\nAn adverse event that needs your review was recorded on "
                    "%(when)s.\n\nRead it after signing in:\n%(link)s\n\nThis email holds no "
                    "health information on purpose.\n\n%(clinic)s"
                )
                % {"when": local_time_text(event.recorded_at), "link": link, "clinic": clinic_name},
                to=[address],
            )
            for address in owners
        ]
        sent = send_each(messages, about=f"adverse event {event_id}")
        if not sent:
            # The owner's banner shows the event meanwhile.
            retry_unsent(
                alert_owner_of_adverse_event,
                event_id,
                since=event.recorded_at,
                about=f"adverse event {event_id}",
            )
            return 0
        event.owner_alerted_at = timezone.now()
        event.save(update_fields=["owner_alerted_at"])
    logger.info("adverse event %s: %d of %d owner(s) alerted", event_id, sent, len(owners))
    return sent
