"""Demo follow-up for seed_demo: three check-ins after the demo physio's signed sessions.

The latest session's check-in reported a red flag (an open alert with an adverse-event
draft, on the demo physio's banner), the one before went unanswered for days (on the front
desk's list), and the one before that was answered calmly. Rows are written directly: no
email is sent and no task queued. Idempotent: nothing is made if the physio has check-ins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.followup.services import (
    CheckInAnswers,
    answers_text,
    checkin_due_at,
    new_checkin,
)


def _checkin(session: NeedlingSession, **fields: Any) -> CheckIn:
    due = checkin_due_at(session)
    checkin = new_checkin(session, sent_at=due, created_at=session.appointment.end, **fields)
    checkin.save()
    return checkin


def _answered(session: NeedlingSession, answers: CheckInAnswers) -> CheckIn:
    due = checkin_due_at(session)
    return _checkin(
        session,
        status=CheckInStatus.ANSWERED,
        answered_at=due + dt.timedelta(hours=3),
        soreness=answers.soreness,
        bruising=answers.bruising,
        breathless_or_chest_pain=answers.breathless_or_chest_pain,
        site_infection_signs=answers.site_infection_signs,
        site_swelling_or_pus=answers.site_swelling_or_pus,
        numbness_or_weakness=answers.numbness_or_weakness,
        fainted=answers.fainted,
        other_symptoms=answers.other_symptoms,
        notes=answers.notes,
    )


def seed_followup(*, physio: Any) -> dict[str, int]:
    """Give the demo physio an answered, an unanswered and a red-flag check-in; idempotent."""
    from imsclinic.safety.models import AdverseEvent, AdverseEventType, EventStatus

    made = {"follow-up check-ins": 0, "follow-up red flags": 0}
    if physio is None or CheckIn.objects.filter(practitioner=physio).exists():
        return made
    sessions = list(
        NeedlingSession.objects.filter(
            practitioner=physio, status=NoteStatus.SIGNED, checkin__isnull=True
        )
        .select_related("appointment", "patient")
        .order_by("-appointment__start")[:3]
    )
    if len(sessions) < 3:
        return made
    flagged, unanswered, calm = sessions

    _answered(
        calm,
        CheckInAnswers(
            soreness=3,
            bruising=True,
            breathless_or_chest_pain=False,
            site_infection_signs=False,
            site_swelling_or_pus=False,
            numbness_or_weakness=False,
            fainted=False,
            notes="Sore for a day, then much easier. (demo)",
        ),
    )
    _checkin(unanswered, status=CheckInStatus.SENT)

    flagged_checkin = _answered(
        flagged,
        CheckInAnswers(
            soreness=6,
            bruising=False,
            breathless_or_chest_pain=False,
            site_infection_signs=True,
            site_swelling_or_pus=True,
            numbness_or_weakness=False,
            fainted=False,
            other_symptoms="Red, warm patch around one needle site. (demo)",
        ),
    )
    flagged_checkin.red_flag = True
    flagged_checkin.save(update_fields=["red_flag"])
    assert flagged_checkin.answered_at is not None
    # Written directly, as the rest of the demo: no audit row, since no person did this.
    draft = AdverseEvent.objects.create(
        patient=flagged.patient,
        session=flagged,
        event_type=AdverseEventType.INFECTION,
        status=EventStatus.DRAFT,
        severity="",
        onset=flagged_checkin.answered_at,
        description=answers_text(flagged_checkin),
        action_taken="",
        recorded_by=physio,
        recorded_at=flagged_checkin.answered_at,
    )
    RedFlagAlert.objects.create(
        checkin=flagged_checkin,
        patient_id=flagged.patient_id,
        practitioner=physio,
        adverse_event=draft,
        created_at=flagged_checkin.answered_at,
        emailed_at=flagged_checkin.answered_at,
    )
    made["follow-up check-ins"] = 3
    made["follow-up red flags"] = 1
    return made
