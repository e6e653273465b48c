"""Booking pages: confirming a chosen time, planning a course, and the front desk's booking.

The portal (`imsclinic.portal.views.booking`) and the staff pages at the end of this module
are thin views over the same pieces: the picker (`scheduling.views.picker`), `SlotForm`
reading a chosen time back, and the confirm and course pages here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imsclinic.clinic.models import Clinic, Location, Service
from imsclinic.core.http import SignedInRequest
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user
from imsclinic.safety.errors import OnlineImsBookingStopped
from imsclinic.scheduling.forms import SlotForm
from imsclinic.scheduling.models import Appointment
from imsclinic.scheduling.picker import (
    PATIENT_COURSE_WEEKS,
    STAFF_COURSE_WEEKS,
    Flow,
    iso_utc,
    link,
    time_label,
    when_label,
)
from imsclinic.scheduling.selectors import is_still_offered, services_for, visit_booked_at
from imsclinic.scheduling.services.booking import (
    BookingError,
    FirstVisitMustBeAssessment,
    LicenceNotCurrent,
    PatientBusy,
    SlotUnavailable,
    appointment_book_once,
    needs_assessment_first,
)
from imsclinic.scheduling.services.courses import CourseHasConflicts, course_book_once, course_plan
from imsclinic.scheduling.views.picker import alternatives_for, picker_context, render_picker


def summary_context(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Describe a chosen time for a confirm page."""
    location: Location = cleaned["location"]
    start: dt.datetime = cleaned["start"]
    service: Service = cleaned["service"]
    zone = location.zone
    end = start + dt.timedelta(minutes=service.duration_minutes)
    return {
        "service": service,
        "practitioner": cleaned["practitioner"],
        "location": location,
        "start": start,
        "when": when_label(start, zone),
        "ends": time_label(end, zone),
        "form_values": {
            "service": service.slug,
            "practitioner": str(cleaned["practitioner"].pk),
            "location": str(location.pk),
            "start": iso_utc(start),
            "any": "1" if cleaned.get("any") else "",
            "sessions": str(cleaned["sessions"]) if cleaned.get("sessions") else "",
        },
    }


@dataclass(frozen=True)
class BookingAttempt:
    """What a booking attempt came to: a visit, or the picker to show again."""

    appointment: Appointment | None = None
    response: HttpResponse | None = None


def book_chosen_time(
    request: SignedInRequest,
    *,
    flow: Flow,
    page: dict[str, Any],
    now: dt.datetime | None = None,
) -> BookingAttempt:
    """Book the time a confirm page posted, or answer with the picker and why it was not."""
    form = SlotForm(request.POST, services=services_for(staff=flow.for_staff), now=now)
    if not form.is_valid():
        context = picker_context(form.picker_data(), flow=flow, error=form.error_text(), now=now)
        return BookingAttempt(response=render_picker(request, context, page=page, status=400))
    cleaned = form.cleaned_data
    try:
        visit = appointment_book_once(
            patient=flow.patient,
            practitioner=cleaned["practitioner"],
            service=cleaned["service"],
            location=cleaned["location"],
            start=cleaned["start"],
            actor=request.user,
            request=request,
            now=now,
        )
    except SlotUnavailable as refusal:
        alert = None
        if isinstance(refusal, PatientBusy):
            alert = (
                _("%(patient)s already has a visit at that time.")
                % {"patient": flow.patient.display_name}
                if flow.for_staff
                else _("You already have a visit at that time.")
            )
        elif isinstance(refusal, LicenceNotCurrent):
            alert = str(refusal)
        return BookingAttempt(
            response=taken_response(request, form, flow=flow, page=page, now=now, alert=alert)
        )
    except FirstVisitMustBeAssessment as error:
        context = picker_context({}, flow=flow, error=str(error), now=now)
        return BookingAttempt(response=render_picker(request, context, page=page, status=409))
    except OnlineImsBookingStopped:
        # The picker shows the same kind words (and the phone number) in its first step.
        context = picker_context({}, flow=flow, now=now)
        return BookingAttempt(response=render_picker(request, context, page=page, status=403))
    return BookingAttempt(appointment=visit)


