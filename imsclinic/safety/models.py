"""Clearance decisions: a practitioner's judgement, on one intake, that needling may go ahead."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
