"""Every follow-up write: schedule a check-in, store the answers, raise and clear red flags.

- `checkin_schedule` runs inside `charting.services.session_sign`'s transaction: it creates
  the session's CheckIn (SCHEDULED) and, in that transaction, queues `tasks.send_checkin` to
  run `Clinic.checkin_hours` after the visit ended (at once if that is already past). A note
  signed after the answer window has closed gets its CheckIn SKIPPED ("late"): no email.
- `checkin_answer` stores the patient's answers (from the signed link, no sign-in). Any
  red-flag "yes" in the same transaction marks the check-in, creates the RedFlagAlert, opens
  an adverse-event draft on the chart, writes the audit rows and queues the task that emails
  the treating practitioner and every active owner once it commits (once, see tasks.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_date_text
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.queueing import queue_with_change
from imsclinic.followup.errors import CheckInRefused
from imsclinic.followup.models import SKIP_LATE, CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.followup.selectors import answer_hours
from imsclinic.safety.models import AdverseEventType

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

DEFAULT_CHECKIN_HOURS = 24


def checkin_hours() -> int:
    """Return how long after a visit ends its check-in is sent."""
    clinic = Clinic.current()
    return clinic.checkin_hours if clinic is not None else DEFAULT_CHECKIN_HOURS


def checkin_due_at(session: NeedlingSession) -> dt.datetime:
    """Return when a session's check-in is due: `checkin_hours` after its visit ended."""
    return session.appointment.end + dt.timedelta(hours=checkin_hours())


def new_checkin(session: NeedlingSession, **fields: Any) -> CheckIn:
    """Return an unsaved check-in for the session, with what it copies from the note."""
    return CheckIn(
        session=session,
        patient_id=session.patient_id,
        practitioner_id=session.practitioner_id,
        thoracic_precaution=session.thoracic_precaution,
        **{"due_at": checkin_due_at(session), **fields},
    )


