"""Background work is queued with the change it announces, never apart from it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.tasks import task_backends
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from imsclinic.consent.tasks import send_signed_copy
from imsclinic.core.queueing import queue_with_change

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
