"""Background work for needle stock: tell the owners once when a needle size runs low."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Clinic, NeedleStockLevel
from imsclinic.clinic.services import size_on_hand
from imsclinic.core.mailing import retry_unsent, send_each
from imsclinic.core.roles import Role

logger = logging.getLogger(__name__)


@task()
def alert_owner_of_low_stock(level_id: int) -> int:
    """Email every active owner that a needle size is below its level, once; return how many.

    Nothing goes if the size was restocked (or the level removed) before the task ran, or
    the owners were already told. The email holds no health information: the size, the
    needles left, the level and a link to the stock page.
    """
    with transaction.atomic():
        level = NeedleStockLevel.objects.select_for_update(no_key=True).filter(pk=level_id).first()
        if level is None or level.low_since is None or level.owner_alerted_at is not None:
            return 0
        # The user model is above this app; asked for by name, as the audit checkpoint does.
        owners = list(
            get_user_model()
            .objects.filter(role=Role.OWNER, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        if not owners:
            logger.warning("low stock %s: no active owner to tell", level_id)
            return 0
        left = size_on_hand({level.size}, on=timezone.localdate())[level.size]
        clinic = Clinic.current()
        clinic_name = clinic.name if clinic is not None else ""
        link = settings.SITE_URL + reverse("stock_lots")
        messages = [
            EmailMessage(
                subject=_("Needles running low: %(size)s - %(clinic)s")
                % {"size": level.size_label, "clinic": clinic_name},
                body=_(
                    "Hello,\n\nNeedles of size %(size)s are below the level you set: "
                    "%(left)d on hand in usable lots, and you asked to be told below "
                    "%(level)d.\n\nYou will not be emailed about this size again until it is "
                    "restocked to the level or above.\n\nSee the stock after signing in:\n"
                    "%(link)s\n\n%(clinic)s"
                )
                % {
                    "size": level.size_label,
                    "left": left,
                    "level": level.warn_below,
                    "link": link,
                    "clinic": clinic_name,
                },
                to=[address],
            )
            for address in owners
        ]
        sent = send_each(messages, about=f"low stock {level_id}")
        if not sent:
            # The stock page shows the warning meanwhile.
            retry_unsent(
                alert_owner_of_low_stock,
                level_id,
                since=level.low_since,
                about=f"low stock {level_id}",
            )
            return 0
        level.owner_alerted_at = timezone.now()
        level.save(update_fields=["owner_alerted_at", "updated_at"])
    logger.info("low stock %s: %d of %d owner(s) told", level_id, sent, len(owners))
    return sent
