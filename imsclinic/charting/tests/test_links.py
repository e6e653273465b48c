"""Where staff and patients find the chart, the needling note and the treatment notes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


def test_the_treating_physio_opens_the_chart_from_the_patient_record(visit, physio) -> None:
    page = signed_in(physio).get(reverse("patient_detail", args=[visit.patient_id]))
    assert reverse("patient_chart", args=[visit.patient_id]) in page.content.decode()


def test_the_front_desk_is_offered_no_chart(visit, front_desk) -> None:
    page = signed_in(front_desk).get(reverse("patient_detail", args=[visit.patient_id]))
    assert page.status_code == 200
    assert reverse("patient_chart", args=[visit.patient_id]) not in page.content.decode()


def test_my_day_links_each_of_my_ims_visits_to_its_needling_note(visit, physio) -> None:
    page = signed_in(physio).get(reverse("calendar_mine"))
    assert reverse("session_note", args=[visit.pk]) in page.content.decode()


def test_the_front_desk_sees_no_needling_note_link_on_the_day(visit, front_desk) -> None:
    page = signed_in(front_desk).get(reverse("calendar_day"))
    assert page.status_code == 200
    assert reverse("session_note", args=[visit.pk]) not in page.content.decode()


def test_the_patient_finds_their_treatment_notes_from_the_portal_home(visit) -> None:
    page = signed_in(visit.patient.user).get(reverse("portal_home"))
    assert reverse("portal_notes") in page.content.decode()
