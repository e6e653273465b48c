"""The patient fills in their questionnaires in the portal, before a visit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.core.models import AuditEvent
from imsclinic.outcomes.models import OutcomeResult, ResultSource
from imsclinic.outcomes.selectors import current_plan
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories.outcomes import book, fill_url, odi_post, plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client: Client, patient_user: User) -> Client:
    client.force_login(patient_user)
    return client


def test_it_lists_what_is_due_before_the_next_visit_with_a_link_to_each(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    plan(patient, physio)
    visit = book(patient, physio)

    page = signed_in.get(reverse("portal_measures")).content.decode()

    assert fill_url(visit, "ODI") in page
    assert fill_url(visit, "PSFS") in page
    assert AuditEvent.objects.filter(object_type="outcome_results", action="view").exists()


def test_it_says_when_nothing_is_due(signed_in: Client, patient: Patient, physio: User) -> None:
    book(patient, physio)
    page = signed_in.get(reverse("portal_measures")).content.decode()
    assert "Nothing to fill in right now." in page


def test_it_saves_an_odi_with_a_blank_section_and_scores_what_was_answered(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    plan(patient, physio)
    visit = book(patient, physio)

    response = signed_in.post(fill_url(visit, "ODI"), odi_post(item_8=""), follow=True)

    result = OutcomeResult.objects.get()
    assert (result.source, result.appointment, result.recorded_by) == (
        ResultSource.PORTAL,
        visit,
        patient.user,
    )
    assert result.answers == [2, 2, 2, 2, 2, 2, 2, None, 2, 2]
    assert result.score == Decimal("40.00")  # 18 / 45 x 100
    assert response.redirect_chain[-1][0] == reverse("portal_measures")
    page = response.content.decode()
    assert "are saved" in page
    assert "What you have answered" in page and "Oswestry" in page
    assert fill_url(visit, "ODI") not in page  # no longer due


def test_it_tells_the_patient_they_may_leave_an_item_blank(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    visit = book(patient, physio)
    page = signed_in.get(fill_url(visit, "NDI")).content.decode()
    assert "You may leave an item blank" in page
    assert page.count("<fieldset") == 10
    assert page.count("<legend>") == 10


def test_it_keeps_what_was_typed_and_links_each_error_to_its_item(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    visit = book(patient, physio)

    response = signed_in.post(fill_url(visit, "ODI"), odi_post(item_2="4", item_5="9"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#id_item_5_0"' in page  # the summary links to the item
    assert 'aria-describedby="id_item_5_anchors id_item_5_error"' in page
    assert 'value="4" id="id_item_2_4" checked' in page or 'id="id_item_2_4" checked' in page
    assert not OutcomeResult.objects.exists()


def test_it_says_so_when_the_questionnaire_was_already_answered_for_this_visit(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    visit = book(patient, physio)
    signed_in.post(fill_url(visit, "ODI"), odi_post())

    page = signed_in.get(fill_url(visit, "ODI")).content.decode()
    assert "You already answered this questionnaire for this visit" in page
    assert 'name="item_1"' not in page

    again = signed_in.post(fill_url(visit, "ODI"), odi_post(), follow=True)
    assert "already answered" in again.content.decode()
    assert OutcomeResult.objects.count() == 1


def test_it_shows_another_patients_visit_as_missing(
    client: Client, other_patient_user: User, other_patient: Patient, patient: Patient, physio: User
) -> None:
    visit = book(patient, physio)
    client.force_login(other_patient_user)
    assert client.get(fill_url(visit, "ODI")).status_code == 404
    assert client.post(fill_url(visit, "ODI"), odi_post()).status_code == 404
    assert not OutcomeResult.objects.exists()


def test_it_knows_no_made_up_questionnaire(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    visit = book(patient, physio)
    assert signed_in.get(fill_url(visit, "SF36")).status_code == 404


def test_it_offers_nothing_to_fill_for_a_cancelled_visit(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    visit = book(patient, physio)
    Appointment.objects.filter(pk=visit.pk).update(status=AppointmentStatus.CANCELLED)
    signed_in.post(fill_url(visit, "ODI"), odi_post())
    assert not OutcomeResult.objects.exists()


def test_it_rates_the_plans_psfs_activities_and_keeps_their_texts(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    plan(patient, physio)
    visit = book(patient, physio)
    page = signed_in.get(fill_url(visit, "PSFS")).content.decode()
    assert "Walk the dog" in page

    signed_in.post(fill_url(visit, "PSFS"), {"item_1": "4", "item_2": "6", "item_3": ""})

    result = OutcomeResult.objects.get(instrument="PSFS")
    assert result.answers == [4, 6, None]
    assert result.labels == ["Walk the dog", "Garden", "Sit"]
    assert result.score == Decimal("5.00")


def test_a_patient_without_activities_names_them_and_they_are_kept_for_next_time(
    signed_in: Client, patient: Patient, physio: User
) -> None:
    plan(patient, physio, activities=[])
    visit = book(patient, physio)
    page = signed_in.get(fill_url(visit, "PSFS")).content.decode()
    assert "Activity 1: what it is" in page

    signed_in.post(
        fill_url(visit, "PSFS"),
        {
            "activity_1": "Walk the dog",
            "item_1": "3",
            "activity_2": "Garden",
            "item_2": "5",
            "activity_3": "Carry shopping",
            "item_3": "4",
        },
    )

    result = OutcomeResult.objects.get(instrument="PSFS")
    assert result.labels == ["Walk the dog", "Garden", "Carry shopping"]
    kept = current_plan(patient)
    assert kept is not None
    assert kept.psfs_activities == ["Walk the dog", "Garden", "Carry shopping"]
    assert kept.region_instrument == "ODI"


def test_the_list_takes_a_bounded_number_of_queries_however_many_visits(
    signed_in: Client,
    patient: Patient,
    physio: User,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    plan(patient, physio)
    visits = [book(patient, physio, days=days) for days in (2, 5, 9, 12, 16)]
    for visit in visits:
        signed_in.post(fill_url(visit, "ODI"), odi_post())
    with django_assert_max_num_queries(26):
        signed_in.get(reverse("portal_measures"))


def test_the_visit_reminder_links_to_the_questionnaires_when_some_are_due(
    patient: Patient,
    physio: User,
    mailoutbox: list,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from imsclinic.scheduling.models import NoticeKind
    from imsclinic.scheduling.notifications import send_notice_email

    settings.SITE_URL = "https://clinic.example"
    plan(patient, physio)
    visit = book(patient, physio)

    assert send_notice_email(appointment=visit, kind=NoticeKind.REMINDER)

    (message,) = mailoutbox
    link = "https://clinic.example" + reverse("portal_measures")
    assert f"please fill in your short questionnaires: {link}" in message.body
    html = message.alternatives[0][0]
    assert f'href="{link}"' in html


def test_the_reminder_says_nothing_of_questionnaires_when_none_are_due(
    patient: Patient,
    physio: User,
    mailoutbox: list,  # type: ignore[type-arg]
) -> None:
    from imsclinic.scheduling.models import NoticeKind
    from imsclinic.scheduling.notifications import send_notice_email

    visit = book(patient, physio)
    send_notice_email(appointment=visit, kind=NoticeKind.REMINDER)
    send_notice_email(appointment=visit, kind=NoticeKind.CONFIRMATION)
    assert all("questionnaire" not in message.body for message in mailoutbox)
