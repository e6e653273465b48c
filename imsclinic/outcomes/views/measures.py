"""Questionnaire pages: the patient's in the portal, and the staff's paper entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import FieldMap, error_summary, refusal_to_forms
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.outcomes import services
from imsclinic.outcomes.errors import OutcomeDuplicate, OutcomeRefused
from imsclinic.outcomes.forms.measures import (
    MeasureForm,
    PaperDetailsForm,
    activity_field_name,
    item_field_name,
)
from imsclinic.outcomes.instruments import CODES, definition
from imsclinic.outcomes.models import OutcomeResult, ResultSource
from imsclinic.outcomes.selectors import current_plan, due_measures, results_for
from imsclinic.outcomes.wording import shown_definition
from imsclinic.patients.access import patient_page
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user
from imsclinic.scheduling.access import own_visit
from imsclinic.scheduling.models import Appointment, AppointmentStatus

UPCOMING_SHOWN = 3
ANSWERED_SHOWN = 20
PAPER_VISITS_BACK = dt.timedelta(days=120)
PAPER_VISITS_AHEAD = dt.timedelta(days=14)
CLOSED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
PATIENT_SOURCES = (ResultSource.PORTAL, ResultSource.PAPER, ResultSource.API)


def _item_fields(form: MeasureForm) -> Callable[[str], str | None]:
    """Name the form's field for each answer the service refers to (answers.3 is item 4).

    Every other name the service gives goes to the top of the form.
    """
    numbers = form.item_numbers()
    if form.name_activities:
        data = form.cleaned_data
        numbers = [n for n in numbers if (data.get(activity_field_name(n)) or "").strip()]

    def field_for(key: str) -> str | None:
        if key.startswith("answers."):
            index = int(key.split(".", 1)[1])
            if 0 <= index < len(numbers):
                return item_field_name(numbers[index])
        return None

    return field_for


def _psfs_setup(patient: Patient) -> tuple[list[str], bool]:
    """Return the plan's PSFS activities, and whether the person must name them now."""
    plan = current_plan(patient)
    activities = list(plan.psfs_activities) if plan is not None else []
    return activities, not activities


def _record(
    request: SignedInRequest,
    *,
    patient: Patient,
    form: MeasureForm,
    source: str,
    appointment: Appointment | None,
    taken_at: dt.datetime | None = None,
    details: PaperDetailsForm | None = None,
) -> OutcomeResult | None:
    """Save the form through the services; on a refusal put the errors on the form.

    A duplicate (`OutcomeDuplicate`) is the caller's to report; on paper a refused date goes
    next to the form's date. Newly named PSFS activities are kept on the patient's plan for
    the next time, with the ratings or not at all.
    """
    code = form.definition.code
    try:
        if form.name_activities:
            return services.result_record_naming_activities(
                patient=patient,
                instrument=code,
                answers=form.answers(),
                activities=form.labels(),
                actor=request.user,
                source=source,
                taken_at=taken_at,
                appointment=appointment,
                request=request,
            )
        return services.result_record(
            patient=patient,
            instrument=code,
            answers=form.answers(),
            labels=form.labels() if code == "PSFS" else None,
            actor=request.user,
            source=source,
            taken_at=taken_at,
            appointment=appointment,
            request=request,
        )
    except OutcomeDuplicate:
        raise
    except OutcomeRefused as error:
        targets: list[tuple[forms.BaseForm, FieldMap | None]] = [(form, _item_fields(form))]
        if details is not None:
            targets.append((details, {"taken_at": "taken_on"}))
        refusal_to_forms(error, *targets)
        return None


# ---------------------------------------------------------------------------------------------
# Portal


