"""Every charting write goes through here: drafts, signing, copying rows, addenda.

Each function takes the acting user keyword-only, runs in one transaction, writes an audit
row and refuses with a `ChartingError` (str() is for the user; `errors` says which field,
"rows.2.muscle" for a field of a row) or `PermissionDenied`. A signed note is never
changed: saving or signing it raises `SignedNoteLocked`; corrections go through
`addendum_add`.

Starting and signing a needling session re-check, inside the transaction, that the patient
may be needled (`safety.readiness.require_needling_readiness`, which raises
`NeedlingNotAllowed` listing what is missing), that the practitioner's IMS credential is
current on the day of the visit (`CredentialNotCurrent`), and that every needle lot is
usable that day (`clinic.selectors.usable_lots`). The first needling of a course also needs
a current signed assessment or a recorded reason why not (`AssessmentNotOnFile`; see
`selectors.opens_course`); signing stores the assessment the note rests on. Signing also
needs the clinic's infection-control protocol confirmed for the visit, with the sharps
container its needles went into (`infection_control_confirm`).

A visit that is not IMS gets a physiotherapy note instead (`physio_note_start`,
`physio_note_save_draft`, `physio_note_sign`): the same draft, sign, lock and addenda
rules, through the same code (`_lock_note`, `mark_signed`, `addendum_add`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from imsclinic.charting import segments as seg
from imsclinic.charting.errors import (
    AssessmentNotOnFile,
    ChartingError,
    CredentialNotCurrent,
    SignedNoteLocked,
)
from imsclinic.charting.models import (
    MAX_ROWS,
    MAX_SIGNS,
    Addendum,
    Assessment,
    AssessmentSign,
    ChestWallConfirmation,
    ChestWallTechnique,
    DiagnosedSegment,
    Grasp,
    InfectionControlRecord,
    Muscle,
    NeedlingRow,
    NeedlingSession,
    PhysioNote,
    PlanFrequency,
    Side,
    SignalFinding,
    Tolerance,
)
from imsclinic.charting.selectors import measures_due_at
from imsclinic.charting.signals import note_signed
from imsclinic.clinic.licences import needling_refusal
from imsclinic.clinic.models import NeedleLot, SharpsContainer
from imsclinic.clinic.selectors import usable_lots
from imsclinic.clinic.services import NotEnoughNeedles, needle_stock_lock, needle_stock_move
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.locking import lock_rows
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.models import Patient
from imsclinic.safety.readiness import require_needling_readiness
from imsclinic.scheduling.models import Appointment, AppointmentStatus

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

# ---------------------------------------------------------------------------------------
# Typed inputs the pages build from their forms' cleaned data.


@dataclass(frozen=True)
class SignInput:
    """One sign of neuropathy as examined (a row of the assessment's signs table)."""

    sign: str
    finding: str = SignalFinding.NOT_TESTED
    side: str = ""
    segment: str = ""
    muscle_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class RowInput:
    """One muscle needled: the row of a session note, in the order given."""

    muscle_id: int
    side: str
    segment: str
    insertions: int
    needle_lot_id: int
    grasp: str = Grasp.NONE
    release: bool = False
    twitch: bool = False
    tolerance: str = Tolerance.GOOD
    note: str = ""
    needles_used: int = 1  # taken from the lot (docs/decisions/0011)

    @classmethod
    def of(cls, row: NeedlingRow) -> RowInput:
        """Return the input that would write this stored row again."""
        return cls(
            muscle_id=row.muscle_id,
            side=row.side,
            segment=row.segment,
            insertions=row.insertions,
            needles_used=row.needles_used,
            needle_lot_id=row.needle_lot_id,
            grasp=row.grasp,
            release=row.release,
            twitch=row.twitch,
            tolerance=row.tolerance,
            note=row.note,
        )


@dataclass
class CopyResult:
    """What `session_copy_last_rows` did: the rows it added and, in words, what it changed."""

    rows: list[NeedlingRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: NeedlingSession | None = None


ASSESSMENT_FIELDS = (
    "goals",
    "plan_frequency",
    "plan_frequency_other",
    "plan_expected_sessions",
    "notes",
    "very_slim_build",
)
SESSION_FIELDS = (
    "nprs_before",
    "nprs_after",
    "rom_change",
    "aftercare_given",
    "aftercare_notes",
    "notes",
    "reason_no_assessment",
)


# ---------------------------------------------------------------------------------------
# Helpers


def visit_day(appointment: Appointment) -> dt.date:
    """Return the calendar day of the visit in its location's time zone."""
    return appointment.start.astimezone(appointment.location.zone).date()


def _require(
    actor: User | None,
    perm: str,
    obj: Any,
    *,
    action: str,
    object_type: str,
    patient: Patient,
    request: HttpRequest | None,
    message: str,
) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(perm, obj):
        record_refusal(
            actor=actor, action=action, object_type=object_type, patient=patient, request=request
        )
        raise PermissionDenied(message)


def _field_errors(instance: Model, names: Iterable[str], *, prefix: str = "") -> dict[str, str]:
    """Check the named fields of an unsaved copy against their declaration in models.py.

    The choices, lengths and ranges are the model fields' own (the forms use the same
    limits), so a value the pages let through passes here too; the copy keeps each value
    as its field converts it. Returns {prefix + field name: message}.
    """
    wanted = set(names)
    exclude = [f.name for f in instance._meta.concrete_fields if f.name not in wanted]
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as error:
        return {
            f"{prefix}{name}": " ".join(str(message) for message in messages)
            for name, messages in error.message_dict.items()
        }
    return {}


_Note = TypeVar("_Note", Assessment, NeedlingSession, PhysioNote)


def _lock_note(note: _Note) -> _Note:  # noqa: UP047 (the Django mypy plugin needs a TypeVar)
    """Re-read the note under a row lock and refuse if it is already signed."""
    locked = type(note).objects.select_for_update(no_key=True).get(pk=note.pk)
    if locked.is_signed:
        raise SignedNoteLocked()
    return locked


def _unknown_keys(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ChartingError(
            _("These fields cannot be set here: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )


# ---------------------------------------------------------------------------------------
# Assessments


def _clean_assessment_data(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    _unknown_keys(data, ASSESSMENT_FIELDS)
    probe = Assessment(**data)
    errors.update(_field_errors(probe, data))
    return {name: getattr(probe, name) for name in data}


def _clean_signs(items: Sequence[SignInput], errors: dict[str, str]) -> None:
    if len(items) > MAX_SIGNS:
        raise ChartingError(_("Too many sign rows: at most %(max)d.") % {"max": MAX_SIGNS})
    muscle_ids = {item.muscle_id for item in items if item.muscle_id is not None}
    known = set(Muscle.objects.filter(pk__in=muscle_ids).values_list("pk", flat=True))
    for index, item in enumerate(items):
        probe = AssessmentSign(
            sign=item.sign,
            finding=item.finding,
            side=item.side,
            segment=item.segment,
            note=item.note,
        )
        errors.update(
            _field_errors(
                probe, ("sign", "finding", "side", "segment", "note"), prefix=f"signs.{index}."
            )
        )
        if item.muscle_id is not None and item.muscle_id not in known:
            errors[f"signs.{index}.muscle"] = _("Choose a muscle from the list.")


def _clean_segments(
    items: Iterable[tuple[str, str]], errors: dict[str, str]
) -> list[tuple[str, str]]:
    chosen: list[tuple[str, str]] = []
    for code, side in items:
        segment = str(code).strip().upper()
        if not seg.is_segment(segment):
            errors["segments"] = _("%(code)s is not a spinal segment (C1 to S5).") % {"code": code}
            continue
        if side not in Side.values:
            errors["segments"] = _("Choose left, right or both sides for %(code)s.") % {
                "code": segment
            }
            continue
        if (segment, side) not in chosen:
            chosen.append((segment, side))
    chosen.sort(key=lambda pair: (seg.position(pair[0]), Side.values.index(pair[1])))
    return chosen


def assessment_save_draft(
    *,
    patient: Patient,
    actor: User,
    assessment: Assessment | None = None,
    appointment: Appointment | None = None,
    data: Mapping[str, Any] | None = None,
    signs: Sequence[SignInput] | None = None,
    segments: Iterable[tuple[str, str]] | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Create or update a draft assessment; signs and segments, when given, replace the old.

    `data` holds any of goals, plan_frequency, plan_frequency_other,
    plan_expected_sessions, notes, as the form cleans them (absent keys stay as they are);
    each is checked against its model field's declaration. `signs` replace the saved ones;
    `segments` are (code, side) pairs such as ("C5", "left"). A new draft is written at `now`.
    Refuses with ChartingError (errors: field -> message, a sign row's as "signs.0.sign"),
    SignedNoteLocked for a signed note, PermissionDenied for anyone but the author (or, for
    a new one, anyone without charting.add_note on the patient).
    """
    if assessment is None:
        _require(
            actor,
            "charting.add_note",
            patient,
            action=Action.CREATE,
            object_type=ObjectType.ASSESSMENT,
            patient=patient,
            request=request,
            message=_("Only the owner and the patient's care team write assessments."),
        )
    else:
        if assessment.patient_id != patient.pk:
            raise ChartingError(_("This assessment belongs to another patient."))
        _require(
            actor,
            "charting.edit_draft",
            assessment,
            action=Action.UPDATE,
            object_type=ObjectType.ASSESSMENT,
            patient=patient,
            request=request,
            message=_("Only the practitioner who wrote this draft may change it."),
        )
        if assessment.is_signed:
            raise SignedNoteLocked()
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ChartingError(
            _("That visit belongs to another patient."), errors={"appointment": _("Wrong visit.")}
        )
    errors: dict[str, str] = {}
    cleaned = _clean_assessment_data(data or {}, errors)
    if signs is not None:
        _clean_signs(signs, errors)
    clean_segments = _clean_segments(segments, errors) if segments is not None else None
    if errors:
        raise ChartingError(
            _("The assessment was not saved: correct the marked fields."), errors=errors
        )
    with transaction.atomic(durable=True):
        created = assessment is None
        if assessment is None:
            assessment = Assessment(
                patient=patient,
                author=actor,
                appointment=appointment,
                created_at=now or timezone.now(),
            )
            for name, value in cleaned.items():
                setattr(assessment, name, value)
            assessment.save()
        else:
            assessment = _lock_note(assessment)
            if appointment is not None:
                assessment.appointment = appointment
            for name, value in cleaned.items():
                setattr(assessment, name, value)
            assessment.save()
        if signs is not None:
            for old_sign in list(assessment.signs.all()):
                old_sign.delete()
            for item in signs:
                AssessmentSign(
                    assessment=assessment,
                    sign=item.sign,
                    finding=item.finding,
                    side=item.side,
                    segment=item.segment,
                    muscle_id=item.muscle_id,
                    note=item.note,
                ).save()
        if clean_segments is not None:
            for old_segment in list(assessment.segments.all()):
                old_segment.delete()
            for code, side in clean_segments:
                DiagnosedSegment(assessment=assessment, segment=code, side=side).save()
        audit_record(
            actor=actor,
            action=Action.CREATE if created else Action.UPDATE,
            object_type=ObjectType.ASSESSMENT,
            object_id=assessment.pk,
            patient=patient,
            request=request,
            detail={"status": "draft"},
        )
    return assessment


def assessment_sign(
    *,
    assessment: Assessment,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Sign the author's draft assessment; from then on it never changes.

    Signing needs at least one sign examined (present or absent), at least one diagnosed
    segment or a note saying why none, and a plan frequency (with its words when "other").
    """
    now = now or timezone.now()
    patient = assessment.patient
    _require(
        actor,
        "charting.edit_draft",
        assessment,
        action=Action.UPDATE,
        object_type=ObjectType.ASSESSMENT,
        patient=patient,
        request=request,
        message=_("Only the practitioner who wrote this assessment may sign it."),
    )
    with transaction.atomic(durable=True):
        locked = _lock_note(assessment)
        errors: dict[str, str] = {}
        examined = locked.signs.exclude(finding=SignalFinding.NOT_TESTED).exists()
        if not examined:
            errors["signs"] = _("Record at least one sign as present or absent.")
        if not locked.segments.exists() and not locked.notes.strip():
            errors["segments"] = _(
                "Choose the involved segments, or write in the notes why there are none."
            )
        if not locked.plan_frequency:
            errors["plan_frequency"] = _("Choose how often the patient should come.")
        elif locked.plan_frequency == PlanFrequency.OTHER and not locked.plan_frequency_other:
            errors["plan_frequency_other"] = _("Say how often the patient should come.")
        if errors:
            raise ChartingError(
                _("The assessment cannot be signed yet: complete the marked fields."),
                errors=errors,
            )
        locked.save(update_fields=locked.mark_signed(by=actor, at=now))
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.ASSESSMENT,
            object_id=locked.pk,
            patient=patient,
            request=request,
            detail={"status": "signed"},
        )
    return locked


# ---------------------------------------------------------------------------------------
# Needling sessions


def _require_credential(appointment: Appointment) -> None:
    """Refuse needling unless every licence it needs is current on the visit's day there."""
    practitioner = appointment.practitioner
    day = visit_day(appointment)
    gaps = practitioner.needling_gaps(day, appointment.location)
    if gaps:
        raise CredentialNotCurrent(needling_refusal(gaps, name=practitioner.display_name, day=day))


def _assessment_on_file(appointment: Appointment, *, reason: str) -> Assessment | None:
    """Return the current assessment for the visit; refuse a course opener without one or why.

    Raises AssessmentNotOnFile when needling at this visit opens a course, no signed
    assessment is current and no reason is recorded.
    """
    from imsclinic.charting.selectors import visit_assessment_on_file

    found = visit_assessment_on_file(appointment)
    if found.needed and not reason.strip():
        raise AssessmentNotOnFile(found.months)
    return found.assessment


def session_start(
    *,
    appointment: Appointment,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
    reason_no_assessment: str = "",
) -> NeedlingSession:
    """Open the draft needling note of an IMS visit (or return the one already opened).

    Only the visit's own practitioner starts it, for a visit that was not cancelled or
    missed, of a service that needs an IMS credential. Refuses with NeedlingNotAllowed
    (from safety; `.missing` lists what is missing) when the patient may not be needled
    now, CredentialNotCurrent when the practitioner's IMS credential is not current on the
    day of the visit, AssessmentNotOnFile when the visit's needling opens a course with no
    current signed assessment and no `reason_no_assessment` (stored on the note when given),
    ChartingError for a visit that is not an IMS visit, PermissionDenied for anyone else.
    """
    now = now or timezone.now()
    appointment = Appointment.objects.select_related(
        "patient", "practitioner", "location", "service"
    ).get(pk=appointment.pk)
    patient = appointment.patient
    _require_visit_practitioner(
        appointment,
        actor,
        request,
        object_type=ObjectType.NEEDLING_SESSION,
        care_team_message=_("Only the patient's care team writes needling notes."),
    )
    existing = NeedlingSession.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    if not appointment.service.requires_ims_credential:
        raise ChartingError(_("This visit is not an IMS treatment: it has no needling note."))
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        raise ChartingError(_("This visit was cancelled or missed: it has no needling note."))
    reason = reason_no_assessment.strip()  # spaces alone are no reason: the rule below needs one
    reason_errors = _field_errors(
        NeedlingSession(reason_no_assessment=reason), ["reason_no_assessment"]
    )
    if reason_errors:
        raise ChartingError(
            _("The session note was not started: correct the marked fields."), errors=reason_errors
        )
    with transaction.atomic(durable=True):
        Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()
        require_needling_readiness(patient, at=now)
        _require_credential(appointment)
        _assessment_on_file(appointment, reason=reason)
        existing = NeedlingSession.objects.filter(appointment=appointment).first()
        if existing is not None:
            return existing
        session = NeedlingSession(
            patient=patient,
            appointment=appointment,
            practitioner=actor,
            reason_no_assessment=reason,
            created_at=now,
        )
        session.save()
        detail: dict[str, Any] = {"appointment": appointment.pk, "status": "draft"}
        if reason:
            detail["reason_no_assessment"] = True
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.NEEDLING_SESSION,
            object_id=session.pk,
            patient=patient,
            request=request,
            detail=detail,
        )
    return session


def _clean_session_data(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    _unknown_keys(data, SESSION_FIELDS)
    probe = NeedlingSession(**data)
    errors.update(_field_errors(probe, data))
    return {name: getattr(probe, name) for name in data}


ROW_FIELDS = ("side", "segment", "insertions", "needles_used", "grasp", "tolerance", "note")


def _clean_rows(rows: Sequence[RowInput], *, day: dt.date, errors: dict[str, str]) -> None:
    """Check each row; lots must be usable on the visit's day, muscles offered in charts."""
    if len(rows) > MAX_ROWS:
        raise ChartingError(_("Too many rows: at most %(max)d muscles.") % {"max": MAX_ROWS})
    muscles = {
        muscle.pk: muscle
        for muscle in Muscle.objects.filter(pk__in={row.muscle_id for row in rows})
    }
    lots = {lot.pk: lot for lot in NeedleLot.objects.filter(pk__in={r.needle_lot_id for r in rows})}
    usable = set(usable_lots(day).filter(pk__in=lots).values_list("pk", flat=True))
    for index, row in enumerate(rows):
        problems = _field_errors(_new_row(row), ROW_FIELDS)
        checked = "needles_used" not in problems and "insertions" not in problems
        if checked and row.needles_used > row.insertions:
            problems["needles_used"] = _(
                "At most one needle per insertion: no more than %(n)d here."
            ) % {"n": row.insertions}
        muscle = muscles.get(row.muscle_id)
        if muscle is None or not muscle.is_active:
            problems["muscle"] = _("Choose a muscle from the catalogue.")
        lot = lots.get(row.needle_lot_id)
        if lot is None:
            problems["needle_lot"] = _("Choose a needle lot from stock.")
        elif lot.pk not in usable:
            if lot.is_recalled:
                problems["needle_lot"] = _("Lot %(lot)s was recalled: choose another lot.") % {
                    "lot": lot.lot_number
                }
            else:
                problems["needle_lot"] = _(
                    "Lot %(lot)s expired on %(day)s: choose another lot."
                ) % {"lot": lot.lot_number, "day": lot.expires_on.isoformat()}
        errors.update({f"rows.{index}.{name}": message for name, message in problems.items()})


def _new_row(row: RowInput, **fields: Any) -> NeedlingRow:
    return NeedlingRow(
        muscle_id=row.muscle_id,
        side=row.side,
        segment=row.segment,
        insertions=row.insertions,
        needles_used=row.needles_used,
        needle_lot_id=row.needle_lot_id,
        grasp=row.grasp,
        release=row.release,
        twitch=row.twitch,
        tolerance=row.tolerance,
        note=row.note,
        **fields,
    )


def _needles_by_lot(rows: Iterable[RowInput | NeedlingRow]) -> dict[int, int]:
    used: dict[int, int] = {}
    for row in rows:
        used[row.needle_lot_id] = used.get(row.needle_lot_id, 0) + row.needles_used
    return used


def _lock_stock(rows: Sequence[RowInput], *, stored_of: NeedlingSession | None = None) -> set[int]:
    """Lock the lots the rows take from (and those the note's stored rows hold); return them.

    Called first in the transaction, before the note's lock: core.locking puts needle lots
    before any note.
    """
    lot_ids = {row.needle_lot_id for row in rows}
    if stored_of is not None:
        lot_ids |= set(stored_of.rows.values_list("needle_lot_id", flat=True))
    needle_stock_lock(lot_ids=lot_ids)
    return lot_ids


def _write_rows(
    session: NeedlingSession,
    rows: Sequence[RowInput],
    *,
    first: int = 1,
    replacing: Sequence[NeedlingRow] = (),
    locked_lots: set[int] | None = None,
) -> dict[int, int]:
    """Write the rows (after deleting `replacing`) and move their needles; return the moves.

    A draft's rows take their needles from their lots when written; the rows they replace
    give theirs back. Refuses with ChartingError on the rows of a lot that has too few left
    ("rows.2.needle_lot"); the caller's transaction then undoes the deletions too.
    """
    given_back = _needles_by_lot(replacing)
    # A lot the caller did not lock before the note (the stored rows changed in between:
    # the same draft saved twice at once) is locked now; rare, and should PostgreSQL break
    # a deadlock over it, the page answers "busy, try again" (core.locking).
    late = set(given_back) | {row.needle_lot_id for row in rows}
    needle_stock_lock(lot_ids=late - (locked_lots or set()))
    try:
        moved = needle_stock_move(taken=_needles_by_lot(rows), given_back=given_back)
    except NotEnoughNeedles as refusal:
        raise ChartingError(
            _("The note was not saved: %(problem)s") % {"problem": refusal.message},
            errors={
                f"rows.{index}.needle_lot": refusal.short[row.needle_lot_id]
                for index, row in enumerate(rows)
                if row.needle_lot_id in refusal.short
            },
        ) from None
    for old in replacing:
        old.delete()
    for offset, row in enumerate(rows):
        _new_row(row, session=session, position=first + offset).save()
    return moved


def _precaution_from_rows(session: NeedlingSession) -> bool:
    return session.rows.filter(muscle__thoracic_precaution=True).exists()


def _require_note_author(
    note: NeedlingSession | PhysioNote,
    actor: User,
    request: HttpRequest | None,
    *,
    verb: str,
    object_type: ObjectType,
) -> None:
    """Refuse (PermissionDenied, audited) anyone but the note's author saving or signing it."""
    _require(
        actor,
        "charting.edit_draft",
        note,
        action=Action.UPDATE,
        object_type=object_type,
        patient=note.patient,
        request=request,
        message=(
            _("Only the practitioner who wrote this note may sign it.")
            if verb == "sign"
            else _("Only the practitioner who wrote this note may change it.")
        ),
    )


def _require_session_author(
    session: NeedlingSession, actor: User, request: HttpRequest | None, *, verb: str
) -> None:
    _require_note_author(
        session, actor, request, verb=verb, object_type=ObjectType.NEEDLING_SESSION
    )


def _require_visit_practitioner(
    appointment: Appointment,
    actor: User,
    request: HttpRequest | None,
    *,
    object_type: ObjectType,
    care_team_message: str,
) -> None:
    """Refuse (PermissionDenied, audited) anyone but the visit's own practitioner opening
    its note: first anyone outside the patient's care team, then the rest of the team."""
    patient = appointment.patient
    _require(
        actor,
        "charting.add_note",
        patient,
        action=Action.CREATE,
        object_type=object_type,
        patient=patient,
        request=request,
        message=care_team_message,
    )
    if appointment.practitioner.user_id != actor.pk:
        record_refusal(
            actor=actor,
            action=Action.CREATE,
            object_type=object_type,
            patient=patient,
            request=request,
        )
        raise PermissionDenied(_("Only the practitioner giving this visit writes its note."))


def _require_visit_started(appointment: Appointment, *, now: dt.datetime, message: str) -> None:
    """Refuse (ChartingError) signing a visit's note before the visit starts; `message` has
    a %(time)s for the start, on the location's clock."""
    if now < appointment.start:
        raise ChartingError(
            message
            % {"time": time_format(appointment.start.astimezone(appointment.location.zone), "H:i")}
        )


def session_save_draft(
    *,
    session: NeedlingSession,
    actor: User,
    data: Mapping[str, Any] | None = None,
    rows: Sequence[RowInput] | None = None,
    request: HttpRequest | None = None,
) -> NeedlingSession:
    """Save the draft note: `data` fields that are given, and `rows`, when given, replace all.

    `data` holds any of nprs_before, nprs_after, rom_change, aftercare_given,
    aftercare_notes, notes, reason_no_assessment (why a course opens without a current
    signed assessment), as the form cleans them; each is checked against its model field's
    declaration. `rows` are numbered 1.. in the order given. Each lot must be usable on the
    visit's day and each muscle offered in charts. Each row takes its `needles_used` (1 to
    its insertions) from its lot and the rows it replaces give theirs back; a lot with too
    few left refuses the save on its rows ("rows.2.needle_lot": "Lot X has only 2 needles
    left.").
    Refuses (changing nothing) with ChartingError (errors: field -> message, a row's as
    "rows.2.needle_lot"), SignedNoteLocked, or PermissionDenied. Sets the
    thoracic-precaution marker from the rows.
    """
    _require_session_author(session, actor, request, verb="save")
    if session.is_signed:
        raise SignedNoteLocked()
    errors: dict[str, str] = {}
    cleaned = _clean_session_data(data or {}, errors)
    appointment = Appointment.objects.select_related("location").get(pk=session.appointment_id)
    day = visit_day(appointment)
    if rows is not None:
        _clean_rows(rows, day=day, errors=errors)
    if errors:
        raise ChartingError(_("The note was not saved: correct the marked fields."), errors=errors)
    moved: dict[int, int] = {}
    with transaction.atomic(durable=True):
        lots = _lock_stock(rows, stored_of=session) if rows is not None else set()
        locked = _lock_note(session)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        if rows is not None:
            moved = _write_rows(locked, rows, replacing=list(locked.rows.all()), locked_lots=lots)
        locked.thoracic_precaution = _precaution_from_rows(locked)
        locked.save()
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.NEEDLING_SESSION,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={
                "status": "draft",
                "rows": locked.rows.count(),
                **({"needles": {str(k): v for k, v in moved.items()}} if moved else {}),
                **({"reason_no_assessment": True} if "reason_no_assessment" in cleaned else {}),
            },
        )
    return locked


def session_copy_last_rows(
    *, session: NeedlingSession, actor: User, request: HttpRequest | None = None
) -> CopyResult:
    """Add to this draft the rows of the patient's last signed session, after any rows it has.

    A lot that can no longer be used on this visit's day is swapped for a usable lot of the
    same size (the one expiring first, preferring one with needles left); a row whose muscle
    left the catalogue, or whose size has no usable lot, is left out. `notes` says, in words,
    what was swapped or left out. The copies take their needles from their lots like any
    draft row, and the copy is refused, changing nothing, if a lot has too few left.
    """
    from imsclinic.charting.selectors import last_signed_session

    _require_session_author(session, actor, request, verb="save")
    if session.is_signed:
        raise SignedNoteLocked()
    source = last_signed_session(session.patient, exclude=session)
    if source is None:
        raise ChartingError(_("This patient has no signed needling note to copy from."))
    appointment = Appointment.objects.select_related("location").get(pk=session.appointment_id)
    day = visit_day(appointment)
    usable = list(usable_lots(day))
    usable_ids = {lot.pk for lot in usable}
    result = CopyResult(source=source)
    copies: list[RowInput] = []
    for row in source.rows.select_related("muscle", "needle_lot").order_by("position"):
        if not row.muscle.is_active:
            result.notes.append(
                _("%(muscle)s is no longer offered in charts: left out.")
                % {"muscle": row.muscle.name}
            )
            continue
        lot_id = row.needle_lot_id
        if lot_id not in usable_ids:
            old = row.needle_lot
            same_size = [
                lot
                for lot in usable
                if lot.diameter_mm == old.diameter_mm and lot.length_mm == old.length_mm
            ]
            if not same_size:
                result.notes.append(
                    _("No usable lot of %(size)s for %(muscle)s: left out.")
                    % {"size": old.size_label, "muscle": row.muscle.name}
                )
                continue
            replacement = min(
                same_size, key=lambda lot: (lot.quantity_on_hand <= 0, lot.expires_on, lot.pk)
            )
            lot_id = replacement.pk
            result.notes.append(
                _("%(muscle)s: lot %(old)s can no longer be used, lot %(new)s chosen instead.")
                % {
                    "muscle": row.muscle.name,
                    "old": old.lot_number,
                    "new": replacement.lot_number,
                }
            )
        copies.append(replace(RowInput.of(row), needle_lot_id=lot_id))
    with transaction.atomic(durable=True):
        lots = _lock_stock(copies)
        locked = _lock_note(session)
        last = max((row.position for row in locked.rows.all()), default=0)
        if last + len(copies) > MAX_ROWS:
            raise ChartingError(_("Too many rows: at most %(max)d muscles.") % {"max": MAX_ROWS})
        moved = _write_rows(locked, copies, first=last + 1, locked_lots=lots)
        locked.thoracic_precaution = _precaution_from_rows(locked)
        locked.save()
        result.rows = list(
            locked.rows.filter(position__gt=last).select_related("muscle", "needle_lot")
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.NEEDLING_SESSION,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={
                "copied_from": source.pk,
                "rows": len(copies),
                **({"needles": {str(k): v for k, v in moved.items()}} if moved else {}),
            },
        )
    return result


# ---------------------------------------------------------------------------------------
# Infection control of a needling visit


def _container_problem(container: SharpsContainer, appointment: Appointment) -> str:
    """Say why the visit's needles cannot have gone into this container, or return ""."""
    if container.location_id != appointment.location_id:
        return _("Sharps container %(label)s is at another location: choose one at %(place)s.") % {
            "label": container.label,
            "place": appointment.location.name,
        }
    if container.opened_at > appointment.end:
        return _(
            "Sharps container %(label)s was opened after this visit: choose the one its "
            "needles went into."
        ) % {"label": container.label}
    if container.sealed_at is not None and container.sealed_at < appointment.start:
        return _("Sharps container %(label)s was sealed before this visit: choose an open one.") % {
            "label": container.label
        }
    return ""


def _infection_control_problems(
    session: NeedlingSession, appointment: Appointment
) -> dict[str, str]:
    """Return what keeps the note's infection-control record from allowing it to be signed."""
    from imsclinic.charting.selectors import infection_control_of, infection_control_protocol

    record = infection_control_of(session)
    if record is None:
        return {
            "infection_control": _(
                "Confirm each step of the clinic's infection-control protocol for this visit."
            ),
            "sharps_container": _("Choose the sharps container the used needles went into."),
        }
    problems: dict[str, str] = {}
    if record.steps != [step.text for step in infection_control_protocol()]:
        problems["infection_control"] = _(
            "The clinic's infection-control protocol changed after you confirmed it: "
            "tick its steps again."
        )
    container_problem = _container_problem(record.sharps_container, appointment)
    if container_problem:
        problems["sharps_container"] = container_problem
    return problems


def infection_control_confirm(
    *,
    session: NeedlingSession,
    step_ids: Collection[int],
    sharps_container: SharpsContainer | None,
    note: str = "",
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> InfectionControlRecord:
    """Record on the draft note that every protocol step was followed, and the container.

    `step_ids` are the protocol steps ticked (`selectors.infection_control_protocol`): all
    of them must be, since a step that was not followed cannot be confirmed. The record
    keeps the steps' words as they are now, the sharps container the used needles went
    into (at the visit's location, open during the visit), an optional note, who and when;
    confirming again replaces it. Refuses with ChartingError (errors "infection_control",
    "sharps_container", "infection_note"), SignedNoteLocked, or PermissionDenied for anyone
    but the note's author. The container is only read: sealing it later does not undo that
    it was open during the visit.
    """
    from imsclinic.charting.selectors import infection_control_protocol

    now = now or timezone.now()
    _require_session_author(session, actor, request, verb="save")
    if session.is_signed:
        raise SignedNoteLocked()
    appointment = Appointment.objects.select_related("location").get(pk=session.appointment_id)
    note = note.strip()
    errors = _field_errors(InfectionControlRecord(note=note), ("note",), prefix="infection_")
    steps = infection_control_protocol()
    ticked = set(step_ids)
    if any(step.pk not in ticked for step in steps):
        errors["infection_control"] = _(
            "Tick every step of the clinic's infection-control protocol: the note is signed "
            "only once each one is confirmed."
        )
    if sharps_container is None:
        errors["sharps_container"] = _("Choose the sharps container the used needles went into.")
    else:
        container_problem = _container_problem(sharps_container, appointment)
        if container_problem:
            errors["sharps_container"] = container_problem
    if errors or sharps_container is None:
        raise ChartingError(
            _("Infection control was not recorded: correct the marked fields."), errors=errors
        )
    with transaction.atomic(durable=True):
        locked = _lock_note(session)
        record = InfectionControlRecord.objects.filter(session=locked).first()
        created = record is None
        if record is None:
            record = InfectionControlRecord(session=locked)
        record.steps = [step.text for step in steps]
        record.sharps_container = sharps_container
        record.note = note
        record.confirmed_by = actor
        record.confirmed_at = now
        record.save()
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.NEEDLING_SESSION,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={
                "infection_control": "confirmed" if created else "confirmed again",
                "steps": len(steps),
                "sharps_container": sharps_container.pk,
            },
        )
    return record


def session_sign(
    *,
    session: NeedlingSession,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> NeedlingSession:
    """Sign the author's draft needling note; from then on it never changes.

    Re-checks inside the transaction: the patient may be needled (NeedlingNotAllowed), the
    practitioner's IMS credential is current on the visit's day (CredentialNotCurrent),
    the note has pain before and after and at least one row, every row is valid with
    a lot usable on the visit's day (ChartingError, errors["rows.2.needle_lot"]), and the
    first needling of a course has a current signed assessment or a recorded reason why not
    (ChartingError, errors["reason_no_assessment"]). Sets the thoracic-precaution marker
    from the rows and stores the current assessment the note rests on. Muscles over the
    chest wall of a lung-risk patient need a recorded technique first (ChartingError,
    errors["chest_wall_technique"]; see `session_confirm_chest_wall_technique`).
    """
    now = now or timezone.now()
    _require_session_author(session, actor, request, verb="sign")
    with transaction.atomic(durable=True):
        locked = _lock_note(session)
        patient = locked.patient
        appointment = Appointment.objects.select_related("location", "practitioner").get(
            pk=locked.appointment_id
        )
        _require_visit_started(
            appointment,
            now=now,
            message=_("A needling note can be signed once the visit has started (%(time)s)."),
        )
        require_needling_readiness(patient, at=now)
        _require_credential(appointment)
        errors: dict[str, str] = {}
        if locked.nprs_before is None:
            errors["nprs_before"] = _("Record the pain score before needling.")
        if locked.nprs_after is None:
            errors["nprs_after"] = _("Record the pain score after needling.")
        try:
            assessment = _assessment_on_file(appointment, reason=locked.reason_no_assessment)
        except AssessmentNotOnFile as refusal:
            errors.update(refusal.errors)
            assessment = None
        rows = list(locked.rows.order_by("position"))
        if not rows:
            errors["rows"] = _("Add at least one muscle needled.")
        _clean_rows([RowInput.of(row) for row in rows], day=visit_day(appointment), errors=errors)
        errors.update(_chest_wall_errors(locked, at=now))
        errors.update(_infection_control_problems(locked, appointment))
        if errors:
            raise ChartingError(
                _("The note cannot be signed yet: correct the marked fields."), errors=errors
            )
        locked.thoracic_precaution = _precaution_from_rows(locked)
        locked.assessment = assessment
        signed = locked.mark_signed(by=actor, at=now)
        locked.save(update_fields=[*signed, "thoracic_precaution", "assessment"])
        # Outcomes records the pain scores, followup schedules the check-in (signals.py).
        note_signed.send(
            sender=NeedlingSession, session=locked, actor=actor, request=request, now=now
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.NEEDLING_SESSION,
            object_id=locked.pk,
            patient=patient,
            request=request,
            detail={"status": "signed", "rows": len(rows)},
        )
    return locked


# ---------------------------------------------------------------------------------------
# Needling over the chest wall of a lung-risk patient


def _chest_wall_errors(session: NeedlingSession, *, at: dt.datetime) -> dict[str, str]:
    """Say what stops signing: chest-wall muscles needled for a lung-risk patient without a
    recorded technique covering every one of them."""
    from imsclinic.charting.selectors import chest_wall_rows, lung_risk, technique_confirmed

    rows = chest_wall_rows(session)
    if not rows or technique_confirmed(session, rows):
        return {}
    if not lung_risk(session.patient, at=at).flagged:
        return {}
    names = ", ".join(dict.fromkeys(row.muscle.name for row in rows))
    return {
        "chest_wall_technique": _(
            "This patient has a lung-risk flag: confirm the technique used over the chest "
            "wall (%(muscles)s) before signing."
        )
        % {"muscles": names}
    }


def session_confirm_chest_wall_technique(
    *,
    session: NeedlingSession,
    technique: str,
    actor: User,
    note: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> ChestWallConfirmation:
    """Record the technique the author used over the chest wall, for the note's chest-wall
    muscles as they are now, with the lung-risk reasons shown, who and when.

    A later confirmation replaces an earlier one for signing (rows added since the last one
    need a new one). Refuses with ChartingError (errors["technique"], errors["note"]) when
    the choice is missing or "other" is not described, or when no muscle of the note lies
    over the chest wall; SignedNoteLocked for a signed note; PermissionDenied for anyone but
    the author.
    """
    from imsclinic.charting.selectors import chest_wall_rows, lung_risk

    now = now or timezone.now()
    _require_session_author(session, actor, request, verb="save")
    if session.is_signed:
        raise SignedNoteLocked()
    note = note.strip()
    probe = ChestWallConfirmation(technique=technique, note=note)
    errors = _field_errors(probe, ("technique", "note"))
    if technique == ChestWallTechnique.OTHER and not note and "note" not in errors:
        errors["note"] = _("Describe the technique you used.")
    if errors:
        raise ChartingError(
            _("The technique was not recorded: correct the marked fields."), errors=errors
        )
    with transaction.atomic(durable=True):
        locked = _lock_note(session)
        rows = chest_wall_rows(locked)
        if not rows:
            raise ChartingError(
                _("No muscle in this note lies over the chest wall: there is nothing to confirm.")
            )
        muscles = {row.muscle_id: row.muscle.name for row in rows}
        confirmation = ChestWallConfirmation(
            session=locked,
            technique=technique,
            note=note,
            muscles=[{"id": pk, "name": name} for pk, name in muscles.items()],
            risks=lung_risk(locked.patient, at=now).reasons,
            confirmed_by=actor,
            confirmed_at=now,
        )
        confirmation.save()
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.NEEDLING_SESSION,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"chest_wall_technique": technique, "muscles": sorted(muscles)},
        )
    return confirmation


# Physiotherapy notes (visits that are not IMS)

PHYSIO_FIELDS = ("subjective", "objective", "assessment", "plan", "treatment_given")


def _part_name(name: str) -> str:
    """Return a part of the physiotherapy note in words ("treatment given")."""
    return str(getattr(PhysioNote._meta.get_field(name), "verbose_name", name))


def _require_physio_author(
    note: PhysioNote, actor: User, request: HttpRequest | None, *, verb: str
) -> None:
    _require_note_author(note, actor, request, verb=verb, object_type=ObjectType.PHYSIO_NOTE)


def physio_note_start(
    *,
    appointment: Appointment,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> PhysioNote:
    """Open the draft physiotherapy note of a visit that is not IMS (or return the open one).

    Only the visit's own practitioner starts it, for a visit that was not cancelled or
    missed. An IMS visit is charted in its needling note instead: ChartingError. Refuses
    with PermissionDenied for anyone else. The draft is written at `now`.
    """
    now = now or timezone.now()
    appointment = Appointment.objects.select_related("patient", "practitioner", "service").get(
        pk=appointment.pk
    )
    patient = appointment.patient
    _require_visit_practitioner(
        appointment,
        actor,
        request,
        object_type=ObjectType.PHYSIO_NOTE,
        care_team_message=_("Only the patient's care team writes physiotherapy notes."),
    )
    existing = PhysioNote.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    if appointment.service.requires_ims_credential:
        raise ChartingError(
            _("This visit is an IMS treatment: it is charted in its needling note.")
        )
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        raise ChartingError(_("This visit was cancelled or missed: it has no note."))
    with transaction.atomic(durable=True):
        lock_rows(Appointment, appointment.pk)  # the visit, then its note (core.locking)
        existing = PhysioNote.objects.filter(appointment=appointment).first()
        if existing is not None:
            return existing
        note = PhysioNote(
            patient=patient, appointment=appointment, practitioner=actor, created_at=now
        )
        note.save()
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.PHYSIO_NOTE,
            object_id=note.pk,
            patient=patient,
            request=request,
            detail={"appointment": appointment.pk, "status": "draft"},
        )
    return note


def physio_note_save_draft(
    *,
    note: PhysioNote,
    actor: User,
    data: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> PhysioNote:
    """Save the author's draft: any of subjective, objective, assessment, plan, treatment_given.

    Absent keys stay as they are; each value is checked against its model field's limit.
    Refuses (changing nothing) with ChartingError (errors: field -> message),
    SignedNoteLocked for a signed note, PermissionDenied for anyone but its author.
    """
    _require_physio_author(note, actor, request, verb="save")
    if note.is_signed:
        raise SignedNoteLocked()
    _unknown_keys(data, PHYSIO_FIELDS)
    probe = PhysioNote(**{name: str(value).strip() for name, value in data.items()})
    errors = _field_errors(probe, data)
    if errors:
        raise ChartingError(_("The note was not saved: correct the marked fields."), errors=errors)
    with transaction.atomic(durable=True):
        locked = _lock_note(note)
        for name in data:
            setattr(locked, name, getattr(probe, name))
        locked.save()
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.PHYSIO_NOTE,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"status": "draft"},
        )
    return locked


def physio_note_sign(
    *,
    note: PhysioNote,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> PhysioNote:
    """Sign the author's draft physiotherapy note; from then on it never changes.

    Signing needs the visit to have started and every part written: subjective, objective,
    assessment, plan and the treatment given (ChartingError naming the empty ones). It
    keeps the names of the outcome measures due at the visit as they stand now
    (`selectors.measures_due_at`). A physiotherapy note sends no `note_signed`: it has no
    pain scores for outcomes and no needling for a follow-up check-in.
    """
    now = now or timezone.now()
    _require_physio_author(note, actor, request, verb="sign")
    with transaction.atomic(durable=True):
        locked = _lock_note(note)
        appointment = Appointment.objects.select_related("location", "patient").get(
            pk=locked.appointment_id
        )
        _require_visit_started(
            appointment,
            now=now,
            message=_("A note can be signed once the visit has started (%(time)s)."),
        )
        errors = {
            name: _("Write the %(part)s before signing.") % {"part": _part_name(name)}
            for name in PHYSIO_FIELDS
            if not getattr(locked, name).strip()
        }
        if errors:
            raise ChartingError(
                _("The note cannot be signed yet: complete the marked fields."), errors=errors
            )
        locked.measures_due = measures_due_at(appointment)
        signed = locked.mark_signed(by=actor, at=now)
        locked.save(update_fields=[*signed, "measures_due"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.PHYSIO_NOTE,
            object_id=locked.pk,
            patient=locked.patient,
            request=request,
            detail={"status": "signed", "measures_due": len(locked.measures_due)},
        )
    return locked


# ---------------------------------------------------------------------------------------
# Addenda


def addendum_add(
    *,
    note: Assessment | NeedlingSession | PhysioNote,
    reason: str,
    text: str,
    actor: User,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Addendum:
    """Add a dated correction under a signed note, with its author and reason.

    Drafts are edited instead (ChartingError). The owner and the patient's care team may
    add one (PermissionDenied for anyone else).
    """
    now = now or timezone.now()
    patient = note.patient
    object_type = (
        ObjectType.ASSESSMENT
        if isinstance(note, Assessment)
        else ObjectType.PHYSIO_NOTE
        if isinstance(note, PhysioNote)
        else ObjectType.NEEDLING_SESSION
    )
    _require(
        actor,
        "charting.add_addendum",
        patient,
        action=Action.CREATE,
        object_type=ObjectType.ADDENDUM,
        patient=patient,
        request=request,
        message=_("Only the owner and the patient's care team add to a chart."),
    )
    # A reason or text of spaces alone is none: the record must say why and what.
    reason, text = reason.strip(), text.strip()
    errors = _field_errors(Addendum(reason=reason, text=text), ("reason", "text"))
    if errors:
        raise ChartingError(
            _("The addendum was not added: correct the marked fields."), errors=errors
        )
    with transaction.atomic(durable=True):
        current = type(note).objects.select_for_update(no_key=True).get(pk=note.pk)
        if not current.is_signed:
            raise ChartingError(_("This note is still a draft: change it directly."))
        addendum = Addendum(author=actor, created_at=now, reason=reason, text=text)
        if isinstance(current, Assessment):
            addendum.assessment = current
        elif isinstance(current, PhysioNote):
            addendum.physio_note = current
        else:
            addendum.session = current
        addendum.save()
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.ADDENDUM,
            object_id=addendum.pk,
            patient=patient,
            request=request,
            detail={object_type: current.pk},
        )
    return addendum
