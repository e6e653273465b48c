"""The interlock: treatment with a needle cannot start unless every safety piece is in place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from imsclinic.consent.models import ConsentSignature
from imsclinic.core.models import AuditEvent, Outcome
from imsclinic.safety.errors import NeedlingNotAllowed
from imsclinic.safety.models import Decision
from imsclinic.safety.readiness import needling_readiness, require_needling_readiness
from imsclinic.scheduling.models import AppointmentStatus
from imsclinic.scheduling.services.booking import BookingError, appointment_set_status
from tests.factories.charting import ims_visit
from tests.factories.clients import signed_in
from tests.factories.safety import (
    clearance,
    make_ready_for_needling,
    published_consent,
    signature,
    submitted_intake,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ready_patient(patient, physio) -> None:
    make_ready_for_needling(patient, by=physio, at=NOW)


def no_intake(patient, physio) -> None:
    version = published_consent(at=NOW - dt.timedelta(days=3))
    signature(patient, version, at=NOW - dt.timedelta(days=1))


def stale_intake(patient, physio) -> None:
    long_ago = NOW - dt.timedelta(days=200)
    intake = submitted_intake(patient, at=long_ago)
    clearance(patient, intake, by=physio, at=long_ago + dt.timedelta(hours=1))
    signature(patient, published_consent(at=long_ago), at=long_ago)


def no_clearance(patient, physio) -> None:
    submitted_intake(patient, at=NOW - dt.timedelta(days=1))
    signature(patient, published_consent(at=NOW - dt.timedelta(days=3)))


def clearance_older_than_the_latest_answers(patient, physio) -> None:
    ready_patient(patient, physio)
    submitted_intake(patient, {"anticoagulants": "yes"}, at=NOW - dt.timedelta(minutes=10))


def not_suitable(patient, physio) -> None:
    intake = submitted_intake(patient, at=NOW - dt.timedelta(days=1))
    clearance(patient, intake, by=physio, decision=Decision.NOT_SUITABLE)
    signature(patient, published_consent(at=NOW - dt.timedelta(days=3)))


def no_consent(patient, physio) -> None:
    intake = submitted_intake(patient, at=NOW - dt.timedelta(days=1))
    clearance(patient, intake, by=physio)
    published_consent(at=NOW - dt.timedelta(days=3))


def withdrawn_consent(patient, physio) -> None:
    ready_patient(patient, physio)
    ConsentSignature.objects.filter(patient=patient).update(
        withdrawn_at=NOW - dt.timedelta(hours=1)
    )


def new_consent_version(patient, physio) -> None:
    ready_patient(patient, physio)
    published_consent(2, at=NOW - dt.timedelta(minutes=30))


# What is missing -> how to set the patient up, and a word the refusal must contain.
MISSING: dict[str, tuple[Callable[..., None], str]] = {
    "no intake": (no_intake, "not answered the health questions"),
    "stale intake": (stale_intake, "out of date"),
    "no clearance": (no_clearance, "No practitioner has recorded"),
    "clearance before latest intake": (clearance_older_than_the_latest_answers, "before the"),
    "not suitable": (not_suitable, "not suitable"),
    "no consent": (no_consent, "has not signed"),
    "withdrawn consent": (withdrawn_consent, "withdrew consent"),
    "new consent version": (new_consent_version, "must sign again"),
}


@pytest.fixture
def arrived(patient, physio, ims_service):
    return ims_visit(patient, physio, ims_service, status=AppointmentStatus.ARRIVED)


def start_treatment(visit, actor):
    return appointment_set_status(
        appointment=visit, status=AppointmentStatus.IN_TREATMENT, actor=actor, now=NOW
    )


@pytest.mark.parametrize("case", sorted(MISSING))
def test_each_missing_piece_stops_treatment_and_is_named(case, arrived, patient, physio):
    set_up, words = MISSING[case]
    set_up(patient, physio)
    with pytest.raises(NeedlingNotAllowed) as refused:
        start_treatment(arrived, physio)
    assert any(words in item for item in refused.value.missing), refused.value.missing
    assert words in str(refused.value)
    arrived.refresh_from_db()
    assert arrived.status == AppointmentStatus.ARRIVED


@pytest.mark.parametrize("case", sorted(MISSING))
def test_each_missing_piece_makes_the_patient_not_ready(case, patient, physio):
    MISSING[case][0](patient, physio)
    readiness = needling_readiness(patient, at=NOW)
    assert not readiness.ready
    assert readiness.missing


def test_with_everything_in_place_treatment_starts(arrived, patient, physio):
    ready_patient(patient, physio)
    assert needling_readiness(patient, at=NOW).ready
    assert start_treatment(arrived, physio).status == AppointmentStatus.IN_TREATMENT


def test_a_refused_start_is_kept_in_the_audit_log_and_changes_nothing(arrived, patient, physio):
    with pytest.raises(NeedlingNotAllowed):
        start_treatment(arrived, physio)
    refused = AuditEvent.objects.get(object_type="appointment", object_id=str(arrived.pk))
    assert refused.outcome == Outcome.DENIED
    assert refused.actor == physio
    assert refused.patient_id == patient.pk
    assert refused.detail["status"] == {"to": "in_treatment"}
    arrived.refresh_from_db()
    assert arrived.status == AppointmentStatus.ARRIVED


def test_the_owner_is_held_to_the_same_interlock(arrived, owner):
    with pytest.raises(NeedlingNotAllowed):
        start_treatment(arrived, owner)


def test_a_clearance_with_precautions_counts(arrived, patient, physio):
    intake = submitted_intake(patient, {"anticoagulants": "yes"}, at=NOW - dt.timedelta(days=1))
    clearance(patient, intake, by=physio, decision=Decision.CLEARED_WITH_PRECAUTIONS)
    signature(patient, published_consent(at=NOW - dt.timedelta(days=3)))
    assert start_treatment(arrived, physio).status == AppointmentStatus.IN_TREATMENT


def test_a_visit_without_needling_is_not_held_up(patient, physio, massage):
    visit = ims_visit(patient, physio, massage, status=AppointmentStatus.ARRIVED)
    assert start_treatment(visit, physio).status == AppointmentStatus.IN_TREATMENT


def test_every_missing_piece_is_listed_at_once(patient):
    readiness = needling_readiness(patient, at=NOW)
    assert len(readiness.missing) == 2  # no answers, and no consent document yet


def test_the_refusal_is_a_booking_error_charting_can_reuse(patient):
    with pytest.raises(BookingError):
        require_needling_readiness(patient, at=NOW)
    with pytest.raises(NeedlingNotAllowed) as refused:
        require_needling_readiness(patient, at=NOW)
    assert refused.value.missing == needling_readiness(patient, at=NOW).missing


def test_the_calendar_button_says_exactly_what_is_missing(arrived, physio, patient, location):
    no_consent(patient, physio)
    client = signed_in(physio)
    url = f"{reverse('calendar_day')}?location={location.pk}"
    response = client.post(
        reverse("appointment_status", args=[arrived.pk]),
        {"status": AppointmentStatus.IN_TREATMENT, "next": url},
    )
    [message] = list(get_messages(response.wsgi_request))
    assert message.level_tag == "error"
    assert "has not signed the consent" in str(message)
    arrived.refresh_from_db()
    assert arrived.status == AppointmentStatus.ARRIVED
