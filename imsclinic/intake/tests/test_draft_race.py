"""Two tabs saving the first answers at the same moment share one draft and lose nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from imsclinic.accounts.models import User
from imsclinic.intake.models import Intake
from imsclinic.intake.services import intake_save_draft
from imsclinic.patients.models import Patient

SECTIONS_AT_ONCE = [
    {"reason": "Sore neck"},
    {"anticoagulants": "no"},
    {"needle_fear": "mild"},
    {"pregnant": "no"},
    {"diabetes": "no"},
    {"allergy_latex": "no"},
]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_first_saves_make_one_draft_with_every_answer(
    patient: Patient, patient_user: User
) -> None:
    barrier = threading.Barrier(len(SECTIONS_AT_ONCE))
    failed: list[BaseException] = []

    def save(answers: dict[str, str]) -> None:
        try:
            barrier.wait(timeout=30)
            intake_save_draft(patient=patient, answers=answers, actor=patient_user)
        except BaseException as error:
            failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(a,)) for a in SECTIONS_AT_ONCE]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    draft = Intake.objects.get(patient=patient)
    expected: dict[str, str] = {}
    for answers in SECTIONS_AT_ONCE:
        expected.update(answers)
    assert draft.answers == expected