def taken_response(
    request: SignedInRequest,
    form: SlotForm,
    *,
    flow: Flow,
    page: dict[str, Any],
    now: dt.datetime | None = None,
    alert: str | None = None,
) -> HttpResponse:
    """Show the picker again, where it was, with "that time was just taken" and alternatives."""
    cleaned = form.cleaned_data
    chosen_practitioner = None if cleaned.get("any") else cleaned["practitioner"]
    alternatives = alternatives_for(
        flow=flow,
        service=cleaned["service"],
        practitioner=chosen_practitioner,
        location=cleaned["location"],
        around=cleaned["start"],
    )
    # Whether someone else just took it or it stopped being offered (the notice period
    # passed while the page was open), the person's next step is the same: pick another.
    context = picker_context(
        form.picker_data(),
        flow=flow,
        alert=alert or _("That time was just taken."),
        alternatives=alternatives,
        now=now,
    )
    return render_picker(request, context, page=page, status=409)


def _staff_flow(patient: Patient, *, course: bool = False) -> Flow:
    return Flow(
        patient=patient,
        picker_url=reverse("staff_book", kwargs={"patient_id": patient.pk}),
        next_url=reverse(
            "staff_course_plan" if course else "staff_book_confirm",
            kwargs={"patient_id": patient.pk},
        ),
        for_staff=True,
        course_mode=course,
        extra={"course": "1"} if course else {},
    )


def _staff_page(patient: Patient, *, course: bool = False) -> dict[str, Any]:
    return {
        "page_title": _("Book a course of weekly visits") if course else _("Book a visit"),
        "patient": patient,
        "back_url": reverse("patient_detail", kwargs={"patient_id": patient.pk}),
        "back_label": _("Back to the patient"),
        "course_url": link(
            reverse("staff_book", kwargs={"patient_id": patient.pk}), {"course": "1"}
        ),
    }


def _booking_patient(request: SignedInRequest, patient_id: int) -> Patient:
    """Return the patient this staff member may book for; 404 (audited) for anyone else."""
    return patient_for_user(request, user=request.user, patient_id=patient_id)


