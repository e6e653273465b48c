"""The demo's needling notes show the infection control of their visit."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from imsclinic.charting.models import NeedlingSession
from imsclinic.charting.selectors import infection_control_protocol

pytestmark = pytest.mark.django_db


def test_every_demo_needling_note_confirms_the_protocol_and_a_container_open_at_its_visit():
    call_command("seed_demo", stdout=io.StringIO())
    sessions = list(
        NeedlingSession.objects.select_related("appointment", "infection_control__sharps_container")
    )
    assert sessions
    protocol = [step.text for step in infection_control_protocol()]
    for session in sessions:
        record = session.infection_control
        container = record.sharps_container
        visit = session.appointment
        assert record.steps == protocol
        assert container.location_id == visit.location_id
        assert container.opened_at <= visit.end
        assert container.sealed_at is None or container.sealed_at >= visit.start
