"""Clearance decisions: a practitioner's judgement, on one intake, that needling may go ahead."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# The longest texts the safety records hold, declared once: the model fields, the forms and
# the services' checks use these.
REASON_MAX = 4000  # a clearance's reason
AE_TEXT_MAX = 4000  # each account of an adverse event and of its follow-up updates
SITE_MAX = 200  # where on the body an adverse event was


class ClearanceIsFinal(Exception):
    """A recorded decision is part of the record: a new decision is a new row."""


class Decision(models.TextChoices):
    CLEARED = "cleared", _("Cleared for IMS")
    CLEARED_WITH_PRECAUTIONS = "cleared_with_precautions", _("Cleared with precautions")
    NOT_SUITABLE = "not_suitable", _("Not suitable for IMS")


class ClearanceQuerySet(models.QuerySet["Clearance"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ClearanceIsFinal("A clearance decision cannot be changed.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise ClearanceIsFinal("A clearance decision cannot be deleted.")

    def bulk_update(self, objs: Iterable[Clearance], *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise ClearanceIsFinal("A clearance decision cannot be changed.")


class Clearance(models.Model):
    """A practitioner's decision on whether a patient may be needled, given one intake."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="clearances"
    )
    intake = models.ForeignKey(
        "intake.Intake",
        on_delete=models.PROTECT,
        related_name="clearances",
        verbose_name=_("health questions reviewed"),
    )
    decision = models.CharField(_("decision"), max_length=30, choices=Decision.choices)
    reason = models.TextField(
        _("reason"),
        max_length=REASON_MAX,
        help_text=_("Why; for a clearance with precautions, the precautions to take."),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now, editable=False)
    # The flags exactly as the practitioner saw them, so the record shows what was weighed
    # even if the rules change later.
    flags_snapshot = models.JSONField(default=list, blank=True)

    objects = ClearanceQuerySet.as_manager()

    class Meta:
        ordering = ("-decided_at", "-pk")
        indexes = [
            models.Index(fields=("patient", "-decided_at")),
            models.Index(fields=("intake", "-decided_at")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=["cleared", "cleared_with_precautions", "not_suitable"]),
                name="clearance_known_decision",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="clearance_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ClearanceIsFinal("A clearance decision cannot be changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ClearanceIsFinal("A clearance decision cannot be deleted.")

    @property
    def allows_needling(self) -> bool:
        return self.decision != Decision.NOT_SUITABLE


class AdverseEventType(models.TextChoices):
    BRUISING = "bruising", _("Bruising")
    BLEEDING = "bleeding", _("Bleeding")
    PAIN_DURING = "pain_during", _("Pain during needling")
    PAIN_AFTER = "pain_after", _("Pain after needling")
    AGGRAVATION = "aggravation", _("Aggravation of symptoms")
    DROWSINESS = "drowsiness", _("Drowsiness or tiredness")
    HEADACHE = "headache", _("Headache")
    NAUSEA = "nausea", _("Nausea")
    FAINTING = "fainting", _("Fainting or feeling faint")
    PNEUMOTHORAX = "pneumothorax", _("Pneumothorax (suspected or confirmed)")
    INFECTION = "infection", _("Infection at a needle site")
    NERVE_INJURY = "nerve_injury", _("Nerve injury")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    MILD = "mild", _("Mild: no treatment needed")
    SIGNIFICANT = "significant", _("Significant: needed medical intervention")
    SERIOUS = "serious", _("Serious: hospital admission or death")


# Severities the owner is told about at once and asked to acknowledge.
ALERTING_SEVERITIES = (Severity.SIGNIFICANT, Severity.SERIOUS)


class EventStatus(models.TextChoices):
    # Opened by a red-flag follow-up check-in: a practitioner completes it (severity, action).
    DRAFT = "draft", _("Draft")
    RECORDED = "recorded", _("Recorded")


class AdverseEvent(models.Model):
    """Something unwanted that followed needling: what, how bad, when, what was done."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="adverse_events"
    )
    session = models.ForeignKey(
        "charting.NeedlingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        verbose_name=_("needling session"),
    )
    muscle = models.ForeignKey(
        "charting.Muscle",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("muscle"),
    )
    site = models.CharField(
        _("site"),
        max_length=SITE_MAX,
        blank=True,
        help_text=_("Where on the body, if no single muscle names it (e.g. left upper back)."),
    )
    event_type = models.CharField(_("type"), max_length=20, choices=AdverseEventType.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.RECORDED
    )
    severity = models.CharField(
        _("severity"),
        max_length=12,
        choices=Severity.choices,
        blank=True,
        help_text=_(
            "Physiotherapy Alberta's classes. Mild: no treatment needed (bruising, bleeding, "
            "soreness, drowsiness). Significant: needed medical intervention. Serious: led to "
            "hospital admission or death."
        ),
    )
    onset = models.DateTimeField(_("onset"), help_text=_("When it started, as best known."))
    description = models.TextField(
        _("what happened"),
        max_length=AE_TEXT_MAX,
        blank=True,
        help_text=_("Needed when the type is “other”."),
    )
    action_taken = models.TextField(_("action taken"), max_length=AE_TEXT_MAX)
    outcome = models.TextField(
        _("outcome"), max_length=AE_TEXT_MAX, blank=True, help_text=_("As known when recorded.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    owner_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-onset", "-pk")
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        indexes = [
            models.Index(fields=("patient", "-onset")),
            models.Index(fields=("severity", "acknowledged_at")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(event_type__in=AdverseEventType.values),
                name="adverse_event_known_type",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EventStatus.values), name="adverse_event_known_status"
            ),
            # A draft waits for the practitioner's severity and action; a recorded event has both.
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values)
                | Q(status=EventStatus.DRAFT, severity=""),
                name="adverse_event_known_severity",
            ),
            models.CheckConstraint(
                condition=~Q(action_taken="") | Q(status=EventStatus.DRAFT),
                name="adverse_event_has_action",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="adverse_event_acknowledged_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} ({self.severity}) #{self.pk}"

    @property
    def alerts_owner(self) -> bool:
        return self.status == EventStatus.RECORDED and self.severity in ALERTING_SEVERITIES

    @property
    def is_draft(self) -> bool:
        return self.status == EventStatus.DRAFT

    @property
    def where(self) -> str:
        """Return the muscle and the site in words, whichever are known."""
        parts = [str(self.muscle.name) if self.muscle_id and self.muscle else "", self.site]
        return " · ".join(part for part in parts if part)


class AdverseEventUpdateIsFinal(Exception):
    """A follow-up update is part of the record: a correction is a new update."""


class AdverseEventUpdateQuerySet(models.QuerySet["AdverseEventUpdate"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AdverseEventUpdateIsFinal("A follow-up update cannot be changed.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AdverseEventUpdateIsFinal("A follow-up update cannot be deleted.")

    def bulk_update(  # type: ignore[override]
        self, objs: Iterable[AdverseEventUpdate], *args: Any, **kwargs: Any
    ) -> NoReturn:
        raise AdverseEventUpdateIsFinal("A follow-up update cannot be changed.")


# Severities in order: a follow-up may only move an event up this list.
SEVERITY_ORDER = (Severity.MILD, Severity.SIGNIFICANT, Severity.SERIOUS)


class AdverseEventUpdate(models.Model):
    """A dated follow-up on an adverse event (how it went since); never changed once written."""

    event = models.ForeignKey(AdverseEvent, on_delete=models.PROTECT, related_name="updates")
    written_at = models.DateTimeField(_("written at"), default=timezone.now, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    outcome = models.TextField(_("outcome since"), max_length=AE_TEXT_MAX)
    # Set only when this update raised the event's severity: from what, to what.
    severity_before = models.CharField(
        _("severity before"), max_length=12, choices=Severity.choices, blank=True
    )
    severity = models.CharField(
        _("new severity"), max_length=12, choices=Severity.choices, blank=True
    )

    objects = AdverseEventUpdateQuerySet.as_manager()

    class Meta:
        ordering = ("written_at", "pk")
        verbose_name = _("adverse event update")
        verbose_name_plural = _("adverse event updates")
        indexes = [models.Index(fields=("event", "written_at"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome=""), name="adverse_event_update_has_outcome"
            ),
            models.CheckConstraint(
                condition=Q(severity="", severity_before="")
                | Q(
                    severity_before=Severity.MILD,
                    severity__in=[Severity.SIGNIFICANT, Severity.SERIOUS],
                )
                | Q(severity_before=Severity.SIGNIFICANT, severity=Severity.SERIOUS),
                name="adverse_event_update_severity_only_up",
            ),
        ]

    def __str__(self) -> str:
        return f"Update {self.pk} on adverse event {self.event_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AdverseEventUpdateIsFinal("A follow-up update cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AdverseEventUpdateIsFinal("A follow-up update cannot be deleted.")
