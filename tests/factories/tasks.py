"""The task queue as the worker tests see it: the rows they queued, not the clinic's daily run.

A real `db_worker` queues the daily licence-reminder run when it starts
(`clinic.tasks.queue_licence_reminders`), which then waits for tomorrow; tests that count
or wait for queued tasks leave it out.
"""

from __future__ import annotations

import time

from django.db.models import QuerySet
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from imsclinic.clinic.tasks import send_licence_reminders


def queued_tasks() -> QuerySet[DBTaskResult]:
    """Every task row but the worker's own daily licence-reminder runs."""
    return DBTaskResult.objects.exclude(task_path=send_licence_reminders.module_path)


def wait_until_all_tasks_finish(timeout: float = 90) -> None:
    """Wait until no queued task is waiting or running (failing the test after `timeout`)."""
    deadline = time.monotonic() + timeout
    unfinished = [TaskResultStatus.READY, TaskResultStatus.RUNNING]
    while queued_tasks().filter(status__in=unfinished).exists():
        assert time.monotonic() < deadline, "the workers did not finish the queued tasks"
        time.sleep(0.1)
