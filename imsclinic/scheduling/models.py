"""Appointments: a patient, a practitioner, a bed and a time."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ARRIVED = "arrived", _("Arrived")
    IN_TREATMENT = "in_treatment", _("In treatment")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_TREATMENT,
    AppointmentStatus.COMPLETED,
)


class Appointment(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="appointments"
    )
    location = models.ForeignKey(
        "clinic.Location", on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(
        "clinic.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    service = models.ForeignKey(
        "clinic.Service", on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("start",)
        indexes = [
            models.Index(fields=("practitioner", "start")),
            models.Index(fields=("patient", "start")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="appointment_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} · {self.start:%Y-%m-%d %H:%M} UTC"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("An appointment must end after it starts.")})
