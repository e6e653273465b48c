"""`insert_rows` writes what bulk_create would, and refuses rows it cannot write that way."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imsclinic.core.models import AuditEvent
from imsclinic.core.sql import insert_rows

pytestmark = pytest.mark.django_db


def task_row(args: list[object], run_after: dt.datetime) -> DBTaskResult:
    return DBTaskResult(
        id=uuid.uuid4(),
        args_kwargs={"args": args, "kwargs": {"note": "Bücher & <tags>"}},
        task_path="imsclinic.scheduling.tasks.send_reminder",
        backend_name="default",
        run_after=run_after,
    )


def stored(row: DBTaskResult) -> dict[str, object]:
    fresh = DBTaskResult.objects.get(pk=row.pk)
    return {
        field.attname: getattr(fresh, field.attname)
        for field in DBTaskResult._meta.concrete_fields
        if field.attname not in ("id", "enqueued_at")
    }


def test_rows_read_back_as_the_same_rows_bulk_create_writes() -> None:
    later = dt.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    ours = [task_row([1, "a"], later), task_row([2, None], later)]
    theirs = [task_row([1, "a"], later), task_row([2, None], later)]
    before = timezone.now()
    insert_rows(ours)
    DBTaskResult.objects.bulk_create(theirs)

    assert [stored(row) for row in ours] == [stored(row) for row in theirs]
    assert all(not row._state.adding for row in ours)
    enqueued = DBTaskResult.objects.get(pk=ours[0].pk).enqueued_at
    assert before <= enqueued <= timezone.now()  # the automatic time, filled in on insert


def test_nothing_is_written_for_no_rows() -> None:
    insert_rows([])
    assert not DBTaskResult.objects.exists()


def test_a_row_without_its_primary_key_is_refused_and_nothing_written() -> None:
    later = timezone.now()
    keyless = task_row([1], later)
    keyless.pk = None
    with pytest.raises(ValueError, match="primary key"):
        insert_rows([task_row([2], later), keyless])
    assert not DBTaskResult.objects.exists()


def test_rows_of_two_models_are_refused() -> None:
    event = AuditEvent(actor_email="desk@clinic.example", action="view", object_type="patient")
    with pytest.raises(TypeError, match="one model"):
        insert_rows([task_row([1], timezone.now()), event])
    assert not AuditEvent.objects.exists()


def audit_row(**fields: object) -> AuditEvent:
    return AuditEvent(
        at=timezone.now(),
        actor_email="desk@clinic.example",
        role="front_desk",
        action="view",
        object_type="patient",
        detail={"shown": ["name", "phone"]},
        **fields,
    )


def test_what_the_database_fills_in_comes_back_as_after_save() -> None:
    ours, theirs = audit_row(object_id="7"), audit_row(object_id="8")
    insert_rows([ours])
    theirs.save()

    assert isinstance(ours.pk, int) and ours.pk < theirs.pk
    assert ours.txid == theirs.txid  # one transaction (PostgreSQL's id; SQLite has none)
    assert not isinstance(ours.txid, DatabaseDefault)
    stored = AuditEvent.objects.get(pk=ours.pk)
    assert (stored.txid, stored.detail, stored.role) == (
        ours.txid,
        {"shown": ["name", "phone"]},
        "front_desk",
    )


def test_a_value_that_is_the_databases_to_fill_in_is_refused() -> None:
    with pytest.raises(ValueError, match="txid"):
        insert_rows([audit_row(txid=5)])
    with pytest.raises(ValueError, match="id"):
        insert_rows([audit_row(id=99)])
    assert not AuditEvent.objects.exists()
