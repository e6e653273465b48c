"""Reads of appointments that pages and the API share."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus


def upcoming_appointments_for_patient(patient: Patient, limit: int = 10) -> QuerySet[Appointment]:
    """Return the patient's next visits that are still going ahead, soonest first."""
    return (
        Appointment.objects.filter(
            patient=patient,
            start__gte=timezone.now(),
            status__in=(AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED),
        )
        .select_related("practitioner", "location", "service", "room")
        .order_by("start")[:limit]
    )
