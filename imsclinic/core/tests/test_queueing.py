"""Background work is queued with the change it announces, never apart from it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.tasks import task_backends
from django.tasks.signals import task_enqueued
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from imsclinic.consent.tasks import send_signed_copy
from imsclinic.core.queueing import enqueue_together, queue_with_change

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def queue_a_copy() -> None:
    send_signed_copy.enqueue(1)


def test_the_task_row_is_written_inside_the_changes_own_transaction(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        queue_with_change(queue_a_copy)
        assert DBTaskResult.objects.count() == 1
    assert callbacks == []


def test_a_change_that_is_rolled_back_leaves_no_task_behind() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_with_change(queue_a_copy)
        raise RuntimeError("the change failed")
    assert DBTaskResult.objects.count() == 0


@override_settings(TASKS=DUMMY)
def test_a_backend_outside_the_database_is_given_the_task_only_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    backend = task_backends["default"]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue_with_change(queue_a_copy)
        assert backend.results == []  # type: ignore[attr-defined]
    assert len(backend.results) == 1  # type: ignore[attr-defined]
    assert DBTaskResult.objects.count() == 0


@override_settings(TASKS=DUMMY)
def test_a_backend_outside_the_database_never_sees_a_rolled_back_change(
    django_capture_on_commit_callbacks: Any,
) -> None:
    backend = task_backends["default"]
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue_with_change(queue_a_copy)
        raise RuntimeError("the change failed")
    assert backend.results == []  # type: ignore[attr-defined]


def row_fields(row: DBTaskResult) -> tuple[Any, ...]:
    return (row.run_after, row.task_path, row.args_kwargs, row.queue_name, row.priority)


def test_tasks_queued_together_are_one_insert_of_the_rows_each_enqueue_would_write(
    django_assert_num_queries: Any,
) -> None:
    later = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)
    reminder = send_signed_copy.using(run_after=later)
    send_signed_copy.enqueue(1)
    reminder.enqueue(2)
    one_by_one = sorted((row_fields(row) for row in DBTaskResult.objects.all()), key=str)
    DBTaskResult.objects.all().delete()
    enqueued: list[Any] = []

    def heard(sender: Any, task_result: Any, **kwargs: Any) -> None:
        enqueued.append(task_result)

    task_enqueued.connect(heard)
    try:
        with django_assert_num_queries(1):
            enqueue_together([(send_signed_copy, (1,)), (reminder, (2,))])
    finally:
        task_enqueued.disconnect(heard)
    rows = list(DBTaskResult.objects.all())
    assert sorted((row_fields(row) for row in rows), key=str) == one_by_one
    assert sorted(result.id for result in enqueued) == sorted(str(row.id) for row in rows)
    ready = [row.task_result.args for row in DBTaskResult.objects.ready()]
    assert ready == [[1]]  # the one to run at once is ready; the other waits for its time


@override_settings(TASKS=DUMMY)
def test_tasks_for_another_backend_are_queued_one_by_one_there() -> None:
    backend = task_backends["default"]
    enqueue_together([(send_signed_copy, (1,)), (send_signed_copy, (2,))])
    assert [result.args for result in backend.results] == [[1], [2]]  # type: ignore[attr-defined]
    assert DBTaskResult.objects.count() == 0
