"""The patient's home page: their upcoming and recent visits."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from imsclinic.core.http import SignedInRequest
from imsclinic.patients.access import own_patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.selectors import upcoming_appointments_for_patient
from imsclinic.scheduling.services.booking import inside_late_window

PAST_VISITS_SHOWN = 10


@login_required
def portal_home(request: SignedInRequest) -> HttpResponse:
    """Show a patient their upcoming and recent visits and the details the clinic holds."""
    if request.user.is_clinic_staff:
        return redirect("patient_list")
    patient = own_patient(request.user)
    now = timezone.now()
    upcoming: list[dict[str, Any]] = []
    past: list[Appointment] = []
    if patient is not None:
        for visit in upcoming_appointments_for_patient(patient).select_related("location__clinic"):
            upcoming.append(
                {
                    "visit": visit,
                    "changeable": visit.status == AppointmentStatus.BOOKED,
                    "late": inside_late_window(visit, now),
                }
            )
        past = list(
            Appointment.objects.filter(patient=patient)
            .filter(Q(start__lt=now) | Q(status=AppointmentStatus.CANCELLED))
            .select_related("service", "practitioner", "location", "rescheduled_to__location")
            .order_by("-start", "-pk")[:PAST_VISITS_SHOWN]
        )
    context = {"patient": patient, "upcoming": upcoming, "past": past}
    return render(request, "portal/home.html", context)
