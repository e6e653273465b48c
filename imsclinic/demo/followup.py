"""Demo follow-up for seed_demo: three check-ins after the demo physio's signed sessions.

The latest session's check-in reported a red flag (an open alert with an adverse-event
draft, on the demo physio's banner), the one before went unanswered for days (on the front
desk's list), and the one before that was answered calmly. Each check-in is scheduled by
`checkin_schedule` as its note was signed and answered through `checkin_answer` (which
raises the alert, opens the draft and queues the care team's email), each dated when it
happened. Idempotent: nothing is made if the physio has check-ins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.followup.models import CheckIn, CheckInStatus
from imsclinic.followup.services import CheckInAnswers, checkin_answer, checkin_schedule


def _sent(session: NeedlingSession, physio: Any) -> CheckIn:
    """Schedule the signed note's check-in, then mark it sent when it was due."""
    assert session.signed_at is not None
    checkin = checkin_schedule(session=session, actor=physio, now=session.signed_at)
    assert checkin is not None
    # What the worker's send_checkin does, dated when it was due: it stamps the time it runs
    # and emails the patient, and the demo's past check-in went out weeks ago.
    CheckIn.objects.filter(pk=checkin.pk).update(status=CheckInStatus.SENT, sent_at=checkin.due_at)
    checkin.refresh_from_db()
    return checkin


def _answered(session: NeedlingSession, physio: Any, answers: CheckInAnswers) -> CheckIn:
    checkin = _sent(session, physio)
    return checkin_answer(
        checkin=checkin, answers=answers, now=checkin.due_at + dt.timedelta(hours=3)
    )


def seed_followup(*, physio: Any) -> dict[str, int]:
    """Give the demo physio an answered, an unanswered and a red-flag check-in; idempotent."""
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
        physio,
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
    _sent(unanswered, physio)
    _answered(
        flagged,
        physio,
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
    made["follow-up check-ins"] = 3
    made["follow-up red flags"] = 1
    return made
