"""The intake questionnaire a patient fills in before their first visit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from imsclinic.intake.questions import FORM_VERSION


class IntakeLocked(Exception):
    """A submitted intake is part of the record and is never changed."""


class Intake(models.Model):
    """One filling-in of the questionnaire: a draft being typed, or a submitted, fixed copy."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("in progress")
        SUBMITTED = "submitted", _("submitted")

    class Source(models.TextChoices):
        PORTAL = "portal", _("patient portal")
        PAPER = "paper", _("paper form entered by staff")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="intakes"
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    form_version = models.CharField(_("form version"), max_length=20, default=FORM_VERSION)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.PORTAL
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("entered by"),
        help_text=_("The staff member who typed in a paper form."),
    )
    confirms = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmations",
        verbose_name=_("re-confirms"),
        help_text=_("The earlier intake this one was copied from when the patient re-confirmed."),
    )

    class Meta:
        ordering = ("-submitted_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("patient",),
                condition=Q(status="draft"),
                name="intake_one_draft_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", submitted_at__isnull=True)
                | Q(status="submitted", submitted_at__isnull=False),
                name="intake_submitted_has_time",
            ),
        ]
        indexes = [models.Index(fields=("patient", "status", "-submitted_at"))]

    def __str__(self) -> str:
        return f"{self.form_version} {self.get_status_display()} #{self.pk}"

    _stored_status: str | None = None

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Why here as well as in the services: nothing may rewrite what a patient submitted.
        if getattr(self, "_stored_status", None) == self.Status.SUBMITTED:
            raise IntakeLocked("A submitted intake cannot be changed; re-confirm instead.")
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.status == self.Status.SUBMITTED:
            raise IntakeLocked("A submitted intake cannot be deleted.")
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> Intake:
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._stored_status = instance.status
        return instance

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED
