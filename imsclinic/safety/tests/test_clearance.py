"""Clearance decisions: who may record them, what they need, and that they never change."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from imsclinic.core.models import AuditEvent, Outcome
from imsclinic.safety.errors import ClearanceRefused
from imsclinic.safety.models import Clearance, ClearanceIsFinal, Decision
from imsclinic.safety.selectors import current_clearance, screening_for
from imsclinic.safety.services import clearance_record
from tests.factories.clients import signed_in
from tests.factories.safety import ON_ANTICOAGULANTS, clearance, submitted_intake

pytestmark = pytest.mark.django_db

LYMPHOEDEMA_LEFT_ARM = {"lymphoedema": "yes", "lymphoedema_limbs": ["left_arm"]}


def record(patient, intake, actor, decision=Decision.CLEARED, reason="Reviewed with the patient."):
    return clearance_record(
        patient=patient, intake=intake, decision=decision, reason=reason, actor=actor
    )


class TestRecording:
    def test_a_care_team_practitioner_records_a_decision_with_the_flags_they_saw(
        self, patient, physio
    ):
        intake = submitted_intake(patient, ON_ANTICOAGULANTS)
        decision = record(patient, intake, physio, Decision.CLEARED_WITH_PRECAUTIONS, "Light.")
        assert decision.decided_by == physio
        assert decision.intake == intake
        assert [flag["code"] for flag in decision.flags_snapshot] == ["anticoagulants"]
        event = AuditEvent.objects.get(object_type="clearance", outcome=Outcome.ALLOWED)
        assert event.actor == physio
        assert event.patient_id == patient.pk
        assert event.detail["decision"] == "cleared_with_precautions"
        assert event.detail["flags"] == ["anticoagulants"]

    def test_the_owner_may_record_a_decision(self, patient, owner):
        intake = submitted_intake(patient)
        assert record(patient, intake, owner).decided_by == owner

    @pytest.mark.parametrize("who", ["front_desk", "other_physio", "patient", "other_patient"])
    def test_anyone_else_is_refused_and_the_refusal_is_audited(self, cast, patient, who):
        intake = submitted_intake(patient)
        with pytest.raises(PermissionDenied):
            record(patient, intake, cast[who])
        assert not Clearance.objects.exists()
        denied = AuditEvent.objects.get(object_type="clearance")
        assert denied.outcome == Outcome.DENIED
        assert denied.actor == cast[who]

    def test_a_decision_needs_a_reason(self, patient, physio):
        intake = submitted_intake(patient)
        with pytest.raises(ClearanceRefused) as refused:
            record(patient, intake, physio, reason="   ")
        assert refused.value.field == "reason"
        assert not Clearance.objects.exists()

    def test_a_clearance_with_precautions_asks_for_the_precautions(self, patient, physio):
        intake = submitted_intake(patient)
        with pytest.raises(ClearanceRefused, match="precautions"):
            record(patient, intake, physio, Decision.CLEARED_WITH_PRECAUTIONS, "")

    def test_an_unknown_decision_is_refused(self, patient, physio):
        intake = submitted_intake(patient)
        with pytest.raises(ClearanceRefused) as refused:
            record(patient, intake, physio, "probably_fine")
        assert refused.value.field == "decision"

    def test_an_absolute_flag_cannot_be_plainly_cleared(self, patient, physio):
        intake = submitted_intake(patient, LYMPHOEDEMA_LEFT_ARM)
        with pytest.raises(ClearanceRefused, match="absolute"):
            record(patient, intake, physio, Decision.CLEARED)
        kept = record(
            patient, intake, physio, Decision.CLEARED_WITH_PRECAUTIONS, "Never the left arm."
        )
        assert kept.flags_snapshot[0]["detail"] == "left arm"

    def test_a_decision_on_answers_that_were_replaced_is_refused(self, patient, physio):
        older = submitted_intake(patient, at=timezone.now() - dt.timedelta(days=2))
        submitted_intake(patient, ON_ANTICOAGULANTS)
        with pytest.raises(ClearanceRefused, match="new health answers"):
            record(patient, older, physio)
        assert not Clearance.objects.exists()

    def test_a_patient_without_answers_cannot_be_decided_on(self, patient, other_patient, physio):
        intake = submitted_intake(other_patient)
        with pytest.raises(ClearanceRefused):
            record(patient, intake, physio)


class TestTheRecord:
    def test_a_recorded_decision_cannot_be_changed_or_deleted(self, patient, physio):
        decision = clearance(patient, submitted_intake(patient), by=physio)
        decision.reason = "Something else."
        with pytest.raises(ClearanceIsFinal):
            decision.save()
        with pytest.raises(ClearanceIsFinal):
            decision.delete()
        with pytest.raises(ClearanceIsFinal):
            Clearance.objects.filter(pk=decision.pk).update(reason="x")
        with pytest.raises(ClearanceIsFinal):
            Clearance.objects.filter(pk=decision.pk).delete()
        decision.refresh_from_db()
        assert decision.reason == "Reviewed the answers with the patient."

    def test_a_new_decision_is_a_new_row_and_becomes_the_current_one(self, patient, physio):
        intake = submitted_intake(patient)
        first = record(patient, intake, physio, Decision.NOT_SUITABLE, "Acute flare.")
        second = record(patient, intake, physio, Decision.CLEARED, "Flare settled.")
        assert Clearance.objects.count() == 2
        assert current_clearance(patient, intake) == second
        assert first.pk != second.pk

    def test_a_decision_made_before_the_latest_answers_is_no_longer_current(self, patient, physio):
        older = submitted_intake(patient, at=timezone.now() - dt.timedelta(days=3))
        clearance(patient, older, by=physio, at=timezone.now() - dt.timedelta(days=2))
        submitted_intake(patient, ON_ANTICOAGULANTS)
        screening = screening_for(patient)
        assert screening.clearance is None
        assert screening.needs_review


class TestScreeningPage:
    def url(self, patient):
        return reverse("patient_screening", args=[patient.pk])

    def test_it_shows_absolute_and_relative_flags_apart_each_with_its_reason(self, patient, physio):
        submitted_intake(patient, {**LYMPHOEDEMA_LEFT_ARM, **ON_ANTICOAGULANTS})
        page = signed_in(physio).get(self.url(patient)).content.decode()
        # The page's own list, below the flags every clinical page shows under its title.
        header = page.index('class="clinical-header"')
        page = page[page.index("</section>", header) :]
        absolute = page.index("Absolute: do not needle")
        relative = page.index("Relative: review before needling")
        lymph = page.index("Lymphoedema: never needle the affected limb.")
        blood = page.index("Takes (or may take) anticoagulants")
        assert absolute < lymph < relative < blood
        assert "left arm" in page
        assert "Not ready for needling" in page

    def test_opening_it_is_audited(self, patient, physio):
        submitted_intake(patient)
        signed_in(physio).get(self.url(patient))
        event = AuditEvent.objects.get(object_type="screening")
        assert (event.actor, event.patient_id, event.outcome) == (
            physio,
            patient.pk,
            Outcome.ALLOWED,
        )

    def test_a_decision_posted_there_is_recorded_and_listed(self, patient, physio):
        intake = submitted_intake(patient, ON_ANTICOAGULANTS)
        client = signed_in(physio)
        response = client.post(
            self.url(patient),
            {"intake": intake.pk, "decision": "cleared_with_precautions", "reason": "Press 2 min."},
        )
        assert response.status_code == 302
        page = client.get(self.url(patient)).content.decode()
        assert "Cleared with precautions" in page
        assert "Press 2 min." in page
        assert Clearance.objects.get().decided_by == physio

    def test_a_missing_reason_is_shown_at_the_field_and_the_choice_is_kept(self, patient, physio):
        intake = submitted_intake(patient)
        response = signed_in(physio).post(
            self.url(patient), {"intake": intake.pk, "decision": "not_suitable", "reason": ""}
        )
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors["reason"]
        assert form["decision"].value() == "not_suitable"
        assert re.search(r'value="not_suitable"[^>]*checked', response.content.decode())
        assert not Clearance.objects.exists()

    def test_a_refused_decision_is_explained_next_to_the_decision(self, patient, physio):
        intake = submitted_intake(patient, {"needle_fear": "severe"})
        response = signed_in(physio).post(
            self.url(patient), {"intake": intake.pk, "decision": "cleared", "reason": "Fine."}
        )
        assert response.status_code == 200
        assert "absolute flag" in " ".join(response.context["form"].errors["decision"])
        assert response.context["form"]["reason"].value() == "Fine."

    def test_the_front_desk_may_not_post_a_decision(self, patient, front_desk):
        intake = submitted_intake(patient)
        response = signed_in(front_desk).post(
            self.url(patient), {"intake": intake.pk, "decision": "cleared", "reason": "Ok."}
        )
        assert response.status_code == 403
        assert not Clearance.objects.exists()

    def test_a_patient_without_answers_gets_no_decision_form(self, patient, physio):
        page = signed_in(physio).get(self.url(patient)).content.decode()
        assert "has not answered the health questions" in page
        assert "Record decision" not in page

    def test_dates_and_times_are_shown_on_the_clinic_s_clock_not_utc(
        self, patient, physio, location
    ):
        evening = dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC)  # 9 March, 19:30 in Vancouver
        intake = submitted_intake(patient, ON_ANTICOAGULANTS, at=evening)
        clearance(patient, intake, by=physio, at=evening)
        page = signed_in(physio).get(self.url(patient)).content.decode()
        assert "Answered on 9 March 2026" in page
        assert "9 March 2026, 19:30 PDT" in page
        assert "9 Mar 2026, 19:30 PDT" in page  # the earlier decisions table
        assert "10 March" not in page
        assert "10 Mar " not in page


def test_the_rules_page_lists_every_rule_with_its_kind_and_condition_in_words(front_desk):
    from imsclinic.safety.screening import default_rules

    page = signed_in(front_desk).get(reverse("screening_rules")).content.decode()
    for rule in default_rules():
        assert rule.code in page
    assert "fear of needles: severe" in page
    assert "younger than 18" in page
