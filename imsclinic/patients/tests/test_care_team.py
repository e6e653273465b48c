"""Joining a patient's care team opens their chart to a practitioner, so it is audited."""

from __future__ import annotations

import pytest

from imsclinic.core.models import AuditEvent
from imsclinic.patients.services import patient_care_team_add

pytestmark = pytest.mark.django_db


def test_a_practitioner_joins_the_care_team_once_and_it_is_audited(
    patient, other_physio, front_desk
):
    added = patient_care_team_add(
        patient=patient, practitioner=other_physio.practitioner, actor=front_desk
    )
    assert added
    assert patient.care_team.filter(pk=other_physio.practitioner.pk).exists()
    event = AuditEvent.objects.get(object_type="patient", action="update")
    assert event.patient == patient
    assert event.actor == front_desk
    assert event.detail == {"care_team_added": other_physio.practitioner.pk}


def test_adding_someone_already_on_the_team_changes_and_records_nothing(
    patient, physio, front_desk
):
    history = patient.history.count()
    assert not patient_care_team_add(
        patient=patient, practitioner=physio.practitioner, actor=front_desk
    )
    assert not AuditEvent.objects.exists()
    assert patient.history.count() == history
