"""Appointments and the schedules they are booked into: shifts, breaks, time off, closures."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import dateformat, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from imsclinic.clinic.models import Weekday


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ARRIVED = "arrived", _("Arrived")
    IN_TREATMENT = "in_treatment", _("In treatment")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


# Each status's (lazy) label by its value, read once: `Appointment.status_text`.
_STATUS_LABELS = {status.value: status.label for status in AppointmentStatus}


class CancelledBy(models.TextChoices):
    """Who called a cancelled visit off: a late cancellation counts against the patient only."""

    PATIENT = "patient", _("The patient")
    CLINIC = "clinic", _("The clinic")


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
    busy_until = models.DateTimeField(
        _("occupied until"),
        help_text=_("The end plus the service's buffer: the practitioner and bed stay taken."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("booked by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancellation_reason = models.TextField(_("reason for cancelling"), blank=True)
    cancelled_late = models.BooleanField(
        _("cancelled inside the late-cancellation window"), default=False
    )
    cancelled_by = models.CharField(
        _("cancelled by"),
        max_length=10,
        choices=CancelledBy.choices,
        blank=True,
        help_text=_(
            "The patient, or the clinic (a practitioner ill, the clinic closed); blank when "
            "the visit was not cancelled, was moved, or nobody said."
        ),
    )
    arrived_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    course = models.ForeignKey(
        "scheduling.Course",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
        verbose_name=_("course of care"),
    )
    rescheduled_from = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rescheduled_to",
        verbose_name=_("moved from"),
        help_text=_("The visit this one replaced when it was rescheduled."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("start",)
        indexes = [
            models.Index(fields=("practitioner", "start")),
            models.Index(fields=("patient", "start")),
            # What an overlap check reads: visits of this practitioner or bed still busy after
            # a moment, not their whole history (SQLite's overlap triggers, the search).
            models.Index(fields=("practitioner", "busy_until"), name="appt_practitioner_busy"),
            models.Index(fields=("room", "busy_until"), name="appt_room_busy"),
            # A location's visits over some days: the calendars' day and week.
            models.Index(fields=("location", "start"), name="appt_location_start"),
            # Visits from a moment on, whoever they are for: the screening queue's next visits.
            models.Index(fields=("start",), name="appt_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(busy_until__gte=F("end")), name="appointment_busy_until_after_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} · {self.start:%Y-%m-%d %H:%M} UTC"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Callers that only know the visit's length still get the buffer blocked after it.
        if self.busy_until is None and self.end is not None:
            self.busy_until = self.end + dt.timedelta(minutes=self.service.buffer_minutes)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("An appointment must end after it starts.")})

    @property
    def is_active(self) -> bool:
        """Say whether this visit still holds its practitioner and bed."""
        return self.status in ACTIVE_STATUSES

    @property
    def moved_to(self) -> Appointment | None:
        """Return the visit this one was moved to, or None (select_related it for lists)."""
        if self.status != AppointmentStatus.CANCELLED:
            return None
        try:
            return self.rescheduled_to
        except Appointment.DoesNotExist:
            return None

    @property
    def status_text(self) -> str:
        """Return the status in words; a moved visit says when it moved to, not "Cancelled"."""
        moved = self.moved_to
        if moved is None:
            # The label itself: get_status_display() hashes every choice's lazy label on each
            # call, and the enum's own lookups rebuild its lists, which a calendar of hundreds
            # of visits felt.
            return str(_STATUS_LABELS.get(self.status, self.status))
        local = moved.start.astimezone(ZoneInfo(moved.location.time_zone))
        when = f"{dateformat.format(local, 'D j M Y, g:i A')} {local.tzname()}"
        return gettext("Moved to %(when)s") % {"when": when}


class Shift(models.Model):
    """A weekly working period of one practitioner at one location, in local wall time."""

    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.CASCADE, related_name="shifts"
    )
    location = models.ForeignKey("clinic.Location", on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    valid_from = models.DateField(_("from"), default=timezone.localdate)
    valid_until = models.DateField(
        _("until"), null=True, blank=True, help_text=_("Last day it applies; empty: no end.")
    )

    class Meta:
        ordering = ("practitioner", "weekday", "start_time")
        indexes = [models.Index(fields=("location", "weekday"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="shift_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="shift_valid_range",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="shift_weekday_in_week"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.practitioner} · {self.get_weekday_display()} "
            f"{self.start_time:%H:%M} to {self.end_time:%H:%M}"
        )

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = _("A shift must end after it starts, on the same day.")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("The last day cannot be before the first day.")
        if errors:
            raise ValidationError(errors)


class ShiftBreak(models.Model):
    """A pause inside a shift, in the same local wall time."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="breaks")
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))

    class Meta:
        ordering = ("shift", "start_time")
        verbose_name = _("break")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="shift_break_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_time:%H:%M} to {self.end_time:%H:%M}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("A break must end after it starts.")})
        shift = self.shift if self.shift_id else None
        if (
            shift is not None
            and self.start_time
            and self.end_time
            and (self.start_time < shift.start_time or self.end_time > shift.end_time)
        ):
            raise ValidationError(_("A break must lie inside its shift."))


