"""Change history keeps working with its manager class built once (core.history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from simple_history.manager import HistoryManager

from imsclinic.core.history import HistoryDescriptorBuiltOnce
from imsclinic.patients.models import Patient


def new_patient(given_name: str, phone: str) -> Patient:
    return Patient.objects.create(
        given_name=given_name,
        family_name="Lovelace",
        date_of_birth=dt.date(1980, 1, 2),
        phone=phone,
    )


def history_tracked_models() -> list[Any]:
    return [
        model
        for model in apps.get_models()
        if getattr(model._meta, "simple_history_manager_attribute", None)
    ]


def test_every_history_tracked_model_builds_its_manager_class_once() -> None:
    models = history_tracked_models()
    assert models, "no model keeps a change history"
    for model in models:
        descriptor = model.__dict__[model._meta.simple_history_manager_attribute]
        assert isinstance(descriptor, HistoryDescriptorBuiltOnce), model
        assert type(model.history) is type(model.history)  # the same class, not a new one


@pytest.mark.django_db
def test_a_records_history_lists_its_own_changes_newest_first() -> None:
    patient, other = new_patient("Ada", "604-555-0101"), new_patient("Byron", "604-555-0102")
    patient.given_name = "Adele"
    patient.save()

    history = patient.history
    assert isinstance(history, HistoryManager)
    assert [row.given_name for row in history.all()] == ["Adele", "Ada"]
    assert [row.history_type for row in history.all()] == ["~", "+"]
    assert history.most_recent().given_name == "Adele"
    assert other.history.count() == 1


@pytest.mark.django_db
def test_the_model_wide_history_holds_every_records_changes() -> None:
    first, second = new_patient("Grace", "604-555-0103"), new_patient("Ida", "604-555-0104")
    assert set(Patient.history.values_list("id", flat=True)) == {first.pk, second.pk}
