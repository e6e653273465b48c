"""Intake pages: the patient's questionnaire in the portal, and the staff's views of it."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import error_summary, refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.intake.body_map import BACK_OUTLINE_ONLY, REGIONS, SHAPES
from imsclinic.intake.forms import AnswersForm, DetailsForm, missing_details
from imsclinic.intake.questions import QUESTIONS, SECTION_SLUGS, SECTIONS, readable, section
from imsclinic.intake.questions import section_of as question_section
from imsclinic.intake.selectors import (
    current_intake,
    intake_draft,
    intake_history,
    intake_is_current,
    intake_not_asked,
    intake_status,
    intake_valid_until,
)
from imsclinic.intake.services import (
    IntakeInvalid,
    NothingToConfirm,
    intake_enter_from_paper,
    intake_reconfirm_start,
    intake_save_draft,
    intake_submit,
)
from imsclinic.intake.validation import incomplete_sections, validate
from imsclinic.patients.access import patient_page
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user
from imsclinic.patients.services import patient_update_demographics

# ---------------------------------------------------------------------------------------------
# Shared bits


def body_figures(chosen: list[str]) -> list[dict[str, Any]]:
    """Return the two body-map figures with their regions, marking those chosen."""
    figures = []
    for view, title in (("front", _("Front")), ("back", _("Back"))):
        regions = [
            {
                "code": code,
                "label": label,
                "shape": SHAPES[code][0],
                "a": SHAPES[code][1],
                "b": SHAPES[code][2],
                "c": SHAPES[code][3],
                "d": SHAPES[code][4],
                "chosen": code in chosen,
            }
            for code, label, where in REGIONS
            if where == view
        ]
        outline = (
            [{"shape": s[0], "a": s[1], "b": s[2], "c": s[3], "d": s[4]} for s in BACK_OUTLINE_ONLY]
            if view == "back"
            else []
        )
        figures.append({"view": view, "title": title, "regions": regions, "outline": outline})
    return figures


def _body_map_context(form: AnswersForm) -> dict[str, Any]:
    if "pain_areas" not in form.fields:
        return {}
    bound = form["pain_areas"]
    chosen = [str(v) for v in (bound.value() or [])]
    options = {str(w.data["value"]): w for w in bound}
    groups = []
    for view, title in (("front", _("Front of the body")), ("back", _("Back of the body"))):
        groups.append(
            {
                "title": title,
                "options": [options[code] for code, _label, where in REGIONS if where == view],
            }
        )
    return {"figures": body_figures(chosen), "body_groups": groups, "pain_field": bound}


# ---------------------------------------------------------------------------------------------
# The patient's questionnaire


def _section_nav(slug: str) -> tuple[str | None, str | None]:
    index = SECTION_SLUGS.index(slug)
    previous = SECTION_SLUGS[index - 1] if index > 0 else None
    following = SECTION_SLUGS[index + 1] if index + 1 < len(SECTION_SLUGS) else None
    return previous, following


@patient_page
def intake_start(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show where the patient is with their health questions and how to go on."""
    draft = intake_draft(patient)
    status = intake_status(patient, at=timezone.now())
    answers = draft.answers if draft else {}
    todo = set(incomplete_sections(answers)) if draft else set(SECTION_SLUGS)
    if draft and missing_details(patient):
        todo.add("about")
    sections = [
        {"slug": part.slug, "title": part.title, "done": part.slug not in todo} for part in SECTIONS
    ]
    next_slug = next((s["slug"] for s in sections if not s["done"]), None)
    context = {
        "patient": patient,
        "draft": draft,
        "status": status,
        "sections": sections,
        "next_slug": next_slug,
        "zone": clinic_zone() if status.submitted_at else "UTC",
    }
    return render(request, "intake/start.html", context)


@patient_page
def intake_section(request: SignedInRequest, patient: Patient, slug: str) -> HttpResponse:
    """One section of the questionnaire: each "Save and continue" saves the draft."""
    try:
        part = section(slug)
    except KeyError:
        raise Http404("No such section.") from None
    draft = intake_draft(patient)
    if draft is None and current_intake(patient) is not None:
        # Answers already sent: changing them starts from the last ones (re-confirmation).
        if request.method != "POST":
            return redirect("intake_start")
        draft = intake_reconfirm_start(patient=patient, actor=request.user, request=request)
    previous, following = _section_nav(slug)
    details: DetailsForm | None = None
    if request.method == "POST":
        form = AnswersForm(request.POST, sections=[part])
        answers_ok = form.is_valid()
        if slug == "about":
            details = DetailsForm(request.POST, instance=copy.copy(patient))
        details_ok = details is None or details.is_valid()
        # Save whatever was typed that can be kept, even when some answers are missing.
        typed = {k: v for k, v in form.typed.items() if not validate({k: v}, complete=False)}
        for key in part.keys:
            typed.setdefault(key, "")
        intake_save_draft(patient=patient, answers=typed, actor=request.user, request=request)
        if details is not None and details_ok:
            patient_update_demographics(
                patient=patient, data=details.cleaned_data, actor=request.user, request=request
            )
        later = request.POST.get("action") == "later"
        if details_ok and (answers_ok or later):
            if later:
                messages.success(request, _("Saved. You can come back and finish at any time."))
                return redirect("intake_start")
            if following is None:
                return redirect("intake_review")
            return redirect("intake_section", slug=following)
    else:
        form = AnswersForm(initial=draft.answers if draft else {}, sections=[part])
        if draft is not None:
            audit_view(request, ObjectType.INTAKE, patient=patient, object_id=draft.pk)
        if slug == "about":
            details = DetailsForm(instance=patient)
    context = {
        "patient": patient,
        "part": part,
        "form": form,
        "details": details,
        "errors": error_summary(details, form),
        "step": SECTION_SLUGS.index(slug) + 1,
        "steps": len(SECTION_SLUGS),
        "previous": previous,
        "reconfirming": bool(draft and draft.confirms_id),
        **_body_map_context(form),
    }
    return render(request, "intake/section.html", context)