@login_required
def staff_book(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Show the slot picker to book a visit (or a course) for a patient."""
    patient = _booking_patient(request, patient_id)
    course = request.GET.get("course") == "1"
    flow = _staff_flow(patient, course=course)
    context = picker_context(request.GET, flow=flow)
    return render_picker(request, context, page=_staff_page(patient, course=course))


@login_required
def staff_book_confirm(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Confirm a chosen time with the patient on the phone, then book it."""
    patient = _booking_patient(request, patient_id)
    flow = _staff_flow(patient)
    page = _staff_page(patient)
    if request.method == "POST":
        outcome = book_chosen_time(request, flow=flow, page=page)
        if outcome.response is not None:
            return outcome.response
        visit = outcome.appointment
        assert visit is not None
        messages.success(
            request,
            _(
                "Booked %(service)s on %(when)s with %(who)s. "
                "The patient will get a confirmation email."
            )
            % {
                "service": visit.service.name,
                "when": when_label(visit.start, visit.location.zone),
                "who": visit.practitioner.display_name,
            },
        )
        return redirect("patient_detail", patient_id=patient.pk)
    return confirm_page(request, flow=flow, page=page, template="scheduling/book_confirm.html")


def confirm_page(
    request: SignedInRequest,
    *,
    flow: Flow,
    page: dict[str, Any],
    template: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Show a chosen time before it is booked; a time gone already shows the picker again."""
    if not request.GET:
        return redirect(flow.picker_url)
    weeks = None
    if flow.course_mode:
        weeks = STAFF_COURSE_WEEKS if flow.for_staff else PATIENT_COURSE_WEEKS
    form = SlotForm(request.GET, services=services_for(staff=flow.for_staff), weeks=weeks)
    if not form.is_valid():
        context = picker_context(form.picker_data(), flow=flow, error=form.error_text())
        return render_picker(request, context, page=page, status=400)
    chosen = form.cleaned_data
    if (
        not flow.course_mode
        and not is_still_offered(
            service=chosen["service"],
            practitioner=chosen["practitioner"],
            location=chosen["location"],
            start=chosen["start"],
        )
        and visit_booked_at(
            patient=flow.patient,
            practitioner=chosen["practitioner"],
            service=chosen["service"],
            start=chosen["start"],
        )
        is None
    ):
        return taken_response(request, form, flow=flow, page=page)
    clinic = Clinic.current()
    context = {
        **page,
        **summary_context(form.cleaned_data),
        **(extra or {}),
        "flow": flow,
        "clinic_phone": form.cleaned_data["location"].phone or (clinic.phone if clinic else ""),
        "change_url": link(flow.picker_url, {**flow.extra, **form.picker_data()}),
    }
    return render(request, template, context)


def course_page(
    request: SignedInRequest,
    *,
    flow: Flow,
    page: dict[str, Any],
    done_url: str,
    now: dt.datetime | None = None,
) -> HttpResponse:
    """Show the plan for N weekly visits from a chosen first time; POST books it."""
    weeks = STAFF_COURSE_WEEKS if flow.for_staff else PATIENT_COURSE_WEEKS
    data = request.POST if request.method == "POST" else request.GET
    if not data:
        return redirect(link(flow.picker_url, flow.extra))
    form = SlotForm(data, services=services_for(staff=flow.for_staff), now=now, weeks=weeks)
    if not form.is_valid():
        context = picker_context(form.picker_data(), flow=flow, error=form.error_text(), now=now)
        return render_picker(request, context, page=page, status=400)
    cleaned = form.cleaned_data
    if needs_assessment_first(flow.patient, cleaned["service"]):
        context = picker_context(form.picker_data(), flow=flow, now=now)
        return render_picker(request, context, page=page, status=409)
    args: dict[str, Any] = {
        "patient": flow.patient,
        "practitioner": cleaned["practitioner"],
        "service": cleaned["service"],
        "location": cleaned["location"],
        "first_start": cleaned["start"],
        "sessions": cleaned["sessions"],
    }
    message = ""
    status = 200
    if request.method == "POST":
        choice = request.POST.get("book")
        if choice not in {"available", "all"}:
            messages.info(request, _("Nothing was booked."))
            return redirect(done_url)
        try:
            booked = course_book_once(
                **args,
                book_partial=choice == "available",
                actor=request.user,
                request=request,
                now=now,
            )
        except CourseHasConflicts as error:
            plan = error.plan
            message = _(
                "Some of these times changed while you were looking. Here is the plan as it "
                "stands now: nothing has been booked yet."
            )
            status = 409
        except BookingError as error:
            plan = course_plan(**args, now=now)
            message = str(error)
            status = 409
        else:
            if booked is None:
                # The same form sent twice: the first request booked the course.
                return redirect(done_url)
            messages.success(
                request,
                ngettext(
                    "Booked %(count)d weekly visit. A confirmation email goes out for it.",
                    "Booked %(count)d weekly visits. A confirmation email goes out for each.",
                    len(booked.booked),
                )
                % {"count": len(booked.booked)},
            )
            return redirect(done_url)
    else:
        plan = course_plan(**args, now=now)
    zone = cleaned["location"].zone
    rows = []
    for occurrence in plan.occurrences:
        rows.append(
            {
                "index": occurrence.index,
                "when": when_label(occurrence.start, zone),
                "available": occurrence.available,
                "reason": occurrence.reason,
                "alternatives": [when_label(slot.start, zone) for slot in occurrence.alternatives],
            }
        )
    available = sum(1 for row in rows if row["available"])
    context = {
        **page,
        **summary_context(cleaned),
        "flow": flow,
        "rows": rows,
        "available_count": available,
        "failed_count": len(rows) - available,
        "message": message,
        "done_url": done_url,
        "change_url": link(flow.picker_url, {**flow.extra, **form.picker_data()}),
    }
    return render(request, "scheduling/book_course_plan.html", context, status=status)


@login_required
def staff_course_plan(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Plan and book a course of weekly visits for a patient."""
    patient = _booking_patient(request, patient_id)
    return course_page(
        request,
        flow=_staff_flow(patient, course=True),
        page=_staff_page(patient, course=True),
        done_url=reverse("patient_detail", kwargs={"patient_id": patient.pk}),
    )
