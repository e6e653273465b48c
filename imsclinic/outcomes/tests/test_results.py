"""Outcome results: scored when recorded, never changed, struck out with a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting.models import NeedlingSession
from imsclinic.clinic.models import Service
from imsclinic.core.models import AuditEvent
from imsclinic.outcomes import selectors, services
from imsclinic.outcomes.errors import OutcomeRefused
from imsclinic.outcomes.models import OutcomeResult, ResultIsFinal, ResultSource
from imsclinic.patients.models import Patient
from tests.factories.outcomes import ready_with_lot, signed_visit

pytestmark = pytest.mark.django_db

ODI_ANSWERS = [2, 2, 1, 2, 3, 1, 2, 2, 2, 1]  # 18 of 50 -> 36


def record_odi(
    patient: Patient,
    actor: User | None,
    *,
    source: str = ResultSource.PAPER,
    taken_at: dt.datetime | None = None,
) -> OutcomeResult:
    return services.result_record(
        patient=patient,
        instrument="ODI",
        answers=list(ODI_ANSWERS),
        actor=actor,
        source=source,
        taken_at=taken_at,
    )


def test_it_scores_a_questionnaire_when_it_is_recorded(patient: Patient, physio: User) -> None:
    result = record_odi(patient, physio)
    assert result.score == Decimal("36.00")
    assert result.instrument_version == "ODI v2.1a"
    assert result.answered == 10
    assert result.labels == []
    assert AuditEvent.objects.filter(object_type="outcome_result", action="create").count() == 1


def test_it_keeps_a_result_it_cannot_score_with_the_reason(patient: Patient, physio: User) -> None:
    result = services.result_record(
        patient=patient,
        instrument="NDI",
        answers=[1, 1, 1, 1, 1, 1, 1, None, None, None],
        actor=physio,
        source=ResultSource.PAPER,
    )
    assert result.score is None
    assert "7 of 10" in result.not_scored_reason


def test_it_names_the_wrong_item_when_an_answer_is_out_of_range(
    patient: Patient, physio: User
) -> None:
    answers: list[int | None] = list(ODI_ANSWERS)
    answers[3] = 9
    with pytest.raises(OutcomeRefused) as refused:
        services.result_record(
            patient=patient, instrument="ODI", answers=answers, actor=physio, source="paper"
        )
    assert set(refused.value.errors) == {"answers.3"}
    assert not OutcomeResult.objects.exists()


def test_it_refuses_the_wrong_number_of_answers(patient: Patient, physio: User) -> None:
    with pytest.raises(OutcomeRefused) as refused:
        services.result_record(
            patient=patient, instrument="LEFS", answers=[1, 2], actor=physio, source="paper"
        )
    assert "answers" in refused.value.errors


def test_it_refuses_an_unknown_questionnaire(patient: Patient, physio: User) -> None:
    with pytest.raises(OutcomeRefused) as refused:
        services.result_record(
            patient=patient, instrument="SF36", answers=[1], actor=physio, source="paper"
        )
    assert "instrument" in refused.value.errors


def test_it_refuses_answers_dated_in_the_future(patient: Patient, physio: User) -> None:
    with pytest.raises(OutcomeRefused) as refused:
        record_odi(patient, physio, taken_at=timezone.now() + dt.timedelta(days=2))
    assert "taken_at" in refused.value.errors


def test_it_stores_the_activities_of_the_plan_with_a_psfs(patient: Patient, physio: User) -> None:
    services.plan_set(
        patient=patient,
        region_instrument="",
        psfs_activities=["Lift my toddler", "Run 5 km", "Sit through a film"],
        every_visits=3,
        actor=physio,
    )
    result = services.result_record(
        patient=patient, instrument="PSFS", answers=[3, 4, 5], actor=patient.user, source="portal"
    )
    assert result.labels == ["Lift my toddler", "Run 5 km", "Sit through a film"]
    assert result.score == Decimal("4.00")


def test_it_lets_the_patient_answer_their_own_but_not_someone_elses(
    patient: Patient, other_physio: User, other_patient: Patient
) -> None:
    assert record_odi(patient, patient.user, source=ResultSource.PORTAL)
    with pytest.raises(PermissionDenied):
        record_odi(patient, other_physio)
    with pytest.raises(PermissionDenied):
        record_odi(other_patient, patient.user)
    assert AuditEvent.objects.filter(object_type="outcome_result", outcome="denied").count() == 2


def test_it_never_changes_or_deletes_a_stored_result(patient: Patient, physio: User) -> None:
    result = record_odi(patient, physio)
    result.answers = [0] * 10
    with pytest.raises(ResultIsFinal):
        result.save()
    with pytest.raises(ResultIsFinal):
        result.delete()
    with pytest.raises(ResultIsFinal):
        OutcomeResult.objects.filter(pk=result.pk).delete()
    with pytest.raises(ResultIsFinal):
        OutcomeResult.objects.filter(pk=result.pk).update(score=1)
    assert OutcomeResult.objects.get(pk=result.pk).score == Decimal("36.00")


def test_it_strikes_out_a_wrong_result_and_leaves_it_out_of_the_readings(
    patient: Patient, physio: User
) -> None:
    wrong = record_odi(patient, physio)
    right = record_odi(patient, physio, source=ResultSource.API)
    services.result_void(result=wrong, reason="Entered for the wrong patient.", actor=physio)
    assert list(selectors.results_for(patient)) == [right]
    stored = OutcomeResult.objects.get(pk=wrong.pk)
    assert stored.is_voided and stored.void_reason == "Entered for the wrong patient."
    with pytest.raises(OutcomeRefused):
        services.result_void(result=stored, reason="Again.", actor=physio)


def test_it_asks_why_a_result_is_struck_out(patient: Patient, physio: User) -> None:
    result = record_odi(patient, physio)
    with pytest.raises(OutcomeRefused) as refused:
        services.result_void(result=result, reason="  ", actor=physio)
    assert "reason" in refused.value.errors


def test_the_database_refuses_an_unknown_questionnaire_or_a_score_out_of_range(
    patient: Patient, physio: User
) -> None:
    base = {
        "patient": patient,
        "instrument_version": "x",
        "answers": [1],
        "answered": 1,
        "source": "paper",
        "taken_at": timezone.now(),
        "recorded_by": physio,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeResult.objects.create(instrument="SF36", **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeResult.objects.create(instrument="ODI", score=Decimal("101"), **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeResult.objects.create(instrument="ODI", void_reason="half a void", **base)


@pytest.mark.postgres
def test_postgres_itself_refuses_to_change_a_result_except_to_strike_it_out(
    patient: Patient, physio: User
) -> None:
    from django.db import connection

    result = record_odi(patient, physio)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE outcomes_outcomeresult SET score = 1 WHERE id = %s", [result.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM outcomes_outcomeresult WHERE id = %s", [result.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE outcomes_outcomeresult SET answers = '{}'::jsonb WHERE id = %s", [result.pk]
        )
    services.result_void(result=result, reason="Typo in item 4.", actor=physio)
    assert OutcomeResult.objects.get(pk=result.pk).is_voided


# Pain before and after, from the signed session note


@pytest.fixture
def needled(patient: Patient, physio: User, ims_service: Service) -> Callable[..., NeedlingSession]:
    """Return a function that signs a needling session of the patient N days ago."""
    lot = ready_with_lot(patient, physio)

    def make(days_ago: int, before: int = 6, after: int = 3) -> NeedlingSession:
        return signed_visit(
            patient, physio, ims_service, lot, days_ago=days_ago, before=before, after=after
        )

    return make


def test_signing_a_session_stores_pain_before_and_after_as_results(
    patient: Patient, needled: Callable[..., NeedlingSession]
) -> None:
    session = needled(0, before=7, after=2)
    results = list(selectors.results_for(patient))
    assert [(r.instrument, r.timing, r.score) for r in results] == [
        ("NPRS", "before", Decimal(7)),
        ("NPRS", "after", Decimal(2)),
    ]
    assert results[0].taken_at == session.appointment.start
    assert results[1].taken_at == session.appointment.end
    assert {r.source for r in results} == {"session_note"}
    assert {r.session_id for r in results} == {session.pk}


def test_storing_the_session_pain_twice_adds_nothing(
    patient: Patient, physio: User, needled: Callable[..., NeedlingSession]
) -> None:
    session = needled(0)
    services.results_from_session(session=session, actor=physio)
    assert OutcomeResult.objects.filter(session=session).count() == 2


def test_the_backfill_stores_pain_of_sessions_signed_before_outcomes_existed(
    patient: Patient, needled: Callable[..., NeedlingSession]
) -> None:
    import importlib

    from django.apps import apps

    backfill = importlib.import_module(
        "imsclinic.outcomes.migrations.0002_backfill_session_nprs"
    ).backfill
    session = needled(3)
    needled(1)
    # As if this session had been signed before the outcomes app: no results yet.
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM outcomes_outcomeresult WHERE session_id = %s", [session.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    backfill(apps, None)
    backfill(apps, None)
    assert OutcomeResult.objects.filter(session=session).count() == 2
    assert OutcomeResult.objects.count() == 4


def test_signed_session_starts_number_the_visits_of_the_course(
    patient: Patient, needled: Callable[..., NeedlingSession]
) -> None:
    first = needled(14)
    second = needled(7)
    assert selectors.signed_session_starts(patient) == [
        first.appointment.start,
        second.appointment.start,
    ]