def checkin_schedule(
    *,
    session: NeedlingSession,
    actor: User | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> CheckIn | None:
    """Create the signed session's check-in and queue its email for after the visit."""
    now = now or timezone.now()
    if session.status != NoteStatus.SIGNED:
        return None
    due_at = checkin_due_at(session)
    # A note signed after the whole answer window: "How are you after your visit?" days
    # later would be odd, so nothing is sent and the call list asks someone to phone.
    late = now > due_at + dt.timedelta(hours=answer_hours())
    try:
        with transaction.atomic():  # a savepoint: a second call leaves the first row alone
            checkin = new_checkin(
                session,
                due_at=due_at,
                created_at=now,
                status=CheckInStatus.SKIPPED if late else CheckInStatus.SCHEDULED,
                skip_reason=SKIP_LATE if late else "",
            )
            checkin.save()
    except IntegrityError:
        return CheckIn.objects.get(session=session)
    detail: dict[str, Any] = {"session": session.pk, "due_at": due_at.isoformat()}
    if late:
        detail["skipped"] = SKIP_LATE
    audit_record(
        actor=actor if actor is not None else session.signed_by,
        action=Action.CREATE,
        object_type=ObjectType.FOLLOWUP_CHECKIN,
        object_id=checkin.pk,
        patient_id=session.patient_id,
        request=request,
        detail=detail,
    )
    if late:
        return checkin
    session_id = session.pk
    run_after = max(due_at, now)

    def enqueue() -> None:
        from imsclinic.followup.tasks import send_checkin

        send_checkin.using(run_after=run_after).enqueue(session_id)

    # The task row commits with the signed note (see queue_with_change).
    queue_with_change(enqueue)
    return checkin


@dataclass(frozen=True)
class CheckInAnswers:
    """What the patient answered; None for a red-flag question means not answered."""

    soreness: int | None
    bruising: bool | None
    breathless_or_chest_pain: bool | None
    site_infection_signs: bool | None
    site_swelling_or_pus: bool | None
    numbness_or_weakness: bool | None
    fainted: bool | None
    other_symptoms: str = ""
    notes: str = ""


ANSWER_FIELDS = (
    "soreness",
    "bruising",
    "breathless_or_chest_pain",
    "site_infection_signs",
    "site_swelling_or_pus",
    "numbness_or_weakness",
    "fainted",
    "other_symptoms",
    "notes",
)
RED_FLAG_TYPES = (
    # First match wins: the most dangerous reading of the answers names the draft's type.
    ("breathless_or_chest_pain", AdverseEventType.PNEUMOTHORAX),
    ("site_infection_signs", AdverseEventType.INFECTION),
    ("site_swelling_or_pus", AdverseEventType.INFECTION),
    ("numbness_or_weakness", AdverseEventType.NERVE_INJURY),
    ("fainted", AdverseEventType.FAINTING),
)


def _yes_no(value: bool | None) -> str:
    if value is None:
        return _("not answered")
    return _("yes") if value else _("no")


def answers_text(checkin: CheckIn) -> str:
    """Return the answers in plain words, for the adverse-event draft's description."""
    lines = [
        _("Follow-up check-in after the visit on %(day)s, answered %(when)s.")
        % {
            "day": clinic_date_text(checkin.session.appointment.start),
            "when": clinic_date_text(checkin.answered_at or timezone.now()),
        },
        _("Soreness: %(value)s/10.") % {"value": checkin.soreness},
        _("Bruising: %(value)s.") % {"value": _yes_no(checkin.bruising)},
        _("Breathlessness or chest pain: %(value)s.")
        % {"value": _yes_no(checkin.breathless_or_chest_pain)},
        _("Fever, spreading redness or heat: %(value)s.")
        % {"value": _yes_no(checkin.site_infection_signs)},
        _("Swelling or pus at a needle site: %(value)s.")
        % {"value": _yes_no(checkin.site_swelling_or_pus)},
        _("New numbness or weakness: %(value)s.")
        % {"value": _yes_no(checkin.numbness_or_weakness)},
        _("Fainting: %(value)s.") % {"value": _yes_no(checkin.fainted)},
    ]
    if checkin.other_symptoms:
        lines.append(_("Other symptoms: %(text)s") % {"text": checkin.other_symptoms})
    if checkin.notes:
        lines.append(_("Notes: %(text)s") % {"text": checkin.notes})
    return "\n".join(lines)


def checkin_answer(
    *,
    checkin: CheckIn,
    answers: CheckInAnswers,
    actor: User | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> CheckIn:
    """Store the patient's answers once; a red-flag yes raises the alert and an AE draft."""
    from imsclinic.safety.services import adverse_event_draft_open

    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = (
            CheckIn.objects.select_for_update(of=("self",), no_key=True)
            .select_related("session__appointment", "patient")
            .get(pk=checkin.pk)
        )
        if locked.status == CheckInStatus.ANSWERED:
            raise CheckInRefused(_("Thank you, we already have your answers."))
        if locked.status != CheckInStatus.SENT:
            raise CheckInRefused(_("This check-in is not open for answers."))
        locked.soreness = answers.soreness
        locked.bruising = answers.bruising
        locked.breathless_or_chest_pain = answers.breathless_or_chest_pain
        locked.site_infection_signs = answers.site_infection_signs
        locked.site_swelling_or_pus = answers.site_swelling_or_pus
        locked.numbness_or_weakness = answers.numbness_or_weakness
        locked.fainted = answers.fainted
        locked.other_symptoms = answers.other_symptoms.strip()
        locked.notes = answers.notes.strip()
        locked.red_flag = bool(locked.red_flags)
        locked.status = CheckInStatus.ANSWERED
        locked.answered_at = now
        locked.save(update_fields=[*ANSWER_FIELDS, "red_flag", "status", "answered_at"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.FOLLOWUP_CHECKIN,
            object_id=locked.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={"answered": True, "red_flags": locked.red_flags},
        )
        if locked.red_flag:
            event_type = next(kind for name, kind in RED_FLAG_TYPES if getattr(locked, name))
            draft = adverse_event_draft_open(
                patient=locked.patient,
                session=locked.session,
                event_type=event_type,
                onset=now,
                description=answers_text(locked),
                practitioner=locked.practitioner,
                actor=actor,
                request=request,
                now=now,
            )
            alert = RedFlagAlert.objects.create(
                checkin=locked,
                patient_id=locked.patient_id,
                practitioner_id=locked.practitioner_id,
                adverse_event=draft,
                created_at=now,
            )
            audit_record(
                actor=actor,
                action=Action.CREATE,
                object_type=ObjectType.FOLLOWUP_ALERT,
                object_id=alert.pk,
                patient_id=locked.patient_id,
                request=request,
                detail={"checkin": locked.pk, "adverse_event": draft.pk},
            )
            alert_id = alert.pk

            def enqueue() -> None:
                from imsclinic.followup.tasks import alert_care_team

                alert_care_team.enqueue(alert_id)

            # The task row commits with the alert, which also shows as a banner.
            queue_with_change(enqueue)
    return locked


def alert_acknowledge(
    *,
    alert: RedFlagAlert,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> RedFlagAlert:
    """Mark a red flag as reviewed by the treating team or an owner; its banner goes."""
    if actor is None or not actor.has_perm("followup.acknowledge_alert", alert.patient):
        record_refusal(
            request,
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.FOLLOWUP_ALERT,
            object_id=alert.pk,
            patient_id=alert.patient_id,
        )
        raise PermissionDenied(
            _("Only the owner and practitioners on the patient's care team acknowledge alerts.")
        )
    with transaction.atomic(durable=True):
        locked = RedFlagAlert.objects.select_for_update(no_key=True).get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            raise CheckInRefused(_("This alert was already acknowledged."))
        locked.acknowledged_at = now or timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.FOLLOWUP_ALERT,
            object_id=locked.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={"acknowledged": True},
        )
    return locked


def checkin_phoned(
    *,
    checkin: CheckIn,
    actor: User | None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> CheckIn:
    """Note that someone phoned a patient whose check-in went unanswered."""
    if actor is None or not actor.has_perm("followup.view_list"):
        record_refusal(
            request,
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.FOLLOWUP_CHECKIN,
            object_id=checkin.pk,
            patient_id=checkin.patient_id,
        )
        raise PermissionDenied(_("Only clinic staff note calls."))
    with transaction.atomic(durable=True):
        locked = CheckIn.objects.select_for_update(no_key=True).get(pk=checkin.pk)
        if locked.phoned_at is None:
            locked.phoned_at = now or timezone.now()
            locked.phoned_by = actor
            locked.save(update_fields=["phoned_at", "phoned_by"])
            audit_record(
                actor=actor,
                action=Action.UPDATE,
                object_type=ObjectType.FOLLOWUP_CHECKIN,
                object_id=locked.pk,
                patient_id=locked.patient_id,
                request=request,
                detail={"phoned": True},
            )
    return locked