class TimeOff(models.Model):
    """A period a practitioner is away (holiday, course, illness)."""

    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.CASCADE, related_name="time_off"
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ("practitioner", "start")
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        indexes = [models.Index(fields=("practitioner", "end"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="time_off_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} · {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("Time off must end after it starts.")})


class ClinicClosure(models.Model):
    """Days a location is shut (holidays, renovation); both days included."""

    location = models.ForeignKey(
        "clinic.Location", on_delete=models.CASCADE, related_name="closures"
    )
    first_day = models.DateField(_("first day closed"))
    last_day = models.DateField(_("last day closed"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ("location", "first_day")
        verbose_name = _("closure")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="closure_last_day_not_before_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} · {self.first_day} to {self.last_day}"

    def clean(self) -> None:
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": _("The last day cannot be before the first day.")})


class Course(models.Model):
    """A run of weekly visits booked together (a course of care)."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="courses"
    )
    location = models.ForeignKey(
        "clinic.Location", on_delete=models.PROTECT, related_name="courses"
    )
    service = models.ForeignKey("clinic.Service", on_delete=models.PROTECT, related_name="courses")
    sessions_planned = models.PositiveSmallIntegerField(_("weekly sessions planned"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("course of care")
        verbose_name_plural = _("courses of care")
        constraints = [
            models.CheckConstraint(
                condition=Q(sessions_planned__gte=1) & Q(sessions_planned__lte=52),
                name="course_sessions_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.sessions_planned} weekly visits"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    BOOKED = "booked", _("Booked")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class WaitlistEntry(models.Model):
    """A patient waiting for a time to free up for a service."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    service = models.ForeignKey(
        "clinic.Service", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        help_text=_("Empty: any practitioner."),
    )
    location = models.ForeignKey(
        "clinic.Location",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        help_text=_("Empty: any location."),
    )
    earliest = models.DateField(_("from"))
    latest = models.DateField(_("until"))
    status = models.CharField(
        max_length=12, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    appointment = models.OneToOneField(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="waitlist_entry",
        help_text=_("The visit booked from this entry."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("created_at", "pk")
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        indexes = [models.Index(fields=("service", "status", "latest"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(latest__gte=F("earliest")), name="waitlist_latest_not_before_earliest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} · {self.earliest} to {self.latest}"

    def clean(self) -> None:
        if self.earliest and self.latest and self.latest < self.earliest:
            raise ValidationError({"latest": _("The last day cannot be before the first day.")})


class WaitlistOffer(models.Model):
    """A freed time emailed to one waiting patient; the first claim books it."""

    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        BOOKED = "booked", _("Booked")
        GONE = "gone", _("Taken by someone else")
        EXPIRED = "expired", _("Expired")

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey("clinic.Location", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField(_("starts"))
    sent_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("sent_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("entry", "practitioner", "start"), name="waitlist_offer_once_per_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry} · {self.start:%Y-%m-%d %H:%M} UTC"


class NoticeKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation")
    CHANGE = "change", _("Change")
    CANCELLATION = "cancellation", _("Cancellation")
    REMINDER = "reminder", _("Reminder")


class AppointmentNotice(models.Model):
    """An email sent about a visit; the unique key makes each one go at most once."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    key = models.CharField(
        max_length=64, help_text=_("What makes this notice distinct, e.g. the start it names.")
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("sent_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("appointment", "kind", "key"), name="appointment_notice_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.appointment_id}"
