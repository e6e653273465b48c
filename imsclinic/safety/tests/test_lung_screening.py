"""Lung risk in screening: an intake on the earlier form is re-confirmed before needling and
its unasked chest questions are flagged; the rules page shows each rule's source."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.safety.readiness import needling_readiness
from imsclinic.safety.selectors import screening_for
from tests.factories.clients import signed_in
from tests.factories.safety import (
    PAST_COLLAPSED_LUNG,
    clearance,
    make_ready_for_needling,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


def test_a_cleared_patient_whose_answers_predate_the_chest_questions_must_re_confirm(
    patient, physio
):
    make_ready_for_needling(patient, by=physio, at=timezone.now() - dt.timedelta(days=3))
    old = submitted_intake(patient, form_version="intake-v1")
    clearance(patient, old, by=physio)
    now = timezone.now()
    readiness = needling_readiness(patient, at=now)
    assert not readiness.ready
    assert len(readiness.missing) == 1
    assert "before the questions about the chest and lungs" in readiness.missing[0]
    screening = screening_for(patient, at=now)
    assert screening.needs_reconfirming
    assert [flag.code for flag in screening.chest_wall] == ["chest_questions_not_asked"]

    answered = submitted_intake(patient, PAST_COLLAPSED_LUNG)
    clearance(patient, answered, by=physio, decision="cleared_with_precautions")
    assert needling_readiness(patient, at=timezone.now()).ready
    assert [flag.code for flag in screening_for(patient).chest_wall] == ["past_pneumothorax"]


def test_a_current_intake_with_every_chest_answer_no_raises_no_lung_flag(patient, physio):
    make_ready_for_needling(patient, by=physio)
    screening = screening_for(patient)
    assert not screening.needs_reconfirming
    assert screening.chest_wall == []
    assert needling_readiness(patient, at=timezone.now()).ready


def test_the_rules_page_shows_the_chest_wall_rules_with_their_source(front_desk):
    page = signed_in(front_desk).get(reverse("screening_rules")).content.decode()
    assert "past_pneumothorax" in page
    assert "McCutcheon &amp; Yelland 2011" in page
    assert "Restricts needling over the chest wall" in page
