"""A needling note is started and signed only while every licence needling needs is current
on the visit's day at its location, and the note page says which one is not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.charting.models import NeedlingSession
from imsclinic.charting.selectors import infection_control_protocol
from imsclinic.charting.services import session_start
from imsclinic.clinic.models import Location, Room
from tests.factories.charting import ensure_catalogue, ims_visit, muscle, sharps_container
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()


def url(visit: Any) -> str:
    return reverse("session_note", args=[visit.pk])


def sign_post(lot: Any) -> dict[str, str]:
    """The note as the page posts it when signing: one row, pain before and after."""
    return {
        "action": "sign",
        "nprs_before": "6",
        "nprs_after": "2",
        "rom_change": "",
        "aftercare_notes": "",
        "notes": "",
        "rows-TOTAL": "1",
        "rows-0-muscle": str(muscle("deltoid").pk),
        "rows-0-side": "left",
        "rows-0-segment": "",
        "rows-0-insertions": "3",
        "rows-0-needle_lot": str(lot.pk),
        "rows-0-grasp": "mild",
        "rows-0-tolerance": "good",
        "rows-0-note": "",
    }


@pytest.fixture
def edmonton(clinic) -> Location:
    """A location in Alberta, where needling needs a separate authorisation."""
    place = Location.objects.create(
        clinic=clinic,
        name="Old Strathcona",
        slug="old-strathcona",
        address_line1="10 Example Ave NW",
        city="Edmonton",
        region="Alberta",
        postal_code="T6E 0A1",
        phone="780-555-0101",
        time_zone="America/Edmonton",
    )
    Room.objects.create(location=place, name="Bed 1")
    return place


def test_starting_a_note_after_the_registration_expired_is_refused_with_the_reason(visit, physio):
    practitioner = physio.practitioner
    practitioner.registration_expires_on = timezone.localdate() - dt.timedelta(days=2)
    practitioner.save()
    page = signed_in(physio).post(url(visit), {"action": "start"})
    text = page.content.decode()
    assert "The college registration expired on" in text
    assert not NeedlingSession.objects.exists()


def test_signing_is_refused_once_the_registration_is_suspended_and_the_draft_stays(
    visit, physio, lot
):
    session_start(appointment=visit, actor=physio)
    practitioner = physio.practitioner
    practitioner.registration_status = "suspended"
    practitioner.save()
    page = signed_in(physio).post(url(visit), sign_post(lot))
    assert page.status_code == 200
    assert "The college registration is suspended, not practising." in page.content.decode()
    assert NeedlingSession.objects.get(appointment=visit).status == "draft"


def test_a_note_is_signed_while_every_licence_is_current(visit, physio, lot):
    physio.practitioner.registration_expires_on = timezone.localdate() + dt.timedelta(days=1)
    physio.practitioner.save()
    session_start(appointment=visit, actor=physio)
    container = sharps_container(visit.location, physio)
    infection = {
        "infection_shown": "1",
        "infection_control": [str(step.pk) for step in infection_control_protocol()],
        "sharps_container": str(container.pk),
    }
    response = signed_in(physio).post(url(visit), {**sign_post(lot), **infection})
    assert response.status_code == 302
    assert NeedlingSession.objects.get(appointment=visit).status == "signed"


def test_at_an_alberta_location_the_note_needs_the_needling_authorisation(
    ready_patient, physio, ims_service, edmonton
):
    practitioner = physio.practitioner
    practitioner.locations.set([edmonton])
    visit = ims_visit(ready_patient, physio, ims_service)
    client = signed_in(physio)
    page = client.post(url(visit), {"action": "start"})
    assert "No needling authorisation is recorded." in page.content.decode()
    assert not NeedlingSession.objects.exists()

    practitioner.needling_authorisation_body = "Physiotherapy Alberta"
    practitioner.needling_authorisation_number = "RA-4410"
    practitioner.needling_authorised_on = timezone.localdate() - dt.timedelta(days=90)
    practitioner.save()
    assert client.post(url(visit), {"action": "start"}).status_code == 302
    assert NeedlingSession.objects.filter(appointment=visit).exists()


def test_an_expired_authorisation_is_named_when_it_stops_a_note(
    ready_patient, physio, ims_service, edmonton
):
    practitioner = physio.practitioner
    practitioner.locations.set([edmonton])
    practitioner.needling_authorisation_body = "Physiotherapy Alberta"
    practitioner.needling_authorisation_number = "RA-4410"
    practitioner.needling_authorised_on = timezone.localdate() - dt.timedelta(days=400)
    practitioner.needling_authorisation_expires_on = timezone.localdate() - dt.timedelta(days=5)
    practitioner.save()
    visit = ims_visit(ready_patient, physio, ims_service)
    page = signed_in(physio).post(url(visit), {"action": "start"})
    assert "The needling authorisation expired on" in page.content.decode()


def test_a_british_columbia_visit_needs_no_authorisation(visit, physio):
    assert visit.location.region == "BC"
    assert not physio.practitioner.needling_authorised_on
    assert signed_in(physio).post(url(visit), {"action": "start"}).status_code == 302
    assert NeedlingSession.objects.filter(appointment=visit).exists()
