"""django-tasks-db's `db_worker`, which also seals the audit log and writes its checkpoints,
and tells the apps it started (`core.signals.worker_starting`) so daily work is queued.

This app comes before django_tasks_db in INSTALLED_APPS, so `manage.py db_worker` is this
command (as staticfiles' runserver extends Django's): wherever the task worker runs, in
production or under `make run`, the audit log is sealed. See docs/decisions/0008.
"""

from __future__ import annotations

import os
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as TasksWorkerCommand

from imsclinic.core.sealer import AuditSealer
from imsclinic.core.signals import worker_starting


class Command(TasksWorkerCommand):
    help = (
        "Run the database task worker, and beside it the audit sealer: it seals new audit "
        "rows into the hash chain every AUDIT_SEAL_INTERVAL_SECONDS and writes a checkpoint "
        "of the chain every AUDIT_CHECKPOINT_EVERY_HOURS. With --batch only tasks are run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # With --reload the first process only watches and restarts the second, which does
        # the work (and so seals); a --batch run is a one-off that ends when the queue does.
        working_process = not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        if working_process and not options["batch"]:
            AuditSealer().start()
            # Daily work queues its first run here (the licence expiry reminders).
            worker_starting.send(sender=self.__class__)
        super().handle(*args, **options)
