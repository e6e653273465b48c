"""The course's outcome measures: set at assessment by the care team, due on schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting.models import Assessment, DiagnosedSegment
from imsclinic.clinic.models import Service
from imsclinic.core.models import AuditEvent
from imsclinic.outcomes import selectors, services
from imsclinic.outcomes.errors import OutcomeRefused
from imsclinic.outcomes.models import MeasurePlan
from imsclinic.outcomes.views.plan import suggested_region_instrument
from imsclinic.patients.models import Patient
from tests.factories.charting import ims_visit
from tests.factories.clients import signed_in
from tests.factories.outcomes import ready_with_lot, signed_visit

pytestmark = pytest.mark.django_db

ACTIVITIES = ["Lift my toddler", "Run 5 km", "Sit through a film"]


def set_plan(patient: Patient, actor: User, **changes: object) -> MeasurePlan:
    values: dict[str, object] = {
        "region_instrument": "ODI",
        "psfs_activities": ACTIVITIES,
        "every_visits": 3,
    }
    values.update(changes)
    return services.plan_set(patient=patient, actor=actor, **values)  # type: ignore[arg-type]


def test_the_latest_plan_is_the_current_one(patient: Patient, physio: User) -> None:
    set_plan(patient, physio)
    later = set_plan(patient, physio, region_instrument="NDI", every_visits=2)
    assert selectors.current_plan(patient) == later
    assert later.instruments == ["PSFS", "NDI"]
    assert MeasurePlan.objects.filter(patient=patient).count() == 2


def test_it_takes_the_clinics_repeat_when_none_is_given(
    patient: Patient, physio: User, clinic: object
) -> None:
    plan = set_plan(patient, physio, every_visits=None)
    assert plan.every_visits == 3


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"region_instrument": "SF36"}, "region_instrument"),
        ({"psfs_activities": ["One", "Two"]}, "psfs_activities"),
        ({"psfs_activities": ["a"] * 6}, "psfs_activities"),
        ({"every_visits": 0}, "every_visits"),
    ],
)
def test_it_refuses_a_plan_it_cannot_follow(
    patient: Patient, physio: User, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(OutcomeRefused) as refused:
        set_plan(patient, physio, **changes)
    assert field in refused.value.errors


@pytest.mark.parametrize("who", ["front_desk", "other_physio", "patient_user"])
def test_only_the_care_team_and_the_owner_set_the_plan(
    request: pytest.FixtureRequest, patient: Patient, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        set_plan(patient, request.getfixturevalue(who))
    assert AuditEvent.objects.filter(object_type="measure_plan", outcome="denied").exists()


def test_the_patient_may_name_activities_when_the_plan_has_none(
    patient: Patient, physio: User
) -> None:
    set_plan(patient, physio, psfs_activities=[])
    plan = services.plan_activities_set(
        patient=patient, psfs_activities=ACTIVITIES, actor=patient.user
    )
    assert plan.psfs_activities == ACTIVITIES
    assert plan.region_instrument == "ODI"
    with pytest.raises(OutcomeRefused):
        services.plan_activities_set(
            patient=patient, psfs_activities=["A", "B", "C"], actor=patient.user
        )


def test_changing_the_activities_keeps_the_labels_of_earlier_results(
    patient: Patient, physio: User
) -> None:
    set_plan(patient, physio)
    first = services.result_record(
        patient=patient, instrument="PSFS", answers=[2, 3, 4], actor=physio, source="paper"
    )
    set_plan(patient, physio, psfs_activities=["Garden", "Drive", "Type", "Swim"])
    first.refresh_from_db()
    assert first.labels == ACTIVITIES


# What is due before a visit


def test_nothing_is_due_without_a_plan(
    patient: Patient, physio: User, ims_service: Service
) -> None:
    visit = ims_visit(patient, physio, ims_service, start=timezone.now() + dt.timedelta(days=1))
    assert selectors.due_measures(visit) == []


def test_both_questionnaires_are_due_before_the_first_visit_until_answered(
    patient: Patient, physio: User, ims_service: Service
) -> None:
    set_plan(patient, physio)
    visit = ims_visit(patient, physio, ims_service, start=timezone.now() + dt.timedelta(days=1))
    assert selectors.due_measures(visit) == ["PSFS", "ODI"]
    services.result_record(
        patient=patient, instrument="PSFS", answers=[2, 3, 4], actor=patient.user, source="portal"
    )
    assert selectors.due_measures(visit) == ["ODI"]


def test_they_are_due_again_at_the_fourth_visit_with_every_three(
    patient: Patient, physio: User, ims_service: Service
) -> None:
    lot = ready_with_lot(patient, physio)
    set_plan(patient, physio)
    for days_ago in (30, 20, 10):
        signed_visit(patient, physio, ims_service, lot, days_ago=days_ago)
    fourth = ims_visit(patient, physio, ims_service, start=timezone.now() + dt.timedelta(days=1))
    assert selectors.visit_number(fourth) == 4
    assert selectors.due_measures(fourth) == ["PSFS", "ODI"]
    set_plan(patient, physio, every_visits=2)
    assert selectors.due_measures(fourth) == []


def test_nothing_is_due_before_a_cancelled_visit(
    patient: Patient, physio: User, ims_service: Service
) -> None:
    set_plan(patient, physio)
    visit = ims_visit(
        patient,
        physio,
        ims_service,
        start=timezone.now() + dt.timedelta(days=1),
        status="cancelled",
    )
    assert selectors.due_measures(visit) == []


# The plan page


def url(patient: Patient) -> str:
    return reverse("measures_plan", args=[patient.pk])


def test_the_treating_physio_sets_the_plan_on_the_page(patient: Patient, physio: User) -> None:
    client = signed_in(physio)
    page = client.get(url(patient))
    assert page.status_code == 200
    assert "Outcome measures for this course" in page.content.decode()
    response = client.post(
        url(patient),
        {
            "region_instrument": "NDI",
            "activity_1": "Turn my head to reverse the car",
            "activity_2": "Sleep through the night",
            "activity_3": "Carry shopping",
            "every_visits": "2",
        },
    )
    assert response.status_code == 302
    plan = selectors.current_plan(patient)
    assert plan is not None
    assert plan.region_instrument == "NDI"
    assert plan.psfs_activities[1] == "Sleep through the night"
    assert plan.every_visits == 2
    assert AuditEvent.objects.filter(object_type="measure_plan", action="view").exists()


def test_the_page_says_what_is_wrong_with_two_activities(patient: Patient, physio: User) -> None:
    response = signed_in(physio).post(
        url(patient),
        {"region_instrument": "", "activity_1": "Run", "activity_2": "Swim", "every_visits": "3"},
    )
    assert response.status_code == 400
    assert "Name 3 to 5 activities" in response.content.decode()
    assert selectors.current_plan(patient) is None


def test_the_page_links_the_plan_to_the_assessment_and_suggests_from_its_segments(
    patient: Patient, physio: User
) -> None:
    assessment = Assessment.objects.create(patient=patient, author=physio)
    DiagnosedSegment.objects.create(assessment=assessment, segment="L4", side="left")
    DiagnosedSegment.objects.create(assessment=assessment, segment="L5", side="both")
    client = signed_in(physio)
    page = client.get(url(patient) + f"?assessment={assessment.pk}")
    assert page.context["form"].initial["region_instrument"] == "ODI"
    client.post(
        url(patient) + f"?assessment={assessment.pk}",
        {"region_instrument": "ODI", "every_visits": "3"},
    )
    plan = selectors.current_plan(patient)
    assert plan is not None and plan.assessment == assessment


@pytest.mark.parametrize(
    ("segments", "suggested"),
    [(["C5", "C6"], "NDI"), (["L5", "S1"], "ODI"), (["T4"], ""), ([], "")],
)
def test_it_suggests_the_questionnaire_from_the_segments(
    segments: list[str], suggested: str
) -> None:
    assert suggested_region_instrument(segments) == suggested


@pytest.mark.parametrize(
    ("who", "status"), [("front_desk", 403), ("other_physio", 404), ("owner", 200)]
)
def test_the_page_is_for_the_care_team_and_the_owner(
    request: pytest.FixtureRequest, patient: Patient, who: str, status: int
) -> None:
    response = signed_in(request.getfixturevalue(who)).get(url(patient))
    assert response.status_code == status


def test_the_chart_links_to_the_plan(patient: Patient, physio: User) -> None:
    page = signed_in(physio).get(reverse("patient_chart", args=[patient.pk]))
    assert url(patient) in page.content.decode()
