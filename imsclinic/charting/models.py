"""Charting: the muscle catalogue, Gunn assessments, needling notes, physiotherapy notes, addenda.

A note is a draft until its author signs it; from then on it never changes and is never
deleted: the services refuse, `save()`/`delete()` here refuse (every note type shares
`_LockedWhenSigned`), and on PostgreSQL triggers (migrations 0003 and 0008) refuse UPDATE
and DELETE of a signed note and of the rows that belong to it. Corrections are addenda,
which are never changed either. Drafts keep their history (django-simple-history).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from imsclinic.charting.body_chart import REGION_ORDER
from imsclinic.charting.errors import SignedNoteLocked
from imsclinic.charting.segments import SEGMENTS

SEGMENT_CHOICES = [(code, code) for code in SEGMENTS]
SEGMENT_MAX_LENGTH = 3
MAX_INSERTIONS = 50
NPRS_MAX = 10
MAX_EXPECTED_SESSIONS = 100
MAX_ROWS = 60  # muscles in one needling note
MAX_SIGNS = 200  # sign rows in one assessment
# The limits of what a clinician writes, declared once: the model fields, the forms and the
# services all use these. A TextField's limit is its validator: the database keeps no length.
REASON_MAX_LENGTH = 240  # why needle without an assessment; why an addendum was added
ROW_NOTE_MAX_LENGTH = 240  # the note of a sign row or of a needling row
FREQUENCY_OTHER_MAX_LENGTH = 120  # "twice a week for two weeks"
SESSION_TEXT_MAX_LENGTH = 2000  # range of motion change, aftercare notes
SESSION_NOTES_MAX_LENGTH = 4000  # the needling note's other notes
LONG_TEXT_MAX_LENGTH = 10_000  # goals, an assessment's notes, an addendum's text
INFECTION_STEP_MAX_LENGTH = 240  # one step of the clinic's infection-control protocol
INFECTION_NOTE_MAX_LENGTH = 1000  # anything the practitioner adds to the confirmation
PHYSIO_TEXT_MAX_LENGTH = 4000  # each part of a physiotherapy note (subjective ... plan)


def _choose(message: object) -> dict[str, Any]:
    """Return the error messages of a choice field that is left empty or given a stray value."""
    return {"invalid_choice": message, "blank": message}


CHOOSE_SEGMENT = _choose(_("Choose a spinal segment from C1 to S5."))


class View(models.TextChoices):
    FRONT = "front", _("Front")
    BACK = "back", _("Back")
    BOTH = "both", _("Front and back")


@functools.cache
def _labels(choices: type[models.TextChoices]) -> dict[str, Any]:
    """Each choice's (lazy) label by its value, read once per choices class."""
    return {choice.value: choice.label for choice in choices}


def _choice_label(choices: type[models.TextChoices], value: str) -> str:
    """Return a stored choice in words, or the stored value if it is not one of them."""
    return str(_labels(choices).get(value, value))


def _rank(field: str, places: dict[str, int]) -> Case:
    """Return a field's place in an order given as {value: place}; other values come last."""
    return Case(
        *(When(**{field: value}, then=Value(place)) for value, place in places.items()),
        default=Value(len(places)),
        output_field=IntegerField(),
    )


def body_ordering() -> list[Any]:
    """Return the ORDER BY of muscles in body order: region head to foot, roots, name.

    The same order as `catalogue.body_order`: segments by their place (C2, T1, T10),
    never as text (T1, T10, T2).
    """
    segments = {code: place for place, code in enumerate(SEGMENTS)}
    return [
        _rank("region", REGION_ORDER).asc(),
        _rank("root_from", segments).asc(),
        _rank("root_to", segments).asc(),
        F("name").asc(),
        F("pk").asc(),
    ]


class MuscleQuerySet(models.QuerySet["Muscle"]):
    def in_body_order(self) -> MuscleQuerySet:
        """Order by region head to foot, then roots down the spine (C2, T1, T10), then name."""
        return self.order_by(*body_ordering())


