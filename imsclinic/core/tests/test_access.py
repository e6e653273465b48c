"""Turning people away: one way in every app, and always on record as what was asked for."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

from imsclinic.core.access import record_refusal, refuse
from imsclinic.core.models import AuditEvent
from imsclinic.core.roles import Role
from imsclinic.patients.access import own_patient
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

pytestmark = pytest.mark.django_db


def request_by(user, method="get"):
    request = getattr(RequestFactory(), method)("/somewhere/")
    request.user = user
    return request


def test_a_refusal_is_a_denied_look_at_what_was_asked_for_and_a_404_by_default(
    other_physio, patient
):
    error = refuse(request_by(other_physio), object_type="assessment", object_id=7, patient=patient)

    assert isinstance(error, Http404)
    row = AuditEvent.objects.get()
    assert (row.actor, row.action, row.object_type, row.object_id, row.patient_id) == (
        other_physio,
        "view",
        "assessment",
        "7",
        patient.pk,
    )
    assert row.outcome == "denied"


def test_a_refused_change_is_recorded_as_an_update_and_may_say_why(other_physio):
    record_refusal(
        request_by(other_physio, "post"), object_type="appointment", reason="no such visit"
    )

    row = AuditEvent.objects.get()
    assert (row.action, row.outcome, row.detail) == (
        "update",
        "denied",
        {"reason": "no such visit"},
    )


def test_a_refusal_can_be_a_403_the_user_may_know_about(front_desk, patient):
    error = refuse(
        request_by(front_desk), object_type="chart", patient=patient, error=PermissionDenied()
    )

    assert isinstance(error, PermissionDenied)
    assert AuditEvent.objects.get().object_type == "chart"


def test_an_outsider_asking_for_a_chart_is_logged_as_a_denied_look_at_the_chart(
    other_physio, patient
):
    with pytest.raises(Http404):
        patient_for_user(
            request_by(other_physio),
            user=other_physio,
            patient_id=patient.pk,
            perm="charting.view_chart",
            asked_for="chart",
        )

    row = AuditEvent.objects.get()
    assert (row.action, row.object_type, row.object_id, row.patient_id, row.outcome) == (
        "view",
        "chart",
        str(patient.pk),
        patient.pk,
        "denied",
    )


def test_the_front_desk_refused_a_chart_it_may_not_read_is_on_record_as_that(front_desk, patient):
    with pytest.raises(PermissionDenied):
        patient_for_user(
            request_by(front_desk),
            user=front_desk,
            patient_id=patient.pk,
            perm="charting.view_chart",
            asked_for="chart",
        )

    row = AuditEvent.objects.get()
    assert (row.action, row.object_type, row.outcome) == ("view", "chart", "denied")


def test_a_patient_owns_only_the_record_linked_to_their_account(cast, patient, other_patient):
    assert own_patient(cast["patient"]) == patient
    assert own_patient(cast["other_patient"]) == other_patient
    assert own_patient(cast["physio"]) is None
    assert own_patient(cast["front_desk"]) is None


def test_an_account_the_clinic_has_not_linked_yet_owns_no_record(django_user_model):
    user = django_user_model.objects.create_user(
        email="new@patients.example", password="x" * 12, role=Role.PATIENT
    )

    assert own_patient(user) is None
    assert not Patient.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    "page", ["portal_consent", "intake_start", "portal_notes", "portal_progress", "waitlist_list"]
)
def test_an_unlinked_account_is_told_plainly_on_every_patient_page(django_user_model, page):
    user = django_user_model.objects.create_user(
        email="new@patients.example", password="x" * 12, role=Role.PATIENT
    )
    client = Client()
    client.force_login(user)

    response = client.get(reverse(page))

    assert response.status_code == 200
    assert "has not linked it to a patient record yet" in response.content.decode()


@pytest.mark.parametrize("page", ["portal_consent", "intake_start", "portal_progress"])
def test_staff_opening_a_patient_page_are_sent_to_their_own_pages(cast, page):
    client = Client()
    client.force_login(cast["physio"])

    response = client.get(reverse(page))

    assert response.status_code == 302
    assert response["Location"] == reverse("patient_list")


def test_a_forged_check_in_link_is_a_refused_look_on_record(client):
    response = client.get(reverse("checkin_answer", kwargs={"token": "not-a-real-link"}))

    assert response.status_code == 404
    row = AuditEvent.objects.get()
    assert (row.role, row.action, row.object_type, row.outcome) == (
        "anonymous",
        "view",
        "checkin",
        "denied",
    )
