"""Every outcomes write goes through here: results, their striking out, and plans; audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType, clean_text
from imsclinic.outcomes import scoring
from imsclinic.outcomes.errors import OutcomeDuplicate, OutcomeRefused, WordingInvalid
from imsclinic.outcomes.instruments import definition
from imsclinic.outcomes.models import (
    EVERY_VISITS_MAX,
    LICENCE_MAX_LENGTH,
    NOT_SCORED_REASON_MAX_LENGTH,
    PSFS_ACTIVITY_MAX_LENGTH,
    PSFS_MAX_ACTIVITIES,
    PSFS_MIN_ACTIVITIES,
    REGION_INSTRUMENTS,
    VOID_REASON_MAX_LENGTH,
    MeasurePlan,
    OutcomeResult,
    ResultSource,
    Timing,
)
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from imsclinic.accounts.models import User
    from imsclinic.charting.models import Assessment, NeedlingSession
    from imsclinic.scheduling.models import Appointment

# A clock a few minutes fast on a tablet should not refuse "just now".
FUTURE_SLACK = dt.timedelta(minutes=10)


def _answers_errors(inst: scoring.Instrument, answers: Any) -> dict[str, str]:
    """Return field errors for answers that are not a list of item values or blanks."""
    if not isinstance(answers, list):
        return {"answers": _("Send the answers as a list, one per item.")}
    if not inst.min_items <= len(answers) <= inst.max_items:
        if inst.min_items == inst.max_items:
            message = _("%(name)s has %(count)d items; answer each or leave it blank.") % {
                "name": inst.code,
                "count": inst.max_items,
            }
        else:
            message = _("%(name)s takes %(low)d to %(high)d answers.") % {
                "name": inst.code,
                "low": inst.min_items,
                "high": inst.max_items,
            }
        return {"answers": message}
    errors: dict[str, str] = {}
    for index, value in enumerate(answers):
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not inst.item_min <= value <= inst.item_max
        ):
            errors[f"answers.{index}"] = _(
                "Choose a whole number from %(low)d to %(high)d, or leave it blank."
            ) % {"low": inst.item_min, "high": inst.item_max}
    return errors


def _clean_labels(
    instrument: str, labels: Sequence[str] | None, answers: list[Any], patient: Patient
) -> list[str]:
    if instrument != "PSFS":
        return []
    if labels is None:
        from imsclinic.outcomes.selectors import current_plan

        plan = current_plan(patient)
        labels = list(plan.psfs_activities) if plan is not None else []
    cleaned = [clean_text(str(label)).strip()[:PSFS_ACTIVITY_MAX_LENGTH] for label in labels]
    if len(cleaned) != len(answers) or not all(cleaned):
        raise OutcomeRefused(
            errors={"labels": _("Name each activity rated, in the order of the ratings.")}
        )
    return cleaned


def _first_known_day(patient: Patient, zone: Any) -> dt.date:
    """Return the day the clinic first knew the patient: registration or first visit."""
    from imsclinic.scheduling.models import Appointment

    first_visit = (
        Appointment.objects.filter(patient=patient)
        .order_by("start")
        .values_list("start", flat=True)
        .first()
    )
    known = patient.created_at if first_visit is None else min(patient.created_at, first_visit)
    return known.astimezone(zone).date()


def _date_errors(patient: Patient, taken_at: dt.datetime, now: dt.datetime) -> dict[str, str]:
    """Refuse a result dated in the future, before birth, or before the clinic knew them."""
    if taken_at > now + FUTURE_SLACK:
        return {"taken_at": _("The date cannot be in the future.")}
    zone = clinic_zone()
    day = taken_at.astimezone(zone).date()
    if day < patient.date_of_birth:
        return {
            "taken_at": _("The date is before the patient's date of birth (%(born)s).")
            % {"born": formats.date_format(patient.date_of_birth, "j M Y")}
        }
    first = _first_known_day(patient, zone)
    if day < first:
        return {
            "taken_at": _(
                "The date is before the patient's first visit or registration with the clinic "
                "(%(first)s)."
            )
            % {"first": formats.date_format(first, "j M Y")}
        }
    return {}


def duplicate_message(earlier: OutcomeResult) -> str:
    """Say which standing result blocks a new one, where it came from, and what to do."""
    found = {
        "name": definition(earlier.instrument).name,
        "date": formats.date_format(earlier.taken_at.astimezone(clinic_zone()), "j M Y"),
        "source": earlier.get_source_display(),
        "timing": earlier.get_timing_display().lower(),
    }
    if earlier.appointment_id is None:
        return (
            _(
                "The %(name)s is already recorded on %(date)s without a visit (%(source)s). "
                "If it was wrong, strike it out on the patient's progress page, then enter "
                "this one."
            )
            % found
        )
    if earlier.timing:
        return (
            _(
                "The %(name)s is already recorded for this visit (%(timing)s, %(source)s, "
                "%(date)s). If it was wrong, strike it out on the patient's progress page, "
                "then enter this one."
            )
            % found
        )
    return (
        _(
            "The %(name)s is already recorded for this visit (%(source)s, %(date)s). If it was "
            "wrong, strike it out on the patient's progress page, then enter this one."
        )
        % found
    )


def standing_duplicate(
    *,
    patient: Patient,
    instrument: str,
    source: str,
    taken_at: dt.datetime,
    timing: str = "",
    appointment: Appointment | None = None,
) -> OutcomeResult | None:
    """Return the standing result a new one would repeat, or None.

    One result per visit and questionnaire; only pain before and after needling may stand
    side by side (a result with no timing repeats either). A paper form without a visit, one
    per questionnaire and clinic day.
    """
    standing = OutcomeResult.objects.filter(
        patient=patient, instrument=instrument, voided_at__isnull=True
    ).order_by("taken_at", "pk")
    if appointment is not None:
        same_visit = standing.filter(appointment=appointment)
        if timing:
            same_visit = same_visit.filter(timing__in=("", timing))
        return same_visit.first()
    if source != ResultSource.PAPER:
        return None
    zone = clinic_zone()
    day = taken_at.astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return standing.filter(
        appointment__isnull=True, session__isnull=True, taken_at__gte=start, taken_at__lt=end
    ).first()


def result_record(
    *,
    patient: Patient,
    instrument: str,
    answers: Any,
    actor: User | None,
    source: str,
    taken_at: dt.datetime | None = None,
    timing: str = "",
    appointment: Appointment | None = None,
    session: NeedlingSession | None = None,
    labels: Sequence[str] | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> OutcomeResult:
    """Score and store one answered questionnaire (or a charted pain rating) for the patient."""
    now = now or timezone.now()
    if actor is None or not actor.has_perm("outcomes.record_result", patient):
        record_refusal(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.OUTCOME_RESULT,
            patient=patient,
            request=request,
        )
        raise PermissionDenied(_("You may not record questionnaire answers for this patient."))
    if source not in ResultSource.values:
        raise OutcomeRefused(errors={"source": _("Say where the answers came from.")})
    if instrument not in scoring.INSTRUMENTS:
        raise OutcomeRefused(errors={"instrument": _("Choose one of the questionnaires.")})
    inst = scoring.INSTRUMENTS[instrument]
    errors = _answers_errors(inst, answers)
    if errors:
        raise OutcomeRefused(errors=errors)
    if timing not in Timing.values:
        raise OutcomeRefused(errors={"timing": _("Choose before or after needling, or neither.")})
    taken_at = taken_at or now
    if timezone.is_naive(taken_at):
        raise OutcomeRefused(errors={"taken_at": _("Give the time with its time zone.")})
    errors = _date_errors(patient, taken_at, now)
    if errors:
        raise OutcomeRefused(errors=errors)
    if appointment is not None and appointment.patient_id != patient.pk:
        raise OutcomeRefused(errors={"appointment_id": _("That visit is not this patient's.")})
    if session is not None and session.patient_id != patient.pk:
        raise OutcomeRefused(errors={"session": _("That session is not this patient's.")})
    cleaned_labels = _clean_labels(instrument, labels, answers, patient)
    result = scoring.score(instrument, answers)
    value = (
        None
        if result.value is None
        else Decimal(str(result.value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    )
    with transaction.atomic():
        # One result per visit and questionnaire: a second submit from any page or the API
        # waits on the patient's row, then sees the first.
        Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()
        earlier = standing_duplicate(
            patient=patient,
            instrument=instrument,
            source=source,
            taken_at=taken_at,
            timing=timing,
            appointment=appointment,
        )
        if earlier is not None:
            raise OutcomeDuplicate(duplicate_message(earlier), earlier=earlier)
        stored = OutcomeResult.objects.create(
            patient=patient,
            instrument=instrument,
            instrument_version=result.version,
            answers=list(answers),
            labels=cleaned_labels,
            score=value,
            not_scored_reason=(result.reason or "")[:NOT_SCORED_REASON_MAX_LENGTH],
            answered=result.answered,
            timing=timing,
            appointment=appointment,
            session=session,
            source=source,
            taken_at=taken_at,
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.OUTCOME_RESULT,
            object_id=stored.pk,
            patient=patient,
            request=request,
            detail={"instrument": instrument, "source": source, "timing": timing},
        )
    return stored


def result_record_naming_activities(
    *,
    patient: Patient,
    instrument: str,
    answers: Any,
    activities: Sequence[str],
    actor: User | None,
    source: str,
    taken_at: dt.datetime | None = None,
    appointment: Appointment | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> OutcomeResult:
    """Keep the PSFS activities just named on the patient's plan and record their ratings.

    Both or neither: a refused result leaves the plan as it was.
    """
    with transaction.atomic(durable=True):
        plan_activities_set(
            patient=patient, psfs_activities=activities, actor=actor, request=request, now=now
        )
        return result_record(
            patient=patient,
            instrument=instrument,
            answers=answers,
            labels=activities,
            actor=actor,
            source=source,
            taken_at=taken_at,
            appointment=appointment,
            request=request,
            now=now,
        )


def results_from_session(*, session: NeedlingSession, actor: User) -> None:
    """Store the signed note's pain before and after as NPRS results (once per session)."""
    from imsclinic.scheduling.models import Appointment

    appointment = Appointment.objects.get(pk=session.appointment_id)
    with transaction.atomic():
        existing = set(
            OutcomeResult.objects.filter(session=session, instrument="NPRS").values_list(
                "timing", flat=True
            )
        )
        created: list[int] = []
        for timing, rating, at in (
            (Timing.BEFORE, session.nprs_before, appointment.start),
            (Timing.AFTER, session.nprs_after, appointment.end),
        ):
            if rating is None or timing.value in existing:
                continue
            result = scoring.score("NPRS", [rating])
            stored = OutcomeResult.objects.create(
                patient_id=session.patient_id,
                instrument="NPRS",
                instrument_version=result.version,
                answers=[rating],
                labels=[],
                score=Decimal(rating),
                answered=result.answered,
                timing=timing.value,
                appointment=appointment,
                session=session,
                source=ResultSource.SESSION_NOTE,
                taken_at=at,
                recorded_by=actor,
            )
            created.append(stored.pk)
        if created:
            audit_record(
                actor=actor,
                action=Action.CREATE,
                object_type=ObjectType.OUTCOME_RESULT,
                object_id=",".join(str(pk) for pk in created),
                patient_id=session.patient_id,
                detail={"instrument": "NPRS", "source": "session_note", "session": session.pk},
            )


