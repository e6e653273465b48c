"""`ModelColumns` reads a hand-written SELECT back into the instance the ORM would build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model

from imsclinic.clinic.models import Service
from imsclinic.core.sql import ModelColumns
from imsclinic.intake.models import Intake
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def values(instance: Model) -> dict[str, Any]:
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
    }


def read_back(model: type[Model], pk: int) -> Any:
    columns = ModelColumns(model, "x")
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.select()} FROM {table} x WHERE x.id = %s", [pk])
        return columns.read(cursor.fetchone())


def test_money_times_flags_and_text_read_as_the_orm_reads_them(ims_service: Service) -> None:
    ims_service.price = Decimal("95.50")
    ims_service.save()
    ours = read_back(Service, ims_service.pk)
    assert values(ours) == values(Service.objects.get(pk=ims_service.pk))
    assert isinstance(ours.price, Decimal) and ours.price == Decimal("95.50")
    assert ours.requires_ims_credential is True
    assert not ours._state.adding
    assert not ours.get_deferred_fields()


def test_json_answers_and_instants_read_as_the_orm_reads_them(patient: Patient) -> None:
    intake = Intake.objects.create(
        patient=patient,
        answers={"pregnant": "no", "notes": "Ça va — <fine>", "scores": [1, 2.5]},
        status=Intake.Status.SUBMITTED,
        submitted_at=dt.datetime(2026, 3, 8, 10, 30, 15, 250000, tzinfo=dt.UTC),
    )
    ours = read_back(Intake, intake.pk)
    assert values(ours) == values(Intake.objects.get(pk=intake.pk))
    assert ours.answers["scores"] == [1, 2.5]
    assert ours.submitted_at == dt.datetime(2026, 3, 8, 10, 30, 15, 250000, tzinfo=dt.UTC)


def test_an_outer_join_that_found_nothing_reads_as_none(ims_service: Service) -> None:
    columns = ModelColumns(Service, "x")
    assert columns.read([None] * columns.width) is None
    assert columns.read(["padding", *[None] * columns.width], 1) is None
