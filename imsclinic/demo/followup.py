"""Demo follow-up for seed_demo: what became of the check-ins of the demo physio's notes.

Signing each demo note scheduled its check-in (followup's receiver of `note_signed`). Here
they are sent when they were due and answered: the latest reported a red flag (an open
alert with an adverse-event draft, on the demo physio's banner), the one before went
unanswered (on the front desk's list), and every earlier one was answered calmly. Answers go
through `checkin_answer` (which raises the alert, opens the draft and queues the care
team's email), each dated when it happened. Idempotent: nothing changes once the physio has
a check-in that was sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from imsclinic.charting.models import NeedlingSession, NoteStatus
from imsclinic.followup.models import CheckIn, CheckInStatus
from imsclinic.followup.services import CheckInAnswers, checkin_answer


def _sent(session: NeedlingSession) -> CheckIn:
    """Mark the signed note's check-in sent when it was due."""
    checkin = CheckIn.objects.get(session=session)
    # What the worker's send_checkin does, dated when it was due: it stamps the time it runs
    # and emails the patient, and the demo's check-ins went out days or weeks ago. The
    # worker's queued task then finds it sent and sends nothing.
    CheckIn.objects.filter(pk=checkin.pk).update(status=CheckInStatus.SENT, sent_at=checkin.due_at)
    checkin.refresh_from_db()
    return checkin


def _answered(session: NeedlingSession, answers: CheckInAnswers) -> CheckIn:
    checkin = _sent(session)
    return checkin_answer(
        checkin=checkin, answers=answers, now=checkin.due_at + dt.timedelta(hours=3)
    )


def _calm(index: int) -> CheckInAnswers:
    return CheckInAnswers(
        soreness=2 + index % 3,
        bruising=index % 4 == 0,
        breathless_or_chest_pain=False,
        site_infection_signs=False,
        site_swelling_or_pus=False,
        numbness_or_weakness=False,
        fainted=False,
        notes="Sore for a day, then much easier. (demo)" if index % 2 == 0 else "",
    )


def seed_followup(*, physio: Any) -> dict[str, int]:
    """Send and answer the demo physio's check-ins: one red flag, one unanswered; idempotent."""
    made = {"follow-up check-ins": 0, "follow-up red flags": 0}
    checkins = CheckIn.objects.filter(practitioner=physio)
    if physio is None or checkins.exclude(status=CheckInStatus.SCHEDULED).exists():
        return made
    sessions = list(
        NeedlingSession.objects.filter(
            practitioner=physio,
            status=NoteStatus.SIGNED,
            checkin__status=CheckInStatus.SCHEDULED,
        )
        .select_related("appointment", "patient")
        .order_by("-appointment__start")
    )
    if len(sessions) < 3:
        return made
    flagged, unanswered, *calm = sessions
    for index, session in enumerate(reversed(calm)):
        _answered(session, _calm(index))
    _sent(unanswered)
    _answered(
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
    made["follow-up check-ins"] = len(sessions)
    made["follow-up red flags"] = 1
    return made
