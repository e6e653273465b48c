"""PostgreSQL itself refuses to change or delete a signed note, its parts, or an addendum."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.models import (
    Addendum,
    Assessment,
    AssessmentSign,
    DiagnosedSegment,
    NeedlingRow,
    NeedlingSession,
    PhysioNote,
)
from imsclinic.charting.services import SignInput
from imsclinic.clinic.models import NeedleLot
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from tests.factories.charting import (
    ims_visit,
    muscle,
    physio_service,
    row,
    signed_physio_note,
    signed_session,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
LOCKED = "charting_signed_note_locked"


def signed_assessment(patient: Patient, physio: User) -> Assessment:
    draft = services.assessment_save_draft(
        patient=patient,
        actor=physio,
        data={"plan_frequency": "weekly", "goals": "Reach the top shelf."},
        signs=[SignInput(sign="tender_motor_points", finding="present", segment="C5")],
        segments=[("C5", "left")],
    )
    return services.assessment_sign(assessment=draft, actor=physio)


def test_the_database_refuses_to_update_or_delete_a_signed_session(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    signed = signed_session(visit, physio, [row("deltoid", lot)])
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        NeedlingSession.objects.filter(pk=signed.pk).update(nprs_after=0)
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        NeedlingSession.objects.filter(pk=signed.pk).update(status="draft")
    # Raw SQL: the ORM's own delete stops earlier, at the outcome results and the follow-up
    # check-in that protect a signed session; the database's guard is what is tested here.
    table = NeedlingSession._meta.db_table
    with (
        pytest.raises(IntegrityError, match=LOCKED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [signed.pk])
    signed.refresh_from_db()
    assert (signed.status, signed.nprs_after) == ("signed", 3)


def test_the_database_refuses_to_touch_the_rows_of_a_signed_session(
    visit: Appointment, physio: User, lot: NeedleLot
) -> None:
    signed = signed_session(visit, physio, [row("deltoid", lot)])
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        NeedlingRow.objects.filter(session=signed).update(insertions=20)
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        NeedlingRow.objects.filter(session=signed).delete()
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        NeedlingRow.objects.bulk_create(
            [
                NeedlingRow(
                    session=signed,
                    position=2,
                    muscle=muscle("soleus"),
                    side="left",
                    segment="S1",
                    insertions=2,
                    needle_lot=lot,
                )
            ]
        )
    assert list(
        NeedlingRow.objects.filter(session=signed).values_list("insertions", flat=True)
    ) == [3]


def test_the_database_refuses_to_touch_a_signed_assessment_or_its_parts(
    patient: Patient, physio: User
) -> None:
    signed = signed_assessment(patient, physio)
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        Assessment.objects.filter(pk=signed.pk).update(goals="rewritten")
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        Assessment.objects.filter(pk=signed.pk).delete()
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        AssessmentSign.objects.filter(assessment=signed).update(finding="absent")
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        DiagnosedSegment.objects.filter(assessment=signed).delete()
    signed.refresh_from_db()
    assert signed.goals == "Reach the top shelf."
    assert signed.signs.get().finding == "present"
    assert signed.segments.count() == 1


def test_the_database_lets_drafts_change_and_go(
    patient: Patient, physio: User, visit: Appointment, lot: NeedleLot
) -> None:
    draft = services.assessment_save_draft(
        patient=patient,
        actor=physio,
        signs=[SignInput(sign="vasomotor", finding="present")],
        segments=[("T4", "both")],
    )
    Assessment.objects.filter(pk=draft.pk).update(goals="changed")
    AssessmentSign.objects.filter(assessment=draft).update(finding="absent")
    Assessment.objects.filter(pk=draft.pk).delete()
    assert not Assessment.objects.filter(pk=draft.pk).exists()
    session = services.session_start(appointment=visit, actor=physio)
    services.session_save_draft(session=session, actor=physio, rows=[row("deltoid", lot)])
    NeedlingRow.objects.filter(session=session).update(insertions=5)
    assert NeedlingRow.objects.get(session=session).insertions == 5


def test_the_database_refuses_to_change_or_delete_an_addendum(
    patient: Patient, physio: User
) -> None:
    signed = signed_assessment(patient, physio)
    addendum = services.addendum_add(
        note=signed, reason="Typo", text="Left, not right.", actor=physio
    )
    with pytest.raises(IntegrityError, match="charting_addendum_locked"), transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).update(text="Right after all.")
    with pytest.raises(IntegrityError, match="charting_addendum_locked"), transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).delete()
    assert Addendum.objects.get(pk=addendum.pk).text == "Left, not right."


def test_the_database_refuses_to_update_or_delete_a_signed_physiotherapy_note(
    ready_patient: Patient, physio: User
) -> None:
    signed = signed_physio_note(ims_visit(ready_patient, physio, physio_service()), physio)
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        PhysioNote.objects.filter(pk=signed.pk).update(plan="Rewritten")
    with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
        PhysioNote.objects.filter(pk=signed.pk).update(status="draft")
    table = PhysioNote._meta.db_table
    with (
        pytest.raises(IntegrityError, match=LOCKED),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [signed.pk])
    signed.refresh_from_db()
    assert (signed.status, signed.plan) == ("signed", "Home exercises daily; review in two weeks.")


def test_the_database_lets_a_draft_physiotherapy_note_change(
    ready_patient: Patient, physio: User
) -> None:
    visit = ims_visit(ready_patient, physio, physio_service())
    draft = services.physio_note_start(appointment=visit, actor=physio)
    PhysioNote.objects.filter(pk=draft.pk).update(plan="Walk daily.")
    assert PhysioNote.objects.get(pk=draft.pk).plan == "Walk daily."
