"""Follow-up after needling: the 24-48 h check-in and the red-flag alert it can raise.

One `CheckIn` per signed IMS needling session (a OneToOne, so a second worker cannot create
a second one). It is created SCHEDULED when the note is signed, claimed and marked SENT by
the task inside the transaction that sends the email, and ANSWERED when the patient replies.
A red-flag answer creates one `RedFlagAlert` (OneToOne on the check-in) that stays on the
treating practitioner's and the owners' pages until someone acknowledges it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CheckInStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    SKIPPED = "skipped", _("Not sent")


# The longest free text a patient may write in a check-in, in each box.
CHECKIN_TEXT_MAX_LENGTH = 2000

# Why a check-in was not sent (CheckIn.skip_reason). The first two put it on the call list.
SKIP_NO_EMAIL = "no_email"
SKIP_LATE = "late"  # the note was signed after the answer window had already closed
SKIP_CANCELLED = "cancelled"
SKIP_UNSIGNED = "unsigned"
CALL_SKIP_REASONS = (SKIP_NO_EMAIL, SKIP_LATE)


# The yes/no red-flag questions, in the order the form asks them (breathlessness first when
# the session carried the thoracic precaution; see forms.py).
RED_FLAG_FIELDS = (
    "breathless_or_chest_pain",
    "site_infection_signs",
    "site_swelling_or_pus",
    "numbness_or_weakness",
    "fainted",
)


class CheckIn(models.Model):
    """The short questionnaire a patient is sent after one signed IMS needling session."""

    session = models.OneToOneField(
        "charting.NeedlingSession",
        on_delete=models.PROTECT,
        related_name="checkin",
        verbose_name=_("needling session"),
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="checkins"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("treating practitioner"),
    )
    thoracic_precaution = models.BooleanField(_("thoracic precaution"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=CheckInStatus.choices, default=CheckInStatus.SCHEDULED
    )
    skip_reason = models.CharField(_("why not sent"), max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    due_at = models.DateTimeField(_("due at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    soreness = models.PositiveSmallIntegerField(_("soreness (0-10)"), null=True, blank=True)
    bruising = models.BooleanField(_("bruising"), null=True, blank=True)
    other_symptoms = models.TextField(
        _("other symptoms"), max_length=CHECKIN_TEXT_MAX_LENGTH, blank=True
    )
    notes = models.TextField(_("notes"), max_length=CHECKIN_TEXT_MAX_LENGTH, blank=True)

    breathless_or_chest_pain = models.BooleanField(
        _("breathlessness or chest pain"), null=True, blank=True
    )
    site_infection_signs = models.BooleanField(
        _("fever, spreading redness or heat"), null=True, blank=True
    )
    site_swelling_or_pus = models.BooleanField(
        _("swelling or pus at a needle site"), null=True, blank=True
    )
    numbness_or_weakness = models.BooleanField(_("new numbness or weakness"), null=True, blank=True)
    fainted = models.BooleanField(_("fainting"), null=True, blank=True)
    red_flag = models.BooleanField(_("red flag"), default=False)

    # Front desk: "we phoned" (optional note on the unanswered list).
    phoned_at = models.DateTimeField(null=True, blank=True)
    phoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("-due_at", "-pk")
        verbose_name = _("follow-up check-in")
        verbose_name_plural = _("follow-up check-ins")
        indexes = [
            models.Index(fields=("status", "sent_at")),
            models.Index(fields=("patient", "-due_at")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "sent", "answered", "skipped"]),
                name="followup_checkin_known_status",
            ),
            models.CheckConstraint(
                condition=Q(soreness__isnull=True) | Q(soreness__gte=0, soreness__lte=10),
                name="followup_checkin_soreness_0_10",
            ),
            # Sent means a time of sending; answered implies it was sent.
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "skipped"], sent_at__isnull=True)
                | Q(status__in=["sent", "answered"], sent_at__isnull=False),
                name="followup_checkin_sent_has_time",
            ),
            # Answers exist only on an answered check-in, and an answered one has all the
            # required ones (soreness and every red-flag question).
            models.CheckConstraint(
                condition=Q(
                    status="answered",
                    answered_at__isnull=False,
                    soreness__isnull=False,
                    breathless_or_chest_pain__isnull=False,
                    site_infection_signs__isnull=False,
                    site_swelling_or_pus__isnull=False,
                    numbness_or_weakness__isnull=False,
                    fainted__isnull=False,
                )
                | Q(
                    ~Q(status="answered"),
                    answered_at__isnull=True,
                    soreness__isnull=True,
                    bruising__isnull=True,
                    breathless_or_chest_pain__isnull=True,
                    site_infection_signs__isnull=True,
                    site_swelling_or_pus__isnull=True,
                    numbness_or_weakness__isnull=True,
                    fainted__isnull=True,
                    red_flag=False,
                    other_symptoms="",
                    notes="",
                ),
                name="followup_checkin_answers_only_when_answered",
            ),
            models.CheckConstraint(
                condition=Q(phoned_at__isnull=True, phoned_by__isnull=True)
                | Q(phoned_at__isnull=False, phoned_by__isnull=False),
                name="followup_checkin_phoned_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.pk} ({self.status})"

    @property
    def red_flags(self) -> list[str]:
        """Return the names of the red-flag questions answered yes."""
        return [name for name in RED_FLAG_FIELDS if getattr(self, name)]

    @property
    def has_free_text(self) -> bool:
        """Say whether the patient wrote anything in the free-text boxes."""
        return bool(self.other_symptoms or self.notes)

    @property
    def state_text(self) -> str:
        """Return where this check-in stands, in a few words for staff."""
        if self.status == CheckInStatus.SKIPPED:
            reasons = {
                SKIP_NO_EMAIL: _("Not sent: no email address"),
                SKIP_LATE: _("Not sent: the note was signed too late"),
                SKIP_CANCELLED: _("Not sent: the visit was cancelled"),
                SKIP_UNSIGNED: _("Not sent: the note is not signed"),
            }
            return str(reasons.get(self.skip_reason, _("Not sent")))
        if self.status == CheckInStatus.SENT:
            return str(_("Sent, not answered yet"))
        return str(self.get_status_display())

    @property
    def call_reason(self) -> str:
        """Return why the call list asks someone to phone about this check-in."""
        if self.status == CheckInStatus.SKIPPED and self.skip_reason == SKIP_NO_EMAIL:
            return str(_("No email address: call"))
        if self.status == CheckInStatus.SKIPPED and self.skip_reason == SKIP_LATE:
            return str(_("Note signed too late to send: call"))
        if self.status == CheckInStatus.SCHEDULED:
            return str(_("Could not be sent: call"))
        return str(_("Not answered: call"))


class RedFlagAlert(models.Model):
    """A red-flag check-in answer, shown to the care team until someone acknowledges it."""

    checkin = models.OneToOneField(CheckIn, on_delete=models.PROTECT, related_name="alert")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="followup_alerts"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("treating practitioner"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adverse_event = models.ForeignKey(
        "safety.AdverseEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followup_alerts",
    )
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("follow-up red flag")
        verbose_name_plural = _("follow-up red flags")
        indexes = [
            models.Index(fields=("acknowledged_at", "practitioner")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
                name="followup_alert_acknowledged_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up red flag {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
