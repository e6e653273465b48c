"""Questionnaires at the edges: ended visits, one answer per visit from paper and portal, and
numbering of early or paper answers."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.charting.models import Muscle
from imsclinic.clinic.models import Location, Service
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.outcomes.models import OutcomeResult
from imsclinic.outcomes.selectors import progress_points
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from tests.factories.charting import needle_lot
from tests.factories.outcomes import (
    book,
    enter_url,
    fill_url,
    odi_post,
    paper,
    signed_past_visit,
)

pytestmark = pytest.mark.django_db


def yesterdays_session(
    patient: Patient, physio: Any, location: Location, service: Service
) -> Appointment:
    """Write a signed needling session yesterday (clinic time) and return its visit."""
    session = signed_past_visit(
        patient=patient,
        physio=physio,
        location=location,
        service=service,
        day=timezone.now().astimezone(clinic_zone()).date() - dt.timedelta(days=1),
        before=6,
        after=3,
        muscle=Muscle.objects.get(code="quadratus_lumborum"),
        lot=needle_lot(f"LOT-{patient.pk}"),
    )
    return session.appointment


def test_the_portal_refuses_a_questionnaire_for_a_visit_already_over(
    client: Client, patient_user: Any, patient: Patient, physio: Any
) -> None:
    client.force_login(patient_user)
    visit = book(patient, physio, days=-1)

    page = client.get(fill_url(visit, "ODI")).content.decode()
    client.post(fill_url(visit, "ODI"), odi_post())

    assert "This visit is over" in page
    assert 'name="item_1"' not in page
    assert not OutcomeResult.objects.exists()


def test_a_paper_form_is_refused_for_a_visit_the_patient_answered_in_the_portal(
    client: Client, patient_user: Any, patient: Patient, physio: Any
) -> None:
    visit = book(patient, physio, days=1)
    client.force_login(patient_user)
    client.post(fill_url(visit, "ODI"), odi_post())
    client.force_login(physio)
    today = timezone.now().astimezone(clinic_zone()).date()

    response = client.post(
        enter_url(patient), paper("ODI", today, appointment=str(visit.pk), **odi_post())
    )

    assert "already recorded for this visit (Patient portal" in response.content.decode()
    assert OutcomeResult.objects.count() == 1


def test_the_portal_says_already_answered_when_a_paper_form_was_entered_for_the_visit(
    client: Client, patient_user: Any, patient: Patient, physio: Any
) -> None:
    visit = book(patient, physio, days=1)
    client.force_login(physio)
    today = timezone.now().astimezone(clinic_zone()).date()
    client.post(enter_url(patient), paper("ODI", today, appointment=str(visit.pk), **odi_post()))
    client.force_login(patient_user)

    page = client.get(fill_url(visit, "ODI")).content.decode()

    assert "You already answered this questionnaire for this visit" in page
    assert OutcomeResult.objects.count() == 1


def test_the_paper_form_preselects_the_visit_on_its_date(
    client: Client, patient: Patient, physio: Any
) -> None:
    visit = book(patient, physio, days=0)
    client.force_login(physio)

    page = client.get(enter_url(patient, "ODI")).content.decode()

    assert f'<option value="{visit.pk}" selected>' in page


def test_a_paper_form_without_a_visit_counts_only_the_sessions_before_its_date(
    client: Client, patient: Patient, physio: Any, location: Location, ims_service: Service
) -> None:
    visit = yesterdays_session(patient, physio, location, ims_service)
    client.force_login(physio)
    day = visit.start.astimezone(clinic_zone()).date()

    client.post(enter_url(patient), paper("ODI", day, **odi_post()))

    points, sessions, _struck = progress_points(patient)
    odi = next(p for p in points if p.instrument == "ODI")
    assert sessions == 1
    assert (odi.sessions_done, odi.session) == (0, None)  # answered before that day's visit


def test_the_staff_progress_page_strikes_out_the_pain_ratings_before_and_after_needling(
    client: Client, patient: Patient, physio: Any, location: Location, ims_service: Service
) -> None:
    yesterdays_session(patient, physio, location, ims_service)
    before = OutcomeResult.objects.get(instrument="NPRS", timing="before")
    after = OutcomeResult.objects.get(instrument="NPRS", timing="after")
    client.force_login(physio)
    url = reverse("patient_progress", args=[patient.pk])

    page = client.get(url).content.decode()
    strike = reverse("outcome_result_strike_out", args=[patient.pk, after.pk])
    client.post(strike, {"reason": "Typed 3 for 8."})

    assert f'id="pair-strike-reason-{before.pk}"' in page
    assert f'action="{strike}"' in page
    after.refresh_from_db()
    assert after.voided_at is not None
    assert f'action="{strike}"' not in client.get(url).content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_paper_entry_and_a_portal_answer_for_one_visit_at_once_save_only_one(
    patient_user: Any, patient: Patient, physio: Any
) -> None:
    visit = book(patient, physio, days=1)
    today = timezone.now().astimezone(clinic_zone()).date()
    barrier = threading.Barrier(2)
    failed: list[BaseException] = []

    def send(user: Any, url: str, data: dict[str, str]) -> None:
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=30)
            client.post(url, data)
        except BaseException as error:
            failed.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(patient_user, fill_url(visit, "ODI"), odi_post())),
        threading.Thread(
            target=send,
            args=(
                physio,
                enter_url(patient),
                paper("ODI", today, appointment=str(visit.pk), **odi_post()),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert OutcomeResult.objects.filter(appointment=visit, instrument="ODI").count() == 1
