"""Under the title of every clinical page: the patient's screening flags and consent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting.services import session_start
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.safety.models import Decision
from tests.factories.charting import ensure_catalogue, ims_visit, signed_assessment
from tests.factories.clients import signed_in
from tests.factories.safety import (
    ON_ANTICOAGULANTS,
    SEVERE_PHOBIA,
    clearance,
    published_consent,
    signature,
    submitted_intake,
)

pytestmark = pytest.mark.django_db

BLEEDING = "Takes (or may take) anticoagulants: higher risk of bleeding and bruising."


def header(html: str) -> str:
    """Return the flags-and-consent section under the page's title."""
    start = html.index('class="clinical-header"')
    return html[start : html.index("</section>", start)]


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    ensure_catalogue()


@pytest.fixture
def on_anticoagulants(patient: Patient, physio: User) -> Patient:
    """The patient takes anticoagulants: cleared with care, consent signed, assessed."""
    intake = submitted_intake(patient, ON_ANTICOAGULANTS, at=timezone.now() - dt.timedelta(days=1))
    clearance(patient, intake, by=physio, decision=Decision.CLEARED_WITH_PRECAUTIONS)
    signature(patient, published_consent(at=timezone.now() - dt.timedelta(days=3)))
    return patient


def test_the_bleeding_flag_shows_on_the_chart_the_needling_note_and_the_assessment(
    on_anticoagulants: Patient, physio: User, ims_service
) -> None:
    assessment = signed_assessment(on_anticoagulants, physio)
    visit = ims_visit(on_anticoagulants, physio, ims_service)
    session_start(appointment=visit, actor=physio)
    client = signed_in(physio)
    for url in (
        reverse("patient_chart", args=[on_anticoagulants.pk]),
        reverse("session_note", args=[visit.pk]),
        reverse("assessment_detail", args=[assessment.pk]),
        reverse("assessment_new", args=[on_anticoagulants.pk]),
        reverse("patient_progress", args=[on_anticoagulants.pk]),
        reverse("patient_adverse_events", args=[on_anticoagulants.pk]),
    ):
        shown = header(client.get(url).content.decode())
        assert BLEEDING in shown, url
        assert "Relative" in shown, url  # how serious, in words as well as colour
        assert "Consent to needling:" in shown and "Signed" in shown, url


def test_an_absolute_flag_comes_first_and_says_so(patient: Patient, physio: User) -> None:
    submitted_intake(patient, {**ON_ANTICOAGULANTS, **SEVERE_PHOBIA})
    shown = header(
        signed_in(physio).get(reverse("patient_chart", args=[patient.pk])).content.decode()
    )
    assert "Absolute" in shown
    assert shown.index("Absolute") < shown.index(BLEEDING)
    assert "Needs practitioner review" in shown


def test_a_patient_who_has_not_signed_the_consent_shows_it(patient: Patient, physio: User) -> None:
    submitted_intake(patient)
    published_consent()
    shown = header(
        signed_in(physio).get(reverse("patient_chart", args=[patient.pk])).content.decode()
    )
    assert "Not signed" in shown
    assert "The patient has not signed the consent to needling." in shown
    assert "none from the health questions" in shown


def test_a_consent_to_an_older_version_and_a_withdrawal_show_as_such(
    patient: Patient, physio: User
) -> None:
    old = signature(patient, published_consent(1, at=timezone.now() - dt.timedelta(days=9)))
    published_consent(2)
    url = reverse("patient_chart", args=[patient.pk])
    client = signed_in(physio)
    assert "New version to sign" in header(client.get(url).content.decode())
    old.withdrawn_at = timezone.now()
    old.save()
    assert "Withdrawn" in header(client.get(url).content.decode())


def test_a_patient_who_answered_no_health_questions_shows_it(
    patient: Patient, physio: User
) -> None:
    shown = header(
        signed_in(physio).get(reverse("patient_chart", args=[patient.pk])).content.decode()
    )
    assert "No health questions answered yet" in shown


def test_showing_the_flags_records_nothing_beyond_the_page_s_own_view(
    on_anticoagulants: Patient, physio: User
) -> None:
    client = signed_in(physio)
    client.get(reverse("patient_chart", args=[on_anticoagulants.pk]))
    assert list(AuditEvent.objects.values_list("object_type", "action")) == [("chart", "view")]


def test_the_front_desk_sees_the_consent_but_never_the_flags(
    on_anticoagulants: Patient, front_desk: User
) -> None:
    page = signed_in(front_desk).get(reverse("measures_enter", args=[on_anticoagulants.pk]))
    assert page.status_code == 200
    shown = header(page.content.decode())
    assert "Consent to needling:" in shown
    assert "anticoagulants" not in page.content.decode()
    assert "Flags:" not in shown
