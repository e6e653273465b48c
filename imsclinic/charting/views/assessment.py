"""Staff pages for Gunn assessments: write, sign, read, add an addendum.

Every page opens the patient through `patients.selectors.patient_for_user` with a charting
permission (outsiders get 404, the front desk 403) and writes the look to the audit log.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imsclinic.charting import segments as seg
from imsclinic.charting import selectors, services
from imsclinic.charting.errors import ChartingError, SignedNoteLocked
from imsclinic.charting.forms.assessment import (
    AddendumForm,
    AssessmentForm,
    SignRowForm,
    muscle_choices,
    segment_grid,
    segments_from_post,
    sign_groups,
    sign_row_forms,
)
from imsclinic.charting.models import Assessment
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import record_refusal, refuse
from imsclinic.core.audit import audit_view
from imsclinic.core.errors import Refused
from imsclinic.core.form_errors import refusal_to_form, row_refusals
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.core.params import id_param
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user
from imsclinic.scheduling.models import Appointment


def _open_assessment(request: SignedInRequest, assessment_id: int) -> tuple[Assessment, Patient]:
    """Return the assessment and its patient if this user may read the chart; else 404/403."""
    assessment = selectors.assessment_detail(assessment_id)
    if assessment is None:
        raise refuse(
            request,
            object_type=ObjectType.ASSESSMENT,
            object_id=assessment_id,
            reason="no such assessment",
        )
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=assessment.patient_id,
        perm="charting.view_chart",
        asked_for=ObjectType.ASSESSMENT,
        asked_id=assessment.pk,
    )
    return assessment, patient


def _visit_for(request: SignedInRequest, patient: Patient) -> Appointment | None:
    appointment_id = id_param(request.GET.get("appointment") or request.POST.get("appointment"))
    if appointment_id is None:
        return None
    return Appointment.objects.filter(pk=appointment_id, patient=patient).first()


def _refusal_on_forms(
    refusal: ChartingError, form: AssessmentForm, rows: list[SignRowForm], used: list[int]
) -> list[str]:
    """Put the refusal on the plan form and the sign rows; return what belongs to neither.

    The signs and segments sections show their own messages (`section_errors`); the rest,
    with the refusal's sentence, goes at the top of the page.
    """
    plan = {name: message for name, message in refusal.errors.items() if name in form.fields}
    if plan:
        refusal_to_form(form, Refused(refusal.message, errors=plan))
    for index, part in row_refusals(refusal, "signs").items():
        if index < len(used):
            refusal_to_form(rows[used[index]], part)
    loose = [
        message
        for name, message in refusal.errors.items()
        if name not in form.fields and "." not in name
    ]
    return list(dict.fromkeys([refusal.message, *loose]))


def _render_form(
    request: SignedInRequest,
    *,
    patient: Patient,
    assessment: Assessment | None,
    form: AssessmentForm,
    rows: list[SignRowForm],
    chosen: list[tuple[str, str]],
    appointment: Appointment | None,
    problems: list[str] | None = None,
    section_errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    codes = [code for code, _side in chosen]
    context = {
        "patient": patient,
        "assessment": assessment,
        "form": form,
        "sign_groups": sign_groups(rows),
        "extra_rows": [row for row in rows if not row.fixed_sign],
        "grid": segment_grid(chosen),
        "suggested": selectors.suggest_muscles(codes),
        "chosen_codes": seg.sort_segments(code for code in codes if seg.is_segment(code)),
        "appointment": appointment,
        "problems": problems or [],
        "section_errors": section_errors or {},
        "zone": clinic_zone(),
    }
    return render(request, "charting/assessment_form.html", context, status=status)


def _save(
    request: SignedInRequest,
    *,
    patient: Patient,
    assessment: Assessment | None,
    appointment: Appointment | None,
) -> tuple[Assessment | None, HttpResponse | None]:
    """Save the posted draft; return it, or the page again with the problems marked."""
    choices = muscle_choices(selectors.active_muscles())
    form = AssessmentForm(request.POST)
    rows = sign_row_forms(data=request.POST, assessment=assessment, choices=choices)
    chosen = segments_from_post(request.POST)
    form_ok = form.is_valid()
    rows_ok = all(row.is_valid() for row in rows)
    if not (form_ok and rows_ok):
        return None, _render_form(
            request,
            patient=patient,
            assessment=assessment,
            form=form,
            rows=rows,
            chosen=chosen,
            appointment=appointment,
            problems=[_("The assessment was not saved: correct the marked fields.")],
            status=400,
        )
    used = [index for index, row in enumerate(rows) if not row.is_blank_extra]
    try:
        saved = services.assessment_save_draft(
            patient=patient,
            actor=request.user,
            assessment=assessment,
            appointment=appointment,
            data=form.cleaned_data,
            signs=[rows[index].to_input() for index in used],
            segments=chosen,
            request=request,
        )
    except SignedNoteLocked:
        messages.error(request, _("This assessment is signed: add an addendum instead."))
        assert assessment is not None
        return None, redirect("assessment_detail", assessment_id=assessment.pk)
    except ChartingError as refusal:
        return None, _render_form(
            request,
            patient=patient,
            assessment=assessment,
            form=form,
            rows=rows,
            chosen=chosen,
            appointment=appointment,
            problems=_refusal_on_forms(refusal, form, rows, used),
            section_errors=refusal.errors,
            status=400,
        )
    return saved, None


@login_required
def assessment_new(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Start a Gunn assessment for a patient; the first save makes the draft."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="charting.add_note",
        asked_for=ObjectType.ASSESSMENT_FORM,
    )
    appointment = _visit_for(request, patient)
    if request.method == "POST":
        saved, response = _save(request, patient=patient, assessment=None, appointment=appointment)
        if response is not None:
            return response
        assert saved is not None
        return _after_save(request, saved)
    audit_view(request, ObjectType.ASSESSMENT_FORM, patient=patient, object_id=patient.pk)
    choices = muscle_choices(selectors.active_muscles())
    return _render_form(
        request,
        patient=patient,
        assessment=None,
        form=AssessmentForm(),
        rows=sign_row_forms(data=None, assessment=None, choices=choices),
        chosen=[],
        appointment=appointment,
    )


def _after_save(request: SignedInRequest, assessment: Assessment) -> HttpResponse:
    if request.POST.get("action") == "sign":
        try:
            services.assessment_sign(assessment=assessment, actor=request.user, request=request)
        except ChartingError as refusal:
            for message in [refusal.message, *refusal.errors.values()]:
                messages.error(request, message)
            return redirect("assessment_detail", assessment_id=assessment.pk)
        messages.success(request, _("Signed. The assessment can no longer be changed."))
        return redirect("assessment_detail", assessment_id=assessment.pk)
    messages.success(request, _("Draft saved."))
    if request.POST.get("action") == "suggest":
        url = reverse("assessment_detail", kwargs={"assessment_id": assessment.pk})
        return redirect(f"{url}#suggested-heading")
    return redirect("assessment_detail", assessment_id=assessment.pk)


@login_required
def assessment_page(request: SignedInRequest, assessment_id: int) -> HttpResponse:
    """Show an assessment: its author edits and signs the draft; a signed one is read."""
    assessment, patient = _open_assessment(request, assessment_id)
    user = request.user
    editable = not assessment.is_signed and user.has_perm("charting.edit_draft", assessment)
    if request.method == "POST":
        if not editable:
            record_refusal(
                request, object_type=ObjectType.ASSESSMENT, object_id=assessment.pk, patient=patient
            )
            if assessment.is_signed:
                messages.error(request, _("This assessment is signed: add an addendum instead."))
                return redirect("assessment_detail", assessment_id=assessment.pk)
            raise PermissionDenied
        saved, response = _save(
            request, patient=patient, assessment=assessment, appointment=assessment.appointment
        )
        if response is not None:
            return response
        assert saved is not None
        return _after_save(request, saved)
    audit_view(request, ObjectType.ASSESSMENT, patient=patient, object_id=assessment.pk)
    chosen = [(item.segment, item.side) for item in assessment.segments.all()]
    if editable:
        choices = muscle_choices(selectors.active_muscles())
        return _render_form(
            request,
            patient=patient,
            assessment=assessment,
            form=AssessmentForm.for_assessment(assessment),
            rows=sign_row_forms(data=None, assessment=assessment, choices=choices),
            chosen=chosen,
            appointment=assessment.appointment,
        )
    return _render_detail(request, assessment=assessment, patient=patient, form=None)


def _render_detail(
    request: SignedInRequest,
    *,
    assessment: Assessment,
    patient: Patient,
    form: AddendumForm | None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_add = assessment.is_signed and user.has_perm("charting.add_addendum", patient)
    codes = [item.segment for item in assessment.segments.all()]
    context = {
        "patient": patient,
        "assessment": assessment,
        "signs": [s for s in assessment.signs.all()],
        "segments": list(assessment.segments.all()),
        "addenda": list(assessment.addenda.all()),
        "suggested": selectors.suggest_muscles(codes),
        "chosen_codes": seg.sort_segments(codes),
        "addendum_form": form or (AddendumForm() if can_add else None),
        "zone": clinic_zone(),
    }
    return render(request, "charting/assessment_detail.html", context, status=status)


@require_POST
@login_required
def assessment_sign_page(request: SignedInRequest, assessment_id: int) -> HttpResponse:
    """Sign the saved draft as it stands (the form's "Save and sign" also signs)."""
    assessment, _patient = _open_assessment(request, assessment_id)
    try:
        services.assessment_sign(assessment=assessment, actor=request.user, request=request)
    except SignedNoteLocked:
        messages.error(request, _("This assessment is already signed."))
    except ChartingError as refusal:
        for message in [refusal.message, *refusal.errors.values()]:
            messages.error(request, message)
    else:
        messages.success(request, _("Signed. The assessment can no longer be changed."))
    return redirect("assessment_detail", assessment_id=assessment.pk)


@require_POST
@login_required
def assessment_addendum_page(request: SignedInRequest, assessment_id: int) -> HttpResponse:
    """Add an addendum under a signed assessment."""
    assessment, patient = _open_assessment(request, assessment_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.addendum_add(
                note=assessment,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
                actor=request.user,
                request=request,
            )
        except ChartingError as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(request, _("Addendum added."))
            return redirect("assessment_detail", assessment_id=assessment.pk)
    return _render_detail(request, assessment=assessment, patient=patient, form=form, status=400)