class Muscle(models.Model):
    """A muscle clinicians needle, with its usual nerve-root supply (clinic-editable data)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    region = models.CharField(_("body region"), max_length=40)
    view = models.CharField(_("seen from"), max_length=5, choices=View.choices)
    root_from = models.CharField(
        _("roots from"), max_length=SEGMENT_MAX_LENGTH, choices=SEGMENT_CHOICES
    )
    root_to = models.CharField(
        _("roots to"), max_length=SEGMENT_MAX_LENGTH, choices=SEGMENT_CHOICES
    )
    nerve = models.CharField(_("nerve"), max_length=160, blank=True)
    note = models.CharField(_("note"), max_length=240, blank=True)
    thoracic_precaution = models.BooleanField(
        _("thoracic precaution"),
        default=False,
        help_text=_("Needling it can reach the chest wall or lung: the follow-up asks about it."),
    )
    is_paraspinal = models.BooleanField(_("paraspinal"), default=False)
    level = models.CharField(
        _("spinal level"),
        max_length=SEGMENT_MAX_LENGTH,
        choices=SEGMENT_CHOICES,
        blank=True,
        help_text=_("Paraspinal entries only: the level they sit at."),
    )
    is_active = models.BooleanField(_("offered in charts"), default=True)
    # The catalogue file's own order. Lists show muscles in body order (`in_body_order`).
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = MuscleQuerySet.as_manager()

    class Meta:
        ordering = ("order", "name")
        verbose_name = _("muscle")
        verbose_name_plural = _("muscles")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_paraspinal=False, level="") | Q(is_paraspinal=True) & ~Q(level=""),
                name="charting_muscle_paraspinal_has_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def region_label(self) -> str:
        """Return the region in words ("upper back" for upper_back)."""
        return self.region.replace("_", " ")

    @property
    def root_label(self) -> str:
        if self.root_from == self.root_to:
            return self.root_from
        return f"{self.root_from}-{self.root_to}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from imsclinic.charting.body_chart import REGION_CODES, view_problem
        from imsclinic.charting.segments import position

        errors: dict[str, Any] = {}
        if self.region and self.view:
            # The body chart marks a muscle only on the figure(s) its view names.
            problem = view_problem(self.region, self.view)
            if problem:
                errors["region" if self.region not in REGION_CODES else "view"] = problem
        if self.root_from and self.root_to and position(self.root_from) > position(self.root_to):
            errors["root_to"] = _("The last root must be at or below the first one.")
        if self.is_paraspinal and not self.level:
            errors["level"] = _("A paraspinal entry needs its spinal level.")
        if not self.is_paraspinal and self.level:
            errors["level"] = _("Only paraspinal entries have a spinal level.")
        if errors:
            raise ValidationError(errors)


class NoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")


class Side(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    BOTH = "both", _("Both sides")


class NeedleSide(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")


class SignalFinding(models.TextChoices):
    PRESENT = "present", _("Present")
    ABSENT = "absent", _("Absent")
    NOT_TESTED = "not_tested", _("Not tested")


class GunnSign(models.TextChoices):
    """Gunn's signs of neuropathy, in the order they are examined (shared/domain/ims-practice.md).

    A stored value never changes: signed assessments keep pointing at it.
    """

    TENDER_MOTOR_POINTS = "tender_motor_points", _("Tender motor points")
    TENDER_PARASPINALS = "tender_paraspinals", _("Tender paraspinal muscles at the level")
    VASOMOTOR = "vasomotor", _("Vasomotor (cool skin)")
    SUDOMOTOR = "sudomotor", _("Sudomotor (sweating)")
    PILOMOTOR = "pilomotor", _("Pilomotor (goosebumps)")
    TROPHEDEMA_MATCHSTICK = "trophedema_matchstick", _("Trophedema: matchstick test")
    TROPHEDEMA_SKIN_ROLLING = "trophedema_skin_rolling", _("Trophedema: skin rolling")
    PEAU_DORANGE = "peau_dorange", _("Orange-peel skin (peau d'orange)")
    HAIR_LOSS = "hair_loss", _("Localised hair loss")
    BRITTLE_NAILS = "brittle_nails", _("Brittle nails")
    ABNORMAL_SKIN = "abnormal_skin", _("Other skin changes (abnormal skin)")
    SHORTENED_BANDS = "shortened_bands", _("Shortened muscle bands")
    RANGE_OF_MOTION = "range_of_motion", _("Restricted range of motion")
    ENTHESOPATHY = "enthesopathy", _("Enthesopathy or tendinitis at the muscle's attachment")


# The signs by kind, as the assessment form groups them; together they are every GunnSign.
GUNN_SIGN_GROUPS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_("Sensory"), (GunnSign.TENDER_MOTOR_POINTS, GunnSign.TENDER_PARASPINALS)),
    (_("Autonomic"), (GunnSign.VASOMOTOR, GunnSign.SUDOMOTOR, GunnSign.PILOMOTOR)),
    (
        _("Trophic"),
        (
            GunnSign.TROPHEDEMA_MATCHSTICK,
            GunnSign.TROPHEDEMA_SKIN_ROLLING,
            GunnSign.PEAU_DORANGE,
            GunnSign.HAIR_LOSS,
            GunnSign.BRITTLE_NAILS,
            GunnSign.ABNORMAL_SKIN,
        ),
    ),
    (_("Motor"), (GunnSign.SHORTENED_BANDS, GunnSign.RANGE_OF_MOTION)),
    (_("At the attachments"), (GunnSign.ENTHESOPATHY,)),
)


class PlanFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    EVERY_TWO_WEEKS = "every_two_weeks", _("Every two weeks")
    OTHER = "other", _("Other")


class Grasp(models.TextChoices):
    NONE = "none", _("None")
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    STRONG = "strong", _("Strong")


class Tolerance(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class _LockedWhenSigned(models.Model):
    """A note that refuses save() and delete() once the database holds it as signed."""

    status = models.CharField(
        _("status"), max_length=10, choices=NoteStatus.choices, default=NoteStatus.DRAFT
    )
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._stored_as_signed():
            raise SignedNoteLocked()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._stored_as_signed() or self.is_signed:
            raise SignedNoteLocked()
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    def mark_signed(self, *, by: Any, at: dt.datetime) -> list[str]:
        """Set this draft as signed by `by` at `at`; return the fields `save()` must write."""
        self.status = NoteStatus.SIGNED
        self.signed_at = at
        self.signed_by = by
        return ["status", "signed_at", "signed_by", "updated_at"]

    def _stored_as_signed(self) -> bool:
        """Ask the database (not this copy, which may be stale) whether the note is signed."""
        if self.pk is None:
            return False
        stored = type(self)._default_manager.filter(pk=self.pk).values_list("status", flat=True)
        return stored.first() == NoteStatus.SIGNED


class Assessment(_LockedWhenSigned):
    """A Gunn assessment: signs of neuropathy, the segmental diagnosis, goals and plan."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="assessments"
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("visit"),
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    goals = models.TextField(
        _("goals"),
        blank=True,
        validators=[MaxLengthValidator(LONG_TEXT_MAX_LENGTH)],
    )
    plan_frequency = models.CharField(
        _("how often"),
        max_length=20,
        choices=PlanFrequency.choices,
        blank=True,
        error_messages=_choose(_("Choose how often the patient should come.")),
    )
    plan_frequency_other = models.CharField(
        _("other frequency"), max_length=FREQUENCY_OTHER_MAX_LENGTH, blank=True
    )
    plan_expected_sessions = models.PositiveSmallIntegerField(
        _("expected sessions"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EXPECTED_SESSIONS)],
    )
    notes = models.TextField(
        _("notes"),
        blank=True,
        validators=[MaxLengthValidator(LONG_TEXT_MAX_LENGTH)],
    )
    # The practitioner's finding, not the patient's answer; empty on assessments written
    # before it was asked.
    very_slim_build = models.BooleanField(
        _("very slim build: judge needle depth over the chest wall"),
        null=True,
        blank=True,
        help_text=_(
            "Little tissue over the ribs puts the lung closer to the skin. Needling over the "
            "chest wall then needs a recorded technique."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        indexes = [
            models.Index(fields=("patient", "-created_at")),
            models.Index(fields=("author", "status")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", signed_at__isnull=True, signed_by__isnull=True)
                | Q(status="signed", signed_at__isnull=False, signed_by__isnull=False),
                name="charting_assessment_signed_has_signer",
            ),
            models.CheckConstraint(
                condition=Q(plan_expected_sessions__isnull=True)
                | Q(
                    plan_expected_sessions__gte=1, plan_expected_sessions__lte=MAX_EXPECTED_SESSIONS
                ),
                name="charting_assessment_expected_sessions_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment {self.pk} ({self.status})"

    @property
    def dated_at(self) -> dt.datetime:
        """Return the moment the assessment is dated by: its visit's start, else when written.

        A note written up or signed after midnight still belongs to its visit's day;
        `signed_at` is shown as when it was signed.
        """
        visit = self.appointment if self.appointment_id else None
        return visit.start if visit is not None else self.created_at


class _PartOfNote(models.Model):
    """A row that belongs to a note and is locked with it."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._parent_signed():
            raise SignedNoteLocked()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._parent_signed():
            raise SignedNoteLocked()
        return super().delete(*args, **kwargs)

    def _parent(self) -> _LockedWhenSigned:
        raise NotImplementedError

    def _parent_signed(self) -> bool:
        parent = self._parent()
        return parent.is_signed or parent._stored_as_signed()


class AssessmentSign(_PartOfNote):
    """One of Gunn's signs as examined: present, absent or not tested, where and which side."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="signs")
    sign = models.CharField(
        _("sign"),
        max_length=30,
        choices=GunnSign.choices,
        error_messages=_choose(_("Choose one of Gunn's signs.")),
    )
    finding = models.CharField(
        _("finding"),
        max_length=12,
        choices=SignalFinding.choices,
        default=SignalFinding.NOT_TESTED,
        error_messages=_choose(_("Choose present, absent or not tested.")),
    )
    side = models.CharField(
        _("side"),
        max_length=5,
        choices=Side.choices,
        blank=True,
        error_messages=_choose(_("Choose left, right or both sides.")),
    )
    segment = models.CharField(
        _("segment"),
        max_length=SEGMENT_MAX_LENGTH,
        choices=SEGMENT_CHOICES,
        blank=True,
        error_messages=CHOOSE_SEGMENT,
    )
    muscle = models.ForeignKey(
        Muscle,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("muscle"),
    )
    note = models.CharField(_("note"), max_length=ROW_NOTE_MAX_LENGTH, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("assessment", "pk")
        verbose_name = _("sign of neuropathy")
        verbose_name_plural = _("signs of neuropathy")

    def __str__(self) -> str:
        return f"{self.get_sign_display()}: {self.get_finding_display()}"

    def _parent(self) -> _LockedWhenSigned:
        return self.assessment


class DiagnosedSegment(_PartOfNote):
    """An involved segment of the segmental diagnosis, on one side or both."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="segments")
    segment = models.CharField(_("segment"), max_length=SEGMENT_MAX_LENGTH, choices=SEGMENT_CHOICES)
    side = models.CharField(_("side"), max_length=5, choices=Side.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ("assessment", "pk")
        verbose_name = _("involved segment")
        verbose_name_plural = _("involved segments")
        constraints = [
            models.UniqueConstraint(
                fields=("assessment", "segment", "side"), name="charting_segment_once_per_side"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.get_side_display()}"

    def _parent(self) -> _LockedWhenSigned:
        return self.assessment


class NeedlingSession(_LockedWhenSigned):
    """The needling note of one visit: pain before and after, each muscle needled, aftercare."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="needling_sessions"
    )
    appointment = models.OneToOneField(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        related_name="needling_session",
        verbose_name=_("visit"),
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("practitioner"),
    )
    nprs_before = models.PositiveSmallIntegerField(
        _("pain before (0-10)"), null=True, blank=True, validators=[MaxValueValidator(NPRS_MAX)]
    )
    nprs_after = models.PositiveSmallIntegerField(
        _("pain after (0-10)"), null=True, blank=True, validators=[MaxValueValidator(NPRS_MAX)]
    )
    rom_change = models.TextField(
        _("range of motion change"),
        blank=True,
        validators=[MaxLengthValidator(SESSION_TEXT_MAX_LENGTH)],
    )
    aftercare_given = models.BooleanField(_("aftercare advice given"), default=False)
    aftercare_notes = models.TextField(
        _("aftercare notes"),
        blank=True,
        validators=[MaxLengthValidator(SESSION_TEXT_MAX_LENGTH)],
    )
    thoracic_precaution = models.BooleanField(
        _("thoracic precaution"),
        default=False,
        help_text=_("Set when any needled muscle carries the thoracic precaution."),
    )
    notes = models.TextField(
        _("notes"),
        blank=True,
        validators=[MaxLengthValidator(SESSION_NOTES_MAX_LENGTH)],
    )
    assessment = models.ForeignKey(
        Assessment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessment on file"),
        help_text=_("The signed Gunn assessment current when the note was signed."),
    )
    reason_no_assessment = models.CharField(
        _("reason for needling without a current assessment"),
        max_length=REASON_MAX_LENGTH,
        blank=True,
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("needling session")
        verbose_name_plural = _("needling sessions")
        indexes = [
            models.Index(fields=("patient", "-created_at")),
            models.Index(fields=("practitioner", "status")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", signed_at__isnull=True, signed_by__isnull=True)
                | Q(status="signed", signed_at__isnull=False, signed_by__isnull=False),
                name="charting_session_signed_has_signer",
            ),
            models.CheckConstraint(
                condition=Q(nprs_before__isnull=True) | Q(nprs_before__gte=0, nprs_before__lte=10),
                name="charting_session_nprs_before_0_10",
            ),
            models.CheckConstraint(
                condition=Q(nprs_after__isnull=True) | Q(nprs_after__gte=0, nprs_after__lte=10),
                name="charting_session_nprs_after_0_10",
            ),
        ]

    def __str__(self) -> str:
        return f"Needling session {self.pk} ({self.status})"


class NeedlingRow(_PartOfNote):
    """One muscle needled in a session: where, how many insertions, which lot, what it did."""

    session = models.ForeignKey(NeedlingSession, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveSmallIntegerField(_("position"))
    muscle = models.ForeignKey(
        Muscle, on_delete=models.PROTECT, related_name="needling_rows", verbose_name=_("muscle")
    )
    side = models.CharField(
        _("side"),
        max_length=5,
        choices=NeedleSide.choices,
        error_messages=_choose(_("Choose left or right.")),
    )
    segment = models.CharField(
        _("segment"),
        max_length=SEGMENT_MAX_LENGTH,
        choices=SEGMENT_CHOICES,
        error_messages=CHOOSE_SEGMENT,
    )
    insertions = models.PositiveSmallIntegerField(
        _("insertions"), validators=[MinValueValidator(1), MaxValueValidator(MAX_INSERTIONS)]
    )
    # Needles taken from the lot for this muscle (docs/decisions/0011): one by default, at
    # most one per insertion. The lot's quantity on hand goes down by this much.
    needles_used = models.PositiveSmallIntegerField(
        _("needles used"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INSERTIONS)],
    )
    needle_lot = models.ForeignKey(
        "clinic.NeedleLot",
        on_delete=models.PROTECT,
        related_name="needling_rows",
        verbose_name=_("needle lot"),
    )
    grasp = models.CharField(
        _("grasp"),
        max_length=10,
        choices=Grasp.choices,
        default=Grasp.NONE,
        error_messages=_choose(_("Choose none, mild, moderate or strong.")),
    )
    release = models.BooleanField(_("release"), default=False)
    twitch = models.BooleanField(_("twitch"), default=False)
    tolerance = models.CharField(
        _("tolerance"),
        max_length=5,
        choices=Tolerance.choices,
        default=Tolerance.GOOD,
        error_messages=_choose(_("Choose good, fair or poor.")),
    )
    note = models.CharField(_("note"), max_length=ROW_NOTE_MAX_LENGTH, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ("session", "position", "pk")
        verbose_name = _("needling row")
        verbose_name_plural = _("needling rows")
        constraints = [
            models.UniqueConstraint(
                fields=("session", "position"), name="charting_row_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(insertions__gte=1, insertions__lte=MAX_INSERTIONS),
                name="charting_row_insertions_1_50",
            ),
            models.CheckConstraint(
                condition=Q(needles_used__gte=1, needles_used__lte=models.F("insertions")),
                name="charting_row_needles_1_to_insertions",
            ),
        ]
        indexes = [models.Index(fields=("needle_lot",)), models.Index(fields=("muscle",))]

    def __str__(self) -> str:
        return f"{self.muscle} {self.side} x{self.insertions}"

    # Each choice in words by one lookup of its label. Django's own get_FOO_display hashes
    # every choice's lazy label on each call, which a chart of hundreds of rows felt; Django
    # keeps a model's own method of that name (the stubs declare the generated one).
    def get_side_display(self) -> str:  # type: ignore[no-redef]
        return _choice_label(NeedleSide, self.side)

    def get_grasp_display(self) -> str:  # type: ignore[no-redef]
        return _choice_label(Grasp, self.grasp)

    def get_tolerance_display(self) -> str:  # type: ignore[no-redef]
        return _choice_label(Tolerance, self.tolerance)

    def _parent(self) -> _LockedWhenSigned:
        return self.session


class InfectionControlStep(models.Model):
    """One step of the clinic's infection-control protocol, confirmed on every needling note.

    The owner writes, orders and switches off steps on the clinic-settings site; migration
    0009 seeds the starting list. A note keeps the words it was confirmed with
    (`InfectionControlRecord.steps`), so changing a step never changes a signed note.
    """

    text = models.CharField(_("step"), max_length=INFECTION_STEP_MAX_LENGTH)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(
        _("asked on needling notes"),
        default=True,
        help_text=_("Switch a step off to stop asking it; notes that confirmed it keep it."),
    )

    class Meta:
        ordering = ("order", "pk")
        verbose_name = _("infection-control step")
        verbose_name_plural = _("infection-control protocol")

    def __str__(self) -> str:
        return self.text


class InfectionControlRecord(_PartOfNote):
    """What the practitioner confirmed of the infection-control protocol at one visit.

    `steps` holds the protocol's words as they were when confirmed, in order; the sharps
    container is the one the used needles went into. Locked with its note once signed.
    """

    session = models.OneToOneField(
        NeedlingSession, on_delete=models.CASCADE, related_name="infection_control"
    )
    steps = models.JSONField(_("steps confirmed"), default=list)
    sharps_container = models.ForeignKey(
        "clinic.SharpsContainer",
        on_delete=models.PROTECT,
        related_name="infection_control_records",
        verbose_name=_("sharps container"),
    )
    note = models.TextField(
        _("infection-control note"),
        blank=True,
        validators=[MaxLengthValidator(INFECTION_NOTE_MAX_LENGTH)],
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("infection-control record")
        verbose_name_plural = _("infection-control records")

    def __str__(self) -> str:
        return f"Infection control of session {self.session_id}"

    def _parent(self) -> _LockedWhenSigned:
        return self.session


class PhysioNote(_LockedWhenSigned):
    """The physiotherapy note of a visit that is not IMS: SOAP, the treatment given.

    One per visit, written by the visit's practitioner. `measures_due` keeps, from the
    moment of signing, the outcome measures that were due at the visit (their names).
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="physio_notes"
    )
    appointment = models.OneToOneField(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        related_name="physio_note",
        verbose_name=_("visit"),
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("practitioner"),
    )
    subjective = models.TextField(
        _("subjective"),
        blank=True,
        help_text=_("What the patient reports: the problem, how it has been, what matters."),
        validators=[MaxLengthValidator(PHYSIO_TEXT_MAX_LENGTH)],
    )
    objective = models.TextField(
        _("objective"),
        blank=True,
        help_text=_("What you found: observation, range of motion, strength, special tests."),
        validators=[MaxLengthValidator(PHYSIO_TEXT_MAX_LENGTH)],
    )
    assessment = models.TextField(
        _("assessment"),
        blank=True,
        help_text=_("Your clinical impression."),
        validators=[MaxLengthValidator(PHYSIO_TEXT_MAX_LENGTH)],
    )
    plan = models.TextField(
        _("plan"),
        blank=True,
        help_text=_("What happens next: home programme, next visit, referral."),
        validators=[MaxLengthValidator(PHYSIO_TEXT_MAX_LENGTH)],
    )
    treatment_given = models.TextField(
        _("treatment given"),
        blank=True,
        help_text=_("What was done at this visit: exercise, manual therapy, education."),
        validators=[MaxLengthValidator(PHYSIO_TEXT_MAX_LENGTH)],
    )
    measures_due = models.JSONField(
        _("outcome measures due"),
        default=list,
        blank=True,
        help_text=_("The outcome measures due at the visit, as they stood when it was signed."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name = _("physiotherapy note")
        verbose_name_plural = _("physiotherapy notes")
        indexes = [
            models.Index(fields=("patient", "-created_at")),
            models.Index(fields=("practitioner", "status")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", signed_at__isnull=True, signed_by__isnull=True)
                | Q(status="signed", signed_at__isnull=False, signed_by__isnull=False),
                name="charting_physionote_signed_has_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"Physiotherapy note {self.pk} ({self.status})"


class Addendum(models.Model):
    """A dated correction or addition under a signed note; never changed once written."""

    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    session = models.ForeignKey(
        NeedlingSession, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    physio_note = models.ForeignKey(
        PhysioNote, null=True, blank=True, on_delete=models.PROTECT, related_name="addenda"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("written at"), default=timezone.now, editable=False)
    reason = models.CharField(
        _("reason"),
        max_length=REASON_MAX_LENGTH,
        error_messages={"blank": _("Say why you are adding to the signed note.")},
    )
    text = models.TextField(
        _("text"),
        validators=[MaxLengthValidator(LONG_TEXT_MAX_LENGTH)],
        error_messages={"blank": _("Write the addendum.")},
    )

    class Meta:
        ordering = ("created_at", "pk")
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    assessment__isnull=False, session__isnull=True, physio_note__isnull=True
                )
                | Q(assessment__isnull=True, session__isnull=False, physio_note__isnull=True)
                | Q(assessment__isnull=True, session__isnull=True, physio_note__isnull=False),
                name="charting_addendum_one_note",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="charting_addendum_has_reason"),
            models.CheckConstraint(condition=~Q(text=""), name="charting_addendum_has_text"),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise SignedNoteLocked(gettext("An addendum cannot be changed once written."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise SignedNoteLocked(gettext("An addendum cannot be deleted."))


class ChestWallTechnique(models.TextChoices):
    """How the needle was kept away from the lung over the chest wall."""

    ANGLED_AWAY = "angled_away", _("Needle angled away from the chest wall")
    ONTO_RIB = "onto_rib", _("Needle directed onto a rib (the rib as a backstop)")
    PINCER_GRASP = "pincer_grasp", _("Muscle lifted off the chest wall between the fingers")
    FLAT = "flat", _("Flat, shallow needling technique")
    OTHER = "other", _("Another technique (described in the note)")


class ChestWallConfirmation(_PartOfNote):
    """A practitioner's recorded technique for needling over the chest wall of a lung-risk
    patient: which technique, for which muscles, given which risks, by whom and when."""

    session = models.ForeignKey(
        NeedlingSession, on_delete=models.CASCADE, related_name="chest_wall_confirmations"
    )
    technique = models.CharField(
        _("technique over the chest wall"),
        max_length=20,
        choices=ChestWallTechnique.choices,
        error_messages=_choose(_("Choose the technique you used over the chest wall.")),
    )
    note = models.CharField(_("note"), max_length=ROW_NOTE_MAX_LENGTH, blank=True)
    # The chest-wall muscles of the note when confirmed: [{"id": 12, "name": "..."}].
    muscles = models.JSONField(default=list, blank=True)
    # The lung-risk reasons the practitioner saw, as shown.
    risks = models.JSONField(default=list, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)

    class Meta:
        ordering = ("session", "confirmed_at", "pk")
        verbose_name = _("chest-wall technique confirmation")
        verbose_name_plural = _("chest-wall technique confirmations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(technique="other") | ~Q(note=""),
                name="charting_chest_wall_other_described",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_technique_display()} ({self.session_id})"

    def _parent(self) -> _LockedWhenSigned:
        return self.session

    @property
    def muscle_ids(self) -> set[int]:
        return {int(item["id"]) for item in self.muscles if isinstance(item, dict)}

    @property
    def muscle_names(self) -> list[str]:
        return [str(item.get("name", "")) for item in self.muscles if isinstance(item, dict)]
