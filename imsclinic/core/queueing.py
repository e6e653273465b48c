"""Queue background work so that it stands or falls with the change it announces."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend


def queue_with_change(enqueue: Callable[[], object]) -> None:
    """Run `enqueue` (which queues tasks) as part of the caller's transaction when that is safe.

    With the database task backend (the default) the task rows are written at once, inside
    the caller's transaction: they commit together with the booking, note or answer they
    announce, or vanish with it. No crash between the two can then lose a reminder or an
    alert, and the commit is the only one the change needs. Any other backend, one that
    runs tasks at once or keeps them elsewhere, queues on commit instead, so that a task
    never acts on a change that is later rolled back; a failure to queue there is logged,
    and the change stands.
    """
    if connection.in_atomic_block and _queue_in_this_database():
        enqueue()
    else:
        transaction.on_commit(enqueue, robust=True)


def _queue_in_this_database() -> bool:
    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)
