"""Queue background work so that it stands or falls with the change it announces."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, router, transaction
from django.db.models.signals import pre_save
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, Task, task_backends
from django.tasks.signals import task_enqueued
from django.utils.json import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from imsclinic.core.sql import insert_rows

# A task to queue and the positional arguments to queue it with.
TaskCall = tuple[Task[Any, Any], tuple[Any, ...]]


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


def enqueue_together(calls: Sequence[TaskCall]) -> None:
    """Queue these tasks; with the database backend, as one INSERT of all their rows.

    The same rows `Task.enqueue` writes one statement at a time (a booking's confirmation and
    its reminder, say), with the same id, arguments, queue, priority and time to run, and the
    same `task_enqueued` signal for each. Another backend, or tasks bound for another one, are
    queued one by one as usual.
    """
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    together = (
        len(calls) > 1
        and isinstance(backend, DatabaseBackend)
        and not backend.options.get("id_function")
        and all(task.backend == backend.alias for task, _args in calls)
    )
    if not together:
        for task, args in calls:
            task.enqueue(*args)
        return
    using = router.db_for_write(DBTaskResult)
    rows = []
    for task, args in calls:
        backend.validate_task(task)
        row: DBTaskResult[Any, Any] = DBTaskResult(
            id=DBTaskResult._meta.pk.get_default(),
            args_kwargs=normalize_json({"args": args, "kwargs": {}}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,  # type: ignore[misc]  # None: pre_save fills it in
            backend_name=backend.alias,
        )
        # A bulk insert sends no pre_save, which the task library uses to give a task to run
        # at once its "run after" value: send it as a save would.
        pre_save.send(sender=DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
        rows.append(row)
    if using == connection.alias:
        insert_rows(rows)
    else:
        DBTaskResult.objects.using(using).bulk_create(rows)
    for row in rows:
        task_enqueued.send(type(backend), task_result=row.task_result)
