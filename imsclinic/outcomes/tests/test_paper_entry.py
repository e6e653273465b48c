"""Staff type in a questionnaire the patient filled in on paper."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location
from imsclinic.core.models import AuditEvent
from imsclinic.outcomes import services
from imsclinic.outcomes.models import OutcomeResult, ResultSource
from imsclinic.outcomes.selectors import current_plan
from imsclinic.patients.models import Patient
from tests.factories import VANCOUVER
from tests.factories.outcomes import book, enter_url, odi_post, paper, plan

pytestmark = pytest.mark.django_db

SKIP_VALUE = "skip"


@pytest.fixture(autouse=True)
def _registered_long_ago(patient: Patient) -> None:
    # Results may not predate registration: this patient has been with the clinic for years.
    Patient.objects.filter(pk=patient.pk).update(
        created_at=dt.datetime(2024, 1, 8, 10, 0, tzinfo=VANCOUVER)
    )
    patient.refresh_from_db()


@pytest.fixture
def yesterday(location: Location) -> dt.date:
    return timezone.now().astimezone(VANCOUVER).date() - dt.timedelta(days=1)


def test_a_practitioner_types_in_a_paper_odi_and_sees_its_score(
    client: Client, physio: User, patient: Patient, yesterday: dt.date
) -> None:
    client.force_login(physio)
    visit = book(patient, physio, days=-1)

    response = client.post(
        enter_url(patient),
        paper("ODI", yesterday, appointment=str(visit.pk), **odi_post(item_8=SKIP_VALUE)),
        follow=True,
    )

    result = OutcomeResult.objects.get()
    assert (result.source, result.recorded_by, result.appointment) == (
        ResultSource.PAPER,
        physio,
        visit,
    )
    # The paper's date, at noon clinic time.
    assert result.taken_at == dt.datetime.combine(yesterday, dt.time(12), tzinfo=VANCOUVER)
    assert result.score == Decimal("40.00")
    assert "Score: 40." in response.content.decode()
    assert AuditEvent.objects.filter(
        object_type="outcome_result", action="create", actor_id=physio.pk
    ).exists()


def test_the_front_desk_enters_a_paper_form_but_does_not_see_the_score(
    client: Client, front_desk: User, patient: Patient, yesterday: dt.date
) -> None:
    client.force_login(front_desk)

    response = client.post(enter_url(patient), paper("ODI", yesterday, **odi_post()), follow=True)

    assert OutcomeResult.objects.get().recorded_by == front_desk
    page = response.content.decode()
    assert (
        "is saved on the patient&#x27;s record" in page
        or "is saved on the patient's record" in page
    )
    assert "Score" not in page and "40.00" not in page


def test_it_refuses_a_date_in_the_future_and_keeps_the_answers(
    client: Client, physio: User, patient: Patient, yesterday: dt.date
) -> None:
    client.force_login(physio)
    future = yesterday + dt.timedelta(days=5)

    response = client.post(enter_url(patient), paper("NDI", future, **odi_post(item_3="5")))

    assert response.status_code == 200
    page = response.content.decode()
    assert "The date cannot be in the future." in page
    assert 'href="#id_taken_on"' in page
    assert 'id="id_item_3_5" checked' in page
    assert not OutcomeResult.objects.exists()


def test_it_offers_each_questionnaire_and_marks_those_in_the_plan(
    client: Client, physio: User, patient: Patient
) -> None:
    plan(patient, physio)
    client.force_login(physio)
    page = client.get(enter_url(patient)).content.decode()
    for code in ("NPRS", "PSFS", "ODI", "NDI", "QuickDASH", "LEFS"):
        assert f"?instrument={code}" in page
    assert page.count("(in the plan)") == 2


def test_outsiders_are_told_nothing_and_save_nothing(
    client: Client,
    other_physio: User,
    patient_user: User,
    patient: Patient,
    yesterday: dt.date,
) -> None:
    for who in (other_physio, patient_user):
        client.force_login(who)
        assert client.get(enter_url(patient, "ODI")).status_code == 404
        assert (
            client.post(enter_url(patient), paper("ODI", yesterday, **odi_post())).status_code
            == 404
        )
    assert not OutcomeResult.objects.exists()


def test_paper_psfs_activities_are_kept_on_the_plan_when_there_were_none(
    client: Client, physio: User, patient: Patient, yesterday: dt.date
) -> None:
    client.force_login(physio)
    client.post(
        enter_url(patient),
        paper(
            "PSFS",
            yesterday,
            activity_1="Kneel to garden",
            item_1="2",
            activity_2="Climb stairs",
            item_2="5",
            activity_3="Drive",
            item_3="8",
        ),
    )
    result = OutcomeResult.objects.get()
    assert result.labels == ["Kneel to garden", "Climb stairs", "Drive"]
    assert result.score == Decimal("5.00")
    kept = current_plan(patient)
    assert kept is not None and kept.psfs_activities == result.labels


def test_a_paper_form_dated_today_is_saved_before_noon(
    client: Client, physio: User, patient: Patient, location: Location
) -> None:
    nine = dt.datetime(2026, 5, 12, 9, 0, tzinfo=VANCOUVER)
    with time_machine.travel(nine, tick=False):
        client.force_login(physio)
        response = client.post(
            enter_url(patient), paper("ODI", nine.date(), **odi_post()), follow=True
        )
        assert "The date cannot be in the future." not in response.content.decode()
    # Dated today: stored at the time it was typed in, not at noon (still to come).
    assert OutcomeResult.objects.get().taken_at == nine


def test_a_paper_form_dated_today_after_noon_is_stored_at_noon(
    client: Client, physio: User, patient: Patient, location: Location
) -> None:
    three = dt.datetime(2026, 5, 12, 15, 0, tzinfo=VANCOUVER)
    with time_machine.travel(three, tick=False):
        client.force_login(physio)
        client.post(enter_url(patient), paper("ODI", three.date(), **odi_post()))
    assert OutcomeResult.objects.get().taken_at == three.replace(hour=12)


def test_a_second_paper_form_for_the_same_visit_is_refused_and_keeps_the_answers(
    client: Client, physio: User, patient: Patient, yesterday: dt.date
) -> None:
    client.force_login(physio)
    visit = book(patient, physio, days=-1)
    client.post(
        enter_url(patient), paper("ODI", yesterday, appointment=str(visit.pk), **odi_post())
    )

    response = client.post(
        enter_url(patient),
        paper("ODI", yesterday, appointment=str(visit.pk), **odi_post(item_3="5")),
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "is already recorded for this visit (Paper form" in page
    assert "If it was wrong, strike it out on the patient" in page
    assert 'href="#id_appointment"' in page  # the summary links to the visit
    assert 'id="id_item_3_5" checked' in page  # what was typed stays
    assert OutcomeResult.objects.count() == 1


def test_a_second_paper_form_for_the_same_day_without_a_visit_is_refused(
    client: Client, physio: User, patient: Patient, yesterday: dt.date
) -> None:
    client.force_login(physio)
    client.post(enter_url(patient), paper("NDI", yesterday, **odi_post()))

    again = client.post(enter_url(patient), paper("NDI", yesterday, **odi_post()))
    other_day = client.post(
        enter_url(patient), paper("NDI", yesterday - dt.timedelta(days=1), **odi_post())
    )
    other_form = client.post(enter_url(patient), paper("ODI", yesterday, **odi_post()))

    assert "without a visit (Paper form)" in again.content.decode()
    assert other_day.status_code == 302 and other_form.status_code == 302
    assert OutcomeResult.objects.count() == 3


def test_a_struck_out_paper_form_can_be_entered_again(
    client: Client, physio: User, patient: Patient, yesterday: dt.date
) -> None:
    client.force_login(physio)
    client.post(enter_url(patient), paper("NDI", yesterday, **odi_post()))
    services.result_void(result=OutcomeResult.objects.get(), reason="Typo.", actor=physio)

    response = client.post(enter_url(patient), paper("NDI", yesterday, **odi_post()))

    assert response.status_code == 302
    assert OutcomeResult.objects.filter(voided_at__isnull=True).count() == 1


def test_opening_the_paper_entry_page_is_audited(
    client: Client, front_desk: User, physio: User, patient: Patient
) -> None:
    plan(patient, physio)
    client.force_login(front_desk)

    page = client.get(enter_url(patient, "PSFS")).content.decode()

    assert "Walk the dog" in page  # the patient's own activities are shown
    event = AuditEvent.objects.get(object_type="measure_plan", action="view")
    assert (event.actor_id, event.patient_id) == (front_desk.pk, patient.pk)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (
            dt.date(1979, 12, 31),
            "The date is before the patient&#x27;s date of birth (2 Apr 1980).",
        ),
        (
            dt.date(2024, 1, 7),
            "The date is before the patient&#x27;s first visit or registration with the clinic "
            "(8 Jan 2024).",
        ),
    ],
)
def test_a_paper_form_dated_before_birth_or_registration_is_refused_next_to_its_date(
    client: Client, physio: User, patient: Patient, day: dt.date, message: str
) -> None:
    client.force_login(physio)

    response = client.post(enter_url(patient), paper("ODI", day, **odi_post()))

    assert response.status_code == 200
    assert response.context["details"].errors["taken_on"] == [html.unescape(message)]
    assert message in response.content.decode()
    assert not OutcomeResult.objects.exists()


def test_a_paper_form_dated_the_day_of_registration_is_saved(
    client: Client, physio: User, patient: Patient
) -> None:
    client.force_login(physio)

    response = client.post(enter_url(patient), paper("ODI", dt.date(2024, 1, 8), **odi_post()))

    assert response.status_code == 302
    assert OutcomeResult.objects.count() == 1
