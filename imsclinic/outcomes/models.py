"""Outcome measures: each answered questionnaire as a scored result, and the course's plan.

A result is part of the record: it is never edited or deleted. A wrong entry is struck out
(voided, with a reason) and, if needed, entered again. `save()` refuses to change a stored
result except through `OutcomeResult.void()`, which `services.result_void` calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from imsclinic.outcomes.scoring import INSTRUMENTS

INSTRUMENT_CODES: tuple[str, ...] = tuple(INSTRUMENTS)
REGION_INSTRUMENTS: tuple[str, ...] = ("ODI", "NDI", "QuickDASH", "LEFS")
PSFS_MIN_ACTIVITIES = 3
PSFS_MAX_ACTIVITIES = 5
# The limits of fields that forms, services and the API take in, each declared once here.
INSTRUMENT_MAX_LENGTH = 12
TIMING_MAX_LENGTH = 6
PSFS_ACTIVITY_MAX_LENGTH = 120
VOID_REASON_MAX_LENGTH = 240
NOT_SCORED_REASON_MAX_LENGTH = 200
LICENCE_MAX_LENGTH = 300
EVERY_VISITS_MAX = 20
VOID_FIELDS = ("voided_at", "voided_by", "void_reason")


class ResultIsFinal(Exception):
    """A stored result cannot be changed or deleted; it can only be voided."""


class ResultSource(models.TextChoices):
    SESSION_NOTE = "session_note", _("Session note")
    PORTAL = "portal", _("Patient portal")
    PAPER = "paper", _("Paper form")
    API = "api", _("API")


class Timing(models.TextChoices):
    BEFORE = "before", _("Before needling")
    AFTER = "after", _("After needling")
    NONE = "", _("Not tied to needling")


class OutcomeResultQuerySet(models.QuerySet["OutcomeResult"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ResultIsFinal("An outcome result cannot be changed; void it instead.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise ResultIsFinal("An outcome result cannot be deleted; void it instead.")

    def bulk_update(self, objs: Iterable[OutcomeResult], *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise ResultIsFinal("An outcome result cannot be changed; void it instead.")


class OutcomeResult(models.Model):
    """One answered questionnaire (or a charted pain rating), scored when it was recorded."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="outcome_results"
    )
    instrument = models.CharField(_("questionnaire"), max_length=INSTRUMENT_MAX_LENGTH)
    instrument_version = models.CharField(_("version"), max_length=40)
    answers = models.JSONField(_("answers"))
    labels = models.JSONField(_("activities"), default=list, blank=True)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    not_scored_reason = models.CharField(
        _("why not scored"), max_length=NOT_SCORED_REASON_MAX_LENGTH, blank=True
    )
    answered = models.PositiveSmallIntegerField(_("items answered"))
    timing = models.CharField(
        _("timing"),
        max_length=TIMING_MAX_LENGTH,
        choices=Timing.choices,
        blank=True,
        default=Timing.NONE,
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_results",
        verbose_name=_("visit"),
    )
    session = models.ForeignKey(
        "charting.NeedlingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_results",
        verbose_name=_("needling session"),
    )
    source = models.CharField(_("source"), max_length=12, choices=ResultSource.choices)
    taken_at = models.DateTimeField(_("answered at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    voided_at = models.DateTimeField(_("struck out at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("struck out by"),
    )
    void_reason = models.CharField(
        _("why struck out"), max_length=VOID_REASON_MAX_LENGTH, blank=True
    )

    objects = OutcomeResultQuerySet.as_manager()

    class Meta:
        ordering = ("taken_at", "pk")
        verbose_name = _("outcome result")
        verbose_name_plural = _("outcome results")
        indexes = [models.Index(fields=("patient", "instrument", "taken_at"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__in=INSTRUMENT_CODES),
                name="outcomes_result_known_instrument",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="outcomes_result_score_0_100",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
                | Q(voided_at__isnull=False, voided_by__isnull=False) & ~Q(void_reason=""),
                name="outcomes_result_void_all_or_nothing",
            ),
            models.CheckConstraint(
                condition=Q(timing__in=Timing.values), name="outcomes_result_known_timing"
            ),
            models.CheckConstraint(
                condition=Q(source__in=ResultSource.values), name="outcomes_result_known_source"
            ),
            models.UniqueConstraint(
                fields=("session", "instrument", "timing"),
                condition=Q(session__isnull=False),
                name="outcomes_result_once_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.score} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding and not getattr(self, "_voiding", False):
            raise ResultIsFinal("An outcome result cannot be changed; void it instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ResultIsFinal("An outcome result cannot be deleted; void it instead.")

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    def void(self, *, by: Any, reason: str, at: Any = None) -> None:
        """Strike the result out: the only change a stored result accepts."""
        if self.pk is None or self._state.adding:
            raise ResultIsFinal("Only a stored result can be struck out.")
        stored = type(self)._default_manager.filter(pk=self.pk, voided_at__isnull=True)
        if not stored.exists():
            raise ResultIsFinal("This result was already struck out.")
        self.voided_at = at or timezone.now()
        self.voided_by = by
        self.void_reason = reason
        self._voiding = True
        try:
            super().save(update_fields=list(VOID_FIELDS))
        finally:
            self._voiding = False


class MeasurePlan(models.Model):
    """Which questionnaires a course of IMS uses; the latest one set is the current plan."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="measure_plans"
    )
    assessment = models.ForeignKey(
        "charting.Assessment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="measure_plans",
        verbose_name=_("assessment"),
    )
    region_instrument = models.CharField(
        _("body-region questionnaire"), max_length=INSTRUMENT_MAX_LENGTH, blank=True
    )
    psfs_activities = models.JSONField(_("activities (PSFS)"), default=list, blank=True)
    every_visits = models.PositiveSmallIntegerField(_("repeat every (visits)"), default=3)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        ordering = ("-set_at", "-pk")
        get_latest_by = ("set_at", "pk")
        verbose_name = _("measure plan")
        verbose_name_plural = _("measure plans")
        indexes = [models.Index(fields=("patient", "-set_at"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(region_instrument__in=("", *REGION_INSTRUMENTS)),
                name="outcomes_plan_known_region_instrument",
            ),
            models.CheckConstraint(
                condition=Q(every_visits__gte=1, every_visits__lte=EVERY_VISITS_MAX),
                name="outcomes_plan_every_1_20",
            ),
        ]

    def __str__(self) -> str:
        return f"Measure plan {self.pk}"

    @property
    def instruments(self) -> list[str]:
        """Return the questionnaires the patient fills in: PSFS first, then the region one."""
        codes = ["PSFS"] if self.psfs_activities else []
        if self.region_instrument:
            codes.append(self.region_instrument)
        return codes


class InstrumentText(models.Model):
    """A questionnaire's published wording, loaded by a clinic that holds the licence.

    See docs/OUTCOMES.md: the forms show the latest loaded wording for
    the instrument's version, else the shipped short titles and anchors (instruments.py).
    """

    instrument = models.CharField(_("questionnaire"), max_length=INSTRUMENT_MAX_LENGTH)
    version = models.CharField(_("version"), max_length=40)
    items = models.JSONField(_("items"))
    licence = models.CharField(_("licence"), max_length=LICENCE_MAX_LENGTH, blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("loaded by"),
    )

    class Meta:
        ordering = ("-loaded_at", "-pk")
        verbose_name = _("questionnaire wording")
        verbose_name_plural = _("questionnaire wordings")
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__in=INSTRUMENT_CODES),
                name="outcomes_text_known_instrument",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.version} wording"