def result_void(
    *,
    result: OutcomeResult,
    reason: str,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> OutcomeResult:
    """Strike out a wrong result with the reason; it stays in the record, marked."""
    patient = result.patient
    if actor is None or not actor.has_perm("outcomes.void_result", patient):
        record_refusal(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.OUTCOME_RESULT,
            patient=patient,
            request=request,
        )
        raise PermissionDenied(
            _("Only the owner and practitioners on the patient's care team strike out results.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise OutcomeRefused(errors={"reason": _("Say why the result is struck out.")})
    if len(reason) > VOID_REASON_MAX_LENGTH:
        raise OutcomeRefused(
            errors={
                "reason": _("Keep the reason under %(max)d characters.")
                % {"max": VOID_REASON_MAX_LENGTH}
            }
        )
    with transaction.atomic(durable=True):
        locked = OutcomeResult.objects.select_for_update(no_key=True).get(pk=result.pk)
        if locked.voided_at is not None:
            raise OutcomeRefused(_("This result was already struck out."))
        locked.void(by=actor, reason=reason, at=now or timezone.now())
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.OUTCOME_RESULT,
            object_id=locked.pk,
            patient=patient,
            request=request,
            detail={"voided": True},
        )
    return locked


def _clean_activities(psfs_activities: Sequence[str] | None, errors: dict[str, str]) -> list[str]:
    """Return the activities named, blanks dropped; note in errors what is wrong with them."""
    activities = [
        clean_text(str(text)).strip() for text in psfs_activities or [] if str(text).strip()
    ]
    if activities and not PSFS_MIN_ACTIVITIES <= len(activities) <= PSFS_MAX_ACTIVITIES:
        errors["psfs_activities"] = _("Name %(low)d to %(high)d activities, or none.") % {
            "low": PSFS_MIN_ACTIVITIES,
            "high": PSFS_MAX_ACTIVITIES,
        }
    elif any(len(text) > PSFS_ACTIVITY_MAX_LENGTH for text in activities):
        errors["psfs_activities"] = _("Keep each activity under %(max)d characters.") % {
            "max": PSFS_ACTIVITY_MAX_LENGTH
        }
    return activities


def plan_set(
    *,
    patient: Patient,
    region_instrument: str,
    psfs_activities: Sequence[str],
    every_visits: int | None,
    actor: User | None,
    assessment: Assessment | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> MeasurePlan:
    """Set which questionnaires the patient's course uses; earlier plans stay as history."""
    now = now or timezone.now()
    if actor is None or not actor.has_perm("outcomes.set_plan", patient):
        record_refusal(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.MEASURE_PLAN,
            patient=patient,
            request=request,
        )
        raise PermissionDenied(
            _("Only the owner and practitioners on the patient's care team set the measures.")
        )
    errors: dict[str, str] = {}
    region_instrument = (region_instrument or "").strip()
    if region_instrument not in ("", *REGION_INSTRUMENTS):
        errors["region_instrument"] = _("Choose one of the body-region questionnaires, or none.")
    activities = _clean_activities(psfs_activities, errors)
    if every_visits is None:
        from imsclinic.clinic.models import Clinic

        clinic = Clinic.current()
        every_visits = clinic.measures_every_visits if clinic is not None else 3
    if (
        isinstance(every_visits, bool)
        or not isinstance(every_visits, int)
        or not 1 <= every_visits <= EVERY_VISITS_MAX
    ):
        errors["every_visits"] = _("Choose a number of visits from 1 to %(max)d.") % {
            "max": EVERY_VISITS_MAX
        }
    if assessment is not None and assessment.patient_id != patient.pk:
        errors["assessment"] = _("That assessment is not this patient's.")
    if errors:
        raise OutcomeRefused(errors=errors)
    with transaction.atomic(durable=True):
        plan = MeasurePlan.objects.create(
            patient=patient,
            assessment=assessment,
            region_instrument=region_instrument,
            psfs_activities=activities,
            every_visits=every_visits,
            set_by=actor,
            set_at=now,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.MEASURE_PLAN,
            object_id=plan.pk,
            patient=patient,
            request=request,
            detail={
                "region_instrument": region_instrument,
                "activities": len(activities),
                "every_visits": every_visits,
            },
        )
    return plan


def plan_activities_set(
    *,
    patient: Patient,
    psfs_activities: Sequence[str],
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> MeasurePlan:
    """Add the PSFS activities the patient named to a plan that has none (a new plan row)."""
    from imsclinic.outcomes.selectors import current_plan

    now = now or timezone.now()
    if actor is None or not actor.has_perm("outcomes.record_result", patient):
        record_refusal(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.MEASURE_PLAN,
            patient=patient,
            request=request,
        )
        raise PermissionDenied(_("You may not name activities for this patient."))
    errors: dict[str, str] = {}
    activities = _clean_activities(psfs_activities, errors)
    if not activities and not errors:
        errors["psfs_activities"] = _("Name %(low)d to %(high)d activities.") % {
            "low": PSFS_MIN_ACTIVITIES,
            "high": PSFS_MAX_ACTIVITIES,
        }
    if errors:
        raise OutcomeRefused(errors=errors)
    with transaction.atomic():
        Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()
        plan = current_plan(patient)
        if plan is not None and plan.psfs_activities:
            raise OutcomeRefused(
                errors={"psfs_activities": _("The activities are already set for this course.")}
            )
        every_visits = plan.every_visits if plan is not None else None
        if every_visits is None:
            from imsclinic.clinic.models import Clinic

            clinic = Clinic.current()
            every_visits = clinic.measures_every_visits if clinic is not None else 3
        created = MeasurePlan.objects.create(
            patient=patient,
            assessment_id=plan.assessment_id if plan is not None else None,
            region_instrument=plan.region_instrument if plan is not None else "",
            psfs_activities=activities,
            every_visits=every_visits,
            set_by=actor,
            set_at=now,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.MEASURE_PLAN,
            object_id=created.pk,
            patient=patient,
            request=request,
            detail={"activities": len(activities), "activities_only": True},
        )
    return created


def instrument_text_load(
    *,
    data: Any,
    actor: User | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Any:
    """Store a clinic's licensed wording of one questionnaire once it fits the instrument.

    ``data`` is a parsed wording file (see docs/OUTCOMES.md); bad files raise
    ``errors.WordingInvalid``. ``actor`` is None when an operator runs the command
    without naming themselves; a named actor must be allowed to configure the clinic.
    """
    from imsclinic.outcomes.instruments import check_wording
    from imsclinic.outcomes.models import InstrumentText

    if actor is not None and not actor.has_perm("clinic.configure"):
        record_refusal(
            request,
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.INSTRUMENT_TEXT,
        )
        raise PermissionDenied(_("Only the owner loads questionnaire wording."))
    if not isinstance(data, dict):
        raise WordingInvalid("The file must hold one JSON object.")
    code = data.get("instrument")
    if code not in scoring.INSTRUMENTS:
        raise WordingInvalid(f"Unknown instrument {code!r}.")
    items = check_wording(code, data)
    licence = str(data.get("licence") or "").strip()[:LICENCE_MAX_LENGTH]
    with transaction.atomic(durable=True):
        text = InstrumentText.objects.create(
            instrument=code,
            version=str(data["version"]),
            items=items,
            licence=licence,
            loaded_at=now or timezone.now(),
            loaded_by=actor,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.INSTRUMENT_TEXT,
            object_id=text.pk,
            request=request,
            detail={"instrument": code, "version": text.version, "items": len(items)},
        )
    return text
