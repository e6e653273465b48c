"""Background work for the clinic's settings: the daily licence expiry reminders.

The task runs once a day and queues its own next run (`queue_licence_reminders`); the task
worker queues the first when it starts (`core.signals.worker_starting`), so a fresh install
and a worker restarted after a pause both have one waiting, and never two.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task, task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from imsclinic.clinic.services import licence_reminders_send

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
