"""Reads of follow-up check-ins and red-flag alerts that pages, reports and the banner share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import (
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.utils import timezone

from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.permissions import is_owner, is_practitioner
from imsclinic.followup.models import CALL_SKIP_REASONS, CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.patients.access import patients_visible_to

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

DEFAULT_ANSWER_HOURS = 48
# A check-in still SCHEDULED this long after it was due did not go out: call instead.
RETRY_GRACE = dt.timedelta(minutes=15)
RECENT = dt.timedelta(days=7)
# The call list keeps a row this long after someone noted they phoned ...
CALL_KEEP_PHONED = dt.timedelta(days=7)
# ... and forgets a session this old, phoned or not: a call now is no longer follow-up.
CALL_MAX_SESSION_AGE = dt.timedelta(days=21)


def answer_hours() -> int:
    """Return how long a sent check-in may stay unanswered before someone phones."""
    clinic = Clinic.current()
    return clinic.checkin_answer_hours if clinic is not None else DEFAULT_ANSWER_HOURS


@dataclass(frozen=True)
class FollowupStats:
    sent: int
    answered: int
    answered_in_time: int  # within the clinic's checkin_answer_hours of sending
    red_flags: int
    soreness_reported: int  # answered with soreness above 0
    bruising_reported: int  # answered yes to bruising
    bruising_answered: int  # answered the (optional) bruising question at all: the denominator

    @property
    def response_rate(self) -> float | None:
        """Return answered / sent, or None when nothing was sent."""
        return self.answered / self.sent if self.sent else None


def followup_stats(*, since: dt.date | None = None, until: dt.date | None = None) -> FollowupStats:
    """Count check-ins sent and answered in a period (by visit date, clinic zone, inclusive)."""
    zone = clinic_zone()
    checkins = CheckIn.objects.filter(sent_at__isnull=False)
    if since is not None:
        start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
        checkins = checkins.filter(session__appointment__start__gte=start)
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        checkins = checkins.filter(session__appointment__start__lt=end)
    window = dt.timedelta(hours=answer_hours())
    answered = Q(status=CheckInStatus.ANSWERED)
    counts = checkins.annotate(
        delay=ExpressionWrapper(F("answered_at") - F("sent_at"), output_field=DurationField())
    ).aggregate(
        sent=Count("pk"),
        answered=Count("pk", filter=answered),
        answered_in_time=Count("pk", filter=answered & Q(delay__lte=window)),
        red_flags=Count("pk", filter=answered & Q(red_flag=True)),
        soreness_reported=Count("pk", filter=answered & Q(soreness__gt=0)),
        bruising_reported=Count("pk", filter=answered & Q(bruising=True)),
        bruising_answered=Count("pk", filter=answered & Q(bruising__isnull=False)),
    )
    return FollowupStats(**counts)


def open_alerts_for(user: User) -> QuerySet[RedFlagAlert]:
    """Return the unacknowledged red flags this user is shown: owners all, practitioners theirs."""
    alerts = RedFlagAlert.objects.filter(acknowledged_at__isnull=True)
    if is_owner(user):
        pass
    elif is_practitioner(user):
        alerts = alerts.filter(practitioner_id=user.pk)
    else:
        return alerts.none()
    return alerts.select_related("patient", "checkin__session__appointment").order_by(
        "created_at", "pk"
    )


def _for_user(checkins: QuerySet[CheckIn], user: User | None) -> QuerySet[CheckIn]:
    """Keep the check-ins of patients whose record this user may open (all: no user given)."""
    if user is None:
        return checkins
    return checkins.filter(patient_id__in=patients_visible_to(user).values("pk"))


def unanswered_checkins(
    now: dt.datetime | None = None, *, user: User | None = None
) -> QuerySet[CheckIn]:
    """Return the check-ins someone should phone about: not yet phoned first, oldest due first.

    Sent more than checkin_answer_hours ago and not answered; never sent because the patient
    has no email address or the note was signed too late, once due; or still not sent
    (sending raised, the worker is down) RETRY_GRACE after it was due. A row marked phoned
    more than CALL_KEEP_PHONED ago, or whose session is older than CALL_MAX_SESSION_AGE,
    drops off. Only the patients `user` may see: front desk and owners all, a practitioner
    their care team's.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=answer_hours())
    stuck = now - RETRY_GRACE
    checkins = CheckIn.objects.filter(
        Q(status=CheckInStatus.SENT, sent_at__lte=cutoff)
        | Q(status=CheckInStatus.SKIPPED, skip_reason__in=CALL_SKIP_REASONS, due_at__lte=now)
        | Q(status=CheckInStatus.SCHEDULED, due_at__lte=stuck, created_at__lte=stuck)
    ).filter(
        Q(phoned_at__isnull=True) | Q(phoned_at__gte=now - CALL_KEEP_PHONED),
        session__appointment__start__gte=now - CALL_MAX_SESSION_AGE,
    )
    return (
        _for_user(checkins, user)
        .select_related("patient", "practitioner", "session__appointment", "phoned_by")
        .annotate(phoned=ExpressionWrapper(Q(phoned_at__isnull=False), output_field=BooleanField()))
        .order_by("phoned", "due_at", "pk")
    )


def recently_answered(user: User, now: dt.datetime | None = None) -> QuerySet[CheckIn]:
    """Return the check-ins answered in the last 7 days for this clinician's patients."""
    if not (is_owner(user) or is_practitioner(user)):
        return CheckIn.objects.none()
    since = (now or timezone.now()) - RECENT
    checkins = CheckIn.objects.filter(status=CheckInStatus.ANSWERED, answered_at__gte=since)
    return (
        _for_user(checkins, user)
        .select_related("patient", "session__appointment")
        .order_by("-answered_at", "-pk")
    )


def checkins_by_session(patient_id: int) -> dict[int, CheckIn]:
    """Return the patient's check-ins keyed by needling session id (one query)."""
    return {
        checkin.session_id: checkin for checkin in CheckIn.objects.filter(patient_id=patient_id)
    }
