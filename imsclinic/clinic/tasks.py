"""Background work for the clinic's settings: the daily licence expiry reminders, and the
owners' email when a needle size runs low.

The licence task runs once a day and queues its own next run (`queue_licence_reminders`);
the task worker queues the first when it starts (`core.signals.worker_starting`), so a fresh
install and a worker restarted after a pause both have one waiting, and never two. The
low-stock email is queued with the stock change that crossed the owner's level, once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task, task_backends
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from imsclinic.clinic.models import Clinic, NeedleStockLevel
from imsclinic.clinic.services import licence_reminders_send, size_on_hand
from imsclinic.core.mailing import retry_unsent, send_each
from imsclinic.core.roles import Role

logger = logging.getLogger(__name__)

# The hour (UTC) the daily run is queued for: early morning across Canada.
LICENCE_REMINDERS_HOUR_UTC = 13


def next_daily_run(now: dt.datetime) -> dt.datetime:
    """Return the next LICENCE_REMINDERS_HOUR_UTC after `now`."""
    at = now.astimezone(dt.UTC).replace(
        hour=LICENCE_REMINDERS_HOUR_UTC, minute=0, second=0, microsecond=0
    )
    return at if at > now else at + dt.timedelta(days=1)


@task()
def send_licence_reminders() -> int:
    """Email the owners about licences expiring soon, then queue tomorrow's run."""
    sent = licence_reminders_send()
    queue_licence_reminders(run_after=next_daily_run(timezone.now()))
    return sent


def queue_licence_reminders(*, run_after: dt.datetime | None = None) -> bool:
    """Queue the daily run unless one is waiting already; return whether one was queued."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if not isinstance(backend, DatabaseBackend):
        return False  # only the database worker runs daily work
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=send_licence_reminders.module_path
    )
    if waiting.exists():
        return False
    send_licence_reminders.using(run_after=run_after).enqueue()
    logger.info("licence expiry reminders queued for %s", run_after or "now")
    return True


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
