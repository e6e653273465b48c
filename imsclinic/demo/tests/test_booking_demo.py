"""The demo clinic comes with weekly shifts, so there is something to book."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from imsclinic.clinic.models import Practitioner, Service
from imsclinic.scheduling.models import Appointment, Shift
from imsclinic.scheduling.selectors import available_slots

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def test_every_demo_practitioner_has_weekly_shifts_and_seeding_twice_adds_none() -> None:
    seed()
    shifts = Shift.objects.count()
    assert set(Shift.objects.values_list("practitioner", flat=True)) == set(
        Practitioner.objects.values_list("pk", flat=True)
    )
    seed()
    assert Shift.objects.count() == shifts


def test_the_demo_offers_ims_follow_ups_only_with_credentialed_practitioners() -> None:
    seed()
    follow_up = Service.objects.get(slug="ims-follow-up")
    start = timezone.localdate() + dt.timedelta(days=2)
    slots = available_slots(service=follow_up, start_date=start, days=14)
    assert slots, "the demo should have free IMS times in the next two weeks"
    practitioners = Practitioner.objects.in_bulk()
    for slot in slots:
        assert practitioners[slot.practitioner_id].ims_credential_current_on(slot.start.date())
    lapsed = Practitioner.objects.get(last_name="Beaulieu")
    assert lapsed.pk not in {slot.practitioner_id for slot in slots}


def test_demo_visits_hold_their_buffer() -> None:
    seed()
    visits = list(Appointment.objects.select_related("service"))
    assert visits
    for visit in visits:
        assert visit.busy_until == visit.end + dt.timedelta(minutes=visit.service.buffer_minutes)
