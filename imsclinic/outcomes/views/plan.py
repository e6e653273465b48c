"""The staff page that sets a course's outcome measures."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.core.params import id_param
from imsclinic.outcomes.errors import OutcomeRefused
from imsclinic.outcomes.forms.plan import ACTIVITY_FIELDS, MeasurePlanForm
from imsclinic.outcomes.models import MeasurePlan
from imsclinic.outcomes.selectors import current_plan
from imsclinic.outcomes.services import plan_set
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

# The diagnosed segment's region suggests the questionnaire (first letter of the segment).
_SUGGESTED_BY_REGION = {"C": "NDI", "L": "ODI", "S": "ODI"}


def suggested_region_instrument(segments: list[str]) -> str:
    """Suggest a region questionnaire from diagnosed segments: most are cervical -> NDI ..."""
    votes: dict[str, int] = {}
    for segment in segments:
        code = _SUGGESTED_BY_REGION.get(segment[:1].upper())
        if code:
            votes[code] = votes.get(code, 0) + 1
    if not votes:
        return ""
    return max(votes, key=lambda code: votes[code])


def _assessment_for(patient: Patient, wanted: str) -> Any:
    from imsclinic.charting.models import Assessment

    found = Assessment.objects.filter(patient=patient)
    pk = id_param(wanted)
    if pk is not None:
        return found.filter(pk=pk).first()
    return found.order_by("-created_at", "-pk").first()


def _initial(plan: MeasurePlan | None, assessment: Any) -> dict[str, Any]:
    if plan is not None:
        initial: dict[str, Any] = {
            "region_instrument": plan.region_instrument,
            "every_visits": plan.every_visits,
        }
        for name, text in zip(ACTIVITY_FIELDS, plan.psfs_activities, strict=False):
            initial[name] = text
        return initial
    clinic = Clinic.current()
    segments = list(assessment.segments.values_list("segment", flat=True)) if assessment else []
    return {
        "region_instrument": suggested_region_instrument(segments),
        "every_visits": clinic.measures_every_visits if clinic is not None else 3,
    }


@login_required
def plan_page(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Show and set the patient's outcome measures for this course."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="outcomes.set_plan",
        asked_for=ObjectType.MEASURE_PLAN,
    )
    plan = current_plan(patient)
    assessment = _assessment_for(patient, request.GET.get("assessment", ""))
    if request.method == "POST":
        form = MeasurePlanForm(request.POST)
        if form.is_valid():
            try:
                plan_set(
                    patient=patient,
                    region_instrument=form.cleaned_data["region_instrument"],
                    psfs_activities=form.activities(),
                    every_visits=form.cleaned_data["every_visits"],
                    assessment=assessment,
                    actor=request.user,
                    request=request,
                )
            except OutcomeRefused as refusal:
                refusal_to_form(form, refusal, field_map={"psfs_activities": "activity_1"})
            else:
                messages.success(request, _("Saved the outcome measures for this course."))
                return redirect("measures_plan", patient_id=patient.pk)
    else:
        form = MeasurePlanForm(initial=_initial(plan, assessment))
    audit_view(
        request,
        ObjectType.MEASURE_PLAN,
        patient=patient,
        object_id=plan.pk if plan is not None else "",
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "outcomes/plan.html",
        {
            "patient": patient,
            "form": form,
            "plan": plan,
            "assessment": assessment,
            "zone": clinic_zone(),
        },
        status=status,
    )
