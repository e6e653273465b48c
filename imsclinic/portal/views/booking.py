"""The patient's booking pages: booking a visit or a course, moving and cancelling visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.core.http import SignedInRequest
from imsclinic.patients.access import patient_page
from imsclinic.patients.models import Patient
from imsclinic.portal.forms import CancelForm
from imsclinic.scheduling.access import own_visit
from imsclinic.scheduling.forms import SlotForm
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.notifications import gets_reminder
from imsclinic.scheduling.picker import Flow, when_label
from imsclinic.scheduling.selectors import services_for
from imsclinic.scheduling.services.booking import (
    NotCancellable,
    SlotUnavailable,
    TooLateToCancel,
    appointment_cancel,
    appointment_reschedule,
    inside_late_window,
)
from imsclinic.scheduling.views.booking import (
    book_chosen_time,
    confirm_page,
    course_page,
    taken_response,
)
from imsclinic.scheduling.views.picker import picker_context, render_picker

# ---------------------------------------------------------------------------------------------
# Booking


def _book_flow(patient: Patient, *, course: bool) -> Flow:
    return Flow(
        patient=patient,
        picker_url=reverse("portal_book"),
        next_url=reverse("portal_course_plan" if course else "portal_book_confirm"),
        course_mode=course,
        extra={"course": "1"} if course else {},
    )


def _book_page(*, course: bool) -> dict[str, Any]:
    return {
        "page_title": _("Book a course of weekly visits") if course else _("Book a visit"),
        "back_url": reverse("portal_home"),
        "back_label": _("Back to My visits"),
        "course_url": f"{reverse('portal_book')}?course=1",
        "single_url": reverse("portal_book"),
    }


@patient_page
def portal_book(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Choose a service, a practitioner and place, a day and a time."""
    course = request.GET.get("course") == "1"
    context = picker_context(request.GET, flow=_book_flow(patient, course=course))
    return render_picker(request, context, page=_book_page(course=course))


