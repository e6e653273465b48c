"""Staff pages: a patient's screening and clearance, the review queue, the rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action
from imsclinic.intake.models import Intake
from imsclinic.intake.selectors import clinic_zone
from imsclinic.patients.selectors import patient_for_user
from imsclinic.safety.errors import ClearanceRefused
from imsclinic.safety.forms import ClearanceForm
from imsclinic.safety.readiness import needling_readiness
from imsclinic.safety.screening import ABSOLUTE, QUESTIONS, default_rules, describe_rule
from imsclinic.safety.selectors import clearance_history, review_queue, screening_for
from imsclinic.safety.services import clearance_record


@login_required
def patient_screening(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show a patient's flags, decisions and readiness; POST records a decision."""
    patient = patient_for_user(
        request, user=request.user, patient_id=patient_id, perm="safety.view_screening"
    )
    now = timezone.now()
    screening = screening_for(patient, at=now)
    form = ClearanceForm(initial={"intake": screening.intake.pk if screening.intake else None})
    if request.method == "POST":
        form = ClearanceForm(request.POST)
        if form.is_valid():
            intake = Intake.objects.filter(pk=form.cleaned_data["intake"], patient=patient).first()
            try:
                if intake is None:
                    raise ClearanceRefused(
                        _("The patient has no submitted health questions to decide on.")
                    )
                clearance_record(
                    patient=patient,
                    intake=intake,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    request=request,
                )
            except ClearanceRefused as refusal:
                form.add_error(refusal.field, str(refusal))
            else:
                messages.success(request, _("Recorded the decision."))
                return redirect("patient_screening", patient_id=patient.pk)
    user: Any = request.user
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="screening",
        object_id=patient.pk,
        patient=patient,
        request=request,
    )
    context = {
        "patient": patient,
        "screening": screening,
        "history": clearance_history(patient),
        "readiness": needling_readiness(patient, at=now),
        "form": form,
        "can_decide": screening.intake is not None,
        "zone": clinic_zone(),
    }
    return render(request, "safety/patient_screening.html", context)


@login_required
def review_queue_page(request: HttpRequest) -> HttpResponse:
    """List what waits for the practitioner: decisions, expiring intakes, missing consents."""
    if not request.user.has_perm("safety.view_review_queue"):
        raise PermissionDenied
    user: Any = request.user
    queue = review_queue(user)
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="screening_queue",
        request=request,
        detail={"shown": queue.patient_ids},
    )
    return render(request, "safety/review_queue.html", {"queue": queue, "zone": clinic_zone()})


@login_required
def screening_rules_page(request: HttpRequest) -> HttpResponse:
    """Show the screening rules in words, for clinicians to review."""
    if not request.user.is_clinic_staff:  # type: ignore[union-attr]
        raise PermissionDenied
    rules = [
        {
            "rule": rule,
            "reason": _(rule.reason),
            "condition": describe_rule(rule),
            "absolute": rule.kind == ABSOLUTE,
            "detail_from": QUESTIONS[rule.detail].label if rule.detail else "",
        }
        for rule in default_rules()
    ]
    return render(request, "safety/screening_rules.html", {"rules": rules})