@patient_page
def portal_measures(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """List what to fill in before the next visits, and what was answered when."""
    now = timezone.now()
    visits = list(
        Appointment.objects.filter(patient=patient, end__gte=now)
        .exclude(status__in=CLOSED)
        .select_related("service", "practitioner", "location", "patient")
        .order_by("start")[:UPCOMING_SHOWN]
    )
    upcoming = []
    for visit in visits:
        due = due_measures(visit)
        upcoming.append(
            {
                "visit": visit,
                "due": [{"code": code, "definition": definition(code)} for code in due],
            }
        )
    answered = list(
        results_for(patient)
        .filter(source__in=PATIENT_SOURCES)
        .order_by("-taken_at", "-pk")[:ANSWERED_SHOWN]
    )
    for result in answered:
        result.definition = definition(result.instrument)  # type: ignore[attr-defined]
    audit_view(request, ObjectType.OUTCOME_RESULTS, patient=patient, object_id=patient.pk)
    context = {
        "patient": patient,
        "upcoming": upcoming,
        "anything_due": any(row["due"] for row in upcoming),
        "answered": answered,
        "zone": clinic_zone(),
    }
    return render(request, "outcomes/measures_portal_list.html", context)


@patient_page
def portal_measure_fill(
    request: SignedInRequest, patient: Patient, appointment_id: int, code: str
) -> HttpResponse:
    """Fill in one questionnaire before a visit; the answers are scored and kept."""
    visit = own_visit(request, patient, appointment_id)
    if code not in CODES:
        raise Http404("No such questionnaire.")
    base = definition(code)
    context: dict[str, Any] = {"patient": patient, "visit": visit, "base": base}
    if visit.status in CLOSED:
        return render(request, "outcomes/measures_portal_fill.html", {**context, "closed": True})
    earlier = results_for(patient).filter(appointment=visit, instrument=code).first()
    if earlier is not None:
        return render(
            request,
            "outcomes/measures_portal_fill.html",
            {**context, "earlier": earlier, "zone": clinic_zone()},
        )
    if visit.end <= timezone.now():
        # Answers "before the visit" for a visit already over would be numbered wrongly.
        return render(request, "outcomes/measures_portal_fill.html", {**context, "ended": True})
    activities, naming = _psfs_setup(patient) if code == "PSFS" else ([], False)
    shown = shown_definition(code, activities=activities)
    if request.method == "POST":
        form = MeasureForm(request.POST, definition=shown, name_activities=naming)
        if form.is_valid():
            try:
                # The service keeps one answer per visit and questionnaire.
                saved = _record(
                    request,
                    patient=patient,
                    form=form,
                    source=ResultSource.PORTAL,
                    appointment=visit,
                )
            except OutcomeDuplicate:
                messages.info(request, _("You had already answered this questionnaire."))
                return redirect("portal_measures")
            if saved is not None:
                messages.success(
                    request,
                    _("Thank you. Your answers to the %(name)s are saved.") % {"name": base.name},
                )
                return redirect("portal_measures")
    else:
        form = MeasureForm(definition=shown, name_activities=naming)
    context.update(
        {
            "form": form,
            "definition": shown,
            "rows": form.rows(),
            "errors": error_summary(form),
        }
    )
    return render(request, "outcomes/measures_portal_fill.html", context)


# ---------------------------------------------------------------------------------------------
# Staff: paper forms


def _paper_visits(patient: Patient, now: dt.datetime) -> Any:
    return (
        Appointment.objects.filter(
            patient=patient,
            start__gte=now - PAPER_VISITS_BACK,
            start__lte=now + PAPER_VISITS_AHEAD,
        )
        .exclude(status__in=CLOSED)
        .select_related("service", "location")
        .order_by("-start")
    )


def paper_taken_at(day: dt.date, now: dt.datetime) -> dt.datetime:
    """Return when a paper form dated `day` was answered: noon clinic time, never after now."""
    return min(dt.datetime.combine(day, dt.time(12), tzinfo=clinic_zone()), now)


@login_required
def measures_enter(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Type in a questionnaire the patient filled in on paper: the same form as the portal.

    The front desk may enter answers but not read them back: after saving they see only that
    the form was saved. Practitioners on the care team and the owner see the score.
    """
    patient = patient_for_user(
        request, user=request.user, patient_id=patient_id, perm="outcomes.enter_paper"
    )
    if not request.user.has_perm("outcomes.enter_paper", patient):  # pragma: no cover
        raise PermissionDenied
    code = request.POST.get("instrument") or request.GET.get("instrument") or ""
    plan = current_plan(patient)
    context: dict[str, Any] = {
        "patient": patient,
        "codes": [definition(c) for c in CODES],
        "planned": plan.instruments if plan is not None else [],
    }
    if code in CODES:
        saved = _paper_form(request, patient, code, context)
        if saved is not None:
            messages.success(request, _saved_message(request, patient, saved))
            return redirect(reverse("measures_enter", kwargs={"patient_id": patient.pk}))
    # The page shows the course's plan and PSFS activities.
    audit_view(
        request,
        ObjectType.MEASURE_PLAN,
        patient=patient,
        object_id=plan.pk if plan is not None else "",
        detail={"page": "paper_entry"},
    )
    return render(request, "outcomes/measures_enter.html", context)


def _paper_form(
    request: SignedInRequest, patient: Patient, code: str, context: dict[str, Any]
) -> OutcomeResult | None:
    """Show the questionnaire's paper form in `context`; on a valid POST, save it."""
    now = timezone.now()
    zone = clinic_zone()
    today = now.astimezone(zone).date()
    activities, naming = _psfs_setup(patient) if code == "PSFS" else ([], False)
    shown = shown_definition(code, activities=activities)
    visits = _paper_visits(patient, now)
    saved = None
    if request.method == "POST":
        details = PaperDetailsForm(request.POST, visits=visits, today=today)
        form = MeasureForm(request.POST, definition=shown, name_activities=naming)
        details_ok = details.is_valid()
        if form.is_valid() and details_ok:
            visit = details.cleaned_data["appointment"]
            day = details.cleaned_data["taken_on"]
            try:
                # The service keeps one paper result per visit (or per day without one).
                saved = _record(
                    request,
                    patient=patient,
                    form=form,
                    source=ResultSource.PAPER,
                    appointment=visit,
                    taken_at=paper_taken_at(day, now),
                    details=details,
                )
            except OutcomeDuplicate as duplicate:
                details.add_error(
                    "appointment" if visit is not None else "taken_on", str(duplicate)
                )
    else:
        todays = next(
            (v for v in visits if timezone.localtime(v.start, zone).date() == today), None
        )
        details = PaperDetailsForm(
            visits=visits, today=today, initial={"taken_on": today, "appointment": todays}
        )
        form = MeasureForm(definition=shown, name_activities=naming)
    context.update(
        {
            "code": code,
            "definition": shown,
            "details": details,
            "form": form,
            "rows": form.rows(),
            "errors": error_summary(details, form),
        }
    )
    return saved


def _saved_message(request: SignedInRequest, patient: Patient, result: OutcomeResult) -> str:
    """Say the paper form is saved; give the score only to those who may read it."""
    name = definition(result.instrument).name
    if not request.user.has_perm("outcomes.view_results", patient):
        return _("The paper %(name)s is saved on the patient's record.") % {"name": name}
    if result.score is None:
        return _("The paper %(name)s is saved. It could not be scored: %(reason)s") % {
            "name": name,
            "reason": result.not_scored_reason,
        }
    return _("The paper %(name)s is saved. Score: %(score)s.") % {
        "name": name,
        "score": f"{result.score.normalize():f}",
    }