@patient_page
def portal_book_confirm(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show the chosen time with a button; POST books it, once however often it is sent."""
    flow = _book_flow(patient, course=False)
    page = _book_page(course=False)
    if request.method == "POST":
        outcome = book_chosen_time(request, flow=flow, page=page)
        if outcome.response is not None:
            return outcome.response
        assert outcome.appointment is not None
        return redirect("portal_booked", appointment_id=outcome.appointment.pk)
    return confirm_page(request, flow=flow, page=page, template="scheduling/book_confirm.html")


@patient_page
def portal_course_plan(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show which weekly dates of a course are free; book the free ones, all, or none."""
    return course_page(
        request,
        flow=_book_flow(patient, course=True),
        page=_book_page(course=True),
        done_url=reverse("portal_home"),
    )


@patient_page
def portal_booked(request: SignedInRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    """Say the visit is booked (or moved) and what happens next."""
    visit = own_visit(request, patient, appointment_id)
    clinic = visit.location.clinic
    context = {
        "visit": visit,
        "when": when_label(visit.start, visit.location.zone),
        "moved": visit.rescheduled_from_id is not None,
        "email": patient.contact_email,
        "late_hours": clinic.late_cancellation_hours,
        "reminder_hours": clinic.reminder_hours,
        # A visit booked inside the reminder window gets no reminder (notifications.py).
        "reminder_due": gets_reminder(visit.start, clinic.reminder_hours),
        "changeable_online": not inside_late_window(visit, timezone.now()),
        "phone": visit.location.phone or clinic.phone,
    }
    return render(request, "portal/booked.html", context)


# ---------------------------------------------------------------------------------------------
# Cancelling and moving


def _change_context(visit: Appointment, now: dt.datetime) -> dict[str, Any]:
    clinic = visit.location.clinic
    return {
        "visit": visit,
        "when": when_label(visit.start, visit.location.zone),
        "late": inside_late_window(visit, now),
        "changeable": visit.status == AppointmentStatus.BOOKED and visit.start > now,
        "late_hours": clinic.late_cancellation_hours,
        "phone": visit.location.phone or clinic.phone,
    }


@patient_page
def portal_cancel(request: SignedInRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    """Ask before cancelling; inside the late window, say to call instead."""
    visit = own_visit(request, patient, appointment_id)
    form = CancelForm(request.POST if request.method == "POST" else None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            appointment_cancel(
                appointment=visit,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except TooLateToCancel as error:
            problem = str(error)
        except NotCancellable as error:
            problem = str(error)
        else:
            messages.success(
                request,
                _("Your visit on %(when)s is cancelled. We have emailed you to confirm.")
                % {"when": when_label(visit.start, visit.location.zone)},
            )
            return redirect("portal_home")
        visit.refresh_from_db()
    context = {**_change_context(visit, timezone.now()), "form": form, "problem": problem}
    return render(request, "portal/cancel.html", context, status=409 if problem else 200)


def _reschedule_flow(patient: Patient, visit: Appointment) -> Flow:
    return Flow(
        patient=patient,
        picker_url=reverse("portal_reschedule", kwargs={"appointment_id": visit.pk}),
        next_url=reverse("portal_reschedule_confirm", kwargs={"appointment_id": visit.pk}),
        fixed_service=visit.service,
        moving=visit,
    )


def _reschedule_page(visit: Appointment) -> dict[str, Any]:
    return {
        "page_title": _("Move your visit"),
        "rescheduling": visit,
        "rescheduling_when": when_label(visit.start, visit.location.zone),
        "back_url": reverse("portal_home"),
        "back_label": _("Keep my current time"),
    }


def _cannot_move(
    request: SignedInRequest, visit: Appointment, problem: str = ""
) -> HttpResponse | None:
    """Answer with the "please call" page when this visit cannot be moved online."""
    context = _change_context(visit, timezone.now())
    if not visit.service.bookable_online and not problem:
        problem = _("This visit can only be moved by the clinic. Please call us.")
    if problem or context["late"] or not context["changeable"]:
        return render(
            request,
            "portal/cancel.html",
            {**context, "moving": True, "problem": problem},
            status=409 if problem else 200,
        )
    return None


@patient_page
def portal_reschedule(
    request: SignedInRequest, patient: Patient, appointment_id: int
) -> HttpResponse:
    """Choose a new time for a visit (same service), with the same picker as booking."""
    visit = own_visit(request, patient, appointment_id)
    refused = _cannot_move(request, visit)
    if refused is not None:
        return refused
    data: Any = request.GET
    if not data:
        data = {"practitioner": str(visit.practitioner_id), "location": str(visit.location_id)}
    context = picker_context(data, flow=_reschedule_flow(patient, visit))
    return render_picker(request, context, page=_reschedule_page(visit))


@patient_page
def portal_reschedule_confirm(
    request: SignedInRequest, patient: Patient, appointment_id: int
) -> HttpResponse:
    """Show the old and new times; POST moves the visit, or says why it could not."""
    visit = own_visit(request, patient, appointment_id)
    moved = Appointment.objects.filter(rescheduled_from=visit).first()
    if moved is not None and request.method == "POST":
        # Sent twice: the first request moved it already.
        return redirect("portal_booked", appointment_id=moved.pk)
    refused = _cannot_move(request, visit)
    if refused is not None:
        return refused
    flow = _reschedule_flow(patient, visit)
    page = _reschedule_page(visit)
    if request.method != "POST":
        return confirm_page(
            request, flow=flow, page=page, template="scheduling/book_confirm.html", extra=page
        )
    form = SlotForm(request.POST, services=services_for(staff=False))
    if not form.is_valid():
        context = picker_context(form.picker_data(), flow=flow, error=form.error_text())
        return render_picker(request, context, page=page, status=400)
    try:
        new = appointment_reschedule(
            appointment=visit,
            start=form.cleaned_data["start"],
            practitioner=form.cleaned_data["practitioner"],
            location=form.cleaned_data["location"],
            actor=request.user,
            request=request,
        )
    except (TooLateToCancel, NotCancellable) as error:
        visit.refresh_from_db()
        return _cannot_move(request, visit, str(error)) or redirect("portal_home")
    except SlotUnavailable:
        return taken_response(request, form, flow=flow, page=page)
    return redirect("portal_booked", appointment_id=new.pk)
