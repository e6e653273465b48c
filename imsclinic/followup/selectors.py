"""Reads of follow-up check-ins and red-flag alerts that pages, reports and the banner share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.permissions import is_owner, is_practitioner
from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert

DEFAULT_ANSWER_HOURS = 48


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
    bruising_reported: int

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
    )
    return FollowupStats(**counts)


def open_alerts_for(user: Any) -> QuerySet[RedFlagAlert]:
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


def unanswered_checkins(now: dt.datetime | None = None) -> QuerySet[CheckIn]:
    """Return check-ins sent more than checkin_answer_hours ago and still not answered."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=answer_hours())
    return (
        CheckIn.objects.filter(status=CheckInStatus.SENT, sent_at__lte=cutoff)
        .select_related("patient", "practitioner", "session__appointment", "phoned_by")
        .order_by("sent_at", "pk")
    )
