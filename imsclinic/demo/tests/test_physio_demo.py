"""The demo patient has one signed physiotherapy note, of a past visit that is not IMS."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from imsclinic.charting.models import PhysioNote
from imsclinic.core.models import AuditEvent
from imsclinic.demo.logins import DEMO_PATIENT_EMAIL

pytestmark = pytest.mark.django_db


def test_the_demo_patient_has_a_signed_physiotherapy_note_and_seeding_twice_adds_none() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    note = PhysioNote.objects.select_related("appointment__service").get()
    assert note.patient.email == DEMO_PATIENT_EMAIL
    assert not note.appointment.service.requires_ims_credential
    assert note.is_signed and note.signed_at is not None
    assert note.appointment.end < note.signed_at < timezone.now()
    assert note.appointment.status == "completed"
    assert AuditEvent.objects.filter(object_type="physio_note", object_id=str(note.pk)).exists()