def _review_errors(patient: Patient, answers: dict[str, Any]) -> list[dict[str, str]]:
    items = []
    for label in missing_details(patient):
        items.append(
            {
                "target": reverse("intake_section", args=["about"]),
                "label": label,
                "message": _("Please fill this in."),
            }
        )
    for key, problems in validate(answers, complete=True).items():
        if key not in QUESTIONS:
            continue
        url = reverse("intake_section", args=[question_section(key)])
        for message in problems:
            items.append(
                {
                    "target": f"{url}#id_{key}",
                    "label": str(QUESTIONS[key].label),
                    "message": message,
                }
            )
    return items


@patient_page
def intake_review(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show every answer to check, with links back; sending it submits the intake."""
    draft = intake_draft(patient)
    if draft is None:
        return redirect("intake_start")
    if request.method == "POST" and not missing_details(patient):
        try:
            intake_submit(patient=patient, actor=request.user, request=request)
        except IntakeInvalid:
            pass  # the page below lists what is missing
        else:
            return redirect("intake_done")
    problems = _review_errors(patient, draft.answers)
    # The review shows every answer: a view of health information, audited like staff's.
    audit_view(request, ObjectType.INTAKE, patient=patient, object_id=draft.pk)
    context = {
        "patient": patient,
        "draft": draft,
        "shown": readable(draft.answers),
        "problems": problems,
        "submitted_with_problems": request.method == "POST",
        "reconfirming": bool(draft.confirms_id),
    }
    return render(request, "intake/review.html", context)


@patient_page
def intake_done(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Say plainly what happens after the answers are sent."""
    intake = current_intake(patient)
    if intake is None:
        return redirect("intake_start")
    context = {"patient": patient, "intake": intake, "zone": clinic_zone()}
    return render(request, "intake/done.html", context)


@require_POST
@patient_page
def intake_reconfirm(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Start checking the last answers: a draft filled in from them, opened at the review."""
    try:
        intake_reconfirm_start(patient=patient, actor=request.user, request=request)
    except NothingToConfirm:
        return redirect("intake_start")
    return redirect("intake_review")


# ---------------------------------------------------------------------------------------------
# Staff


@login_required
def staff_intake(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """The patient's health questions: the answers for the care team and the owner.

    The front desk may open the page but sees only whether and when an intake arrived:
    the answers are clinical.
    """
    patient = patient_for_user(
        request, user=request.user, patient_id=patient_id, asked_for=ObjectType.INTAKE
    )
    history = intake_history(patient)
    current = history[0] if history else None
    may_read = request.user.has_perm("intake.view_answers", patient)
    if current is not None and may_read:
        audit_view(request, ObjectType.INTAKE, patient=patient, object_id=current.pk)
    now = timezone.now()
    context = {
        "patient": patient,
        "current": current,
        "zone": clinic_zone(),
        "valid_until": intake_valid_until(current) if current else None,
        "is_current": intake_is_current(current, at=now),
        "may_read": may_read,
        "shown": readable(current.answers, form_version=current.form_version)
        if current and may_read
        else [],
        "not_asked": intake_not_asked(current) if current else (),
        "earlier": history[1:],
        "draft": intake_draft(patient),
        "may_enter": request.user.has_perm("intake.enter_paper", patient),
    }
    return render(request, "intake/staff_intake.html", context)


@login_required
def staff_intake_paper(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Type in a paper intake form for the patient: the same questions and checks."""
    patient = patient_for_user(
        request, user=request.user, patient_id=patient_id, perm="intake.enter_paper"
    )
    if not request.user.has_perm("intake.enter_paper", patient):
        raise PermissionDenied
    parts = list(SECTIONS)
    if request.method == "POST":
        form = AnswersForm(request.POST, sections=parts, portal=False)
        if form.is_valid():
            try:
                intake_enter_from_paper(
                    patient=patient, answers=form.typed, actor=request.user, request=request
                )
            except IntakeInvalid as refusal:  # pragma: no cover - the form checks the same
                refusal_to_form(form, refusal)
            else:
                messages.success(request, _("The paper form is saved on the patient's record."))
                return redirect("staff_intake", patient_id=patient.pk)
    else:
        form = AnswersForm(sections=parts, portal=False)
    groups = [
        {"part": part, "rows": [r for r in form.rows() if r["question"].key in part.keys]}
        for part in parts
    ]
    context = {
        "patient": patient,
        "form": form,
        "groups": groups,
        "errors": error_summary(form),
        "missing": missing_details(patient),
        "can_edit_details": request.user.has_perm("patients.change_demographics", patient),
        **_body_map_context(form),
    }
    return render(request, "intake/staff_paper.html", context)
