"""A practitioner's private calendar feed: the signed address and the visits it carries.

The address holds a signed (practitioner id, feed version) pair. Raising the practitioner's
`calendar_feed_version` (see `services.feed.practitioner_feed_revoke`) makes every address
handed out before answer 404, so a leaked link can be shut off without touching anything else.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from imsclinic.clinic.models import Practitioner
from imsclinic.scheduling.models import ACTIVE_STATUSES, Appointment

FEED_SALT = "practitioner-feed"
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 90


def feed_token(practitioner: Practitioner) -> str:
    """Return the signed token naming this practitioner's current feed."""
    return signing.dumps([practitioner.pk, practitioner.calendar_feed_version], salt=FEED_SALT)


def feed_path(practitioner: Practitioner) -> str:
    """Return the feed's path (make it absolute with request.build_absolute_uri)."""
    return reverse("calendar_feed", kwargs={"token": feed_token(practitioner)})


def practitioner_for_feed_token(token: str) -> Practitioner | None:
    """Return the active practitioner a current token names, or None for any other token."""
    try:
        value = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, int) and not isinstance(part, bool) for part in value)
    ):
        return None
    practitioner_id, version = value
    return Practitioner.objects.filter(
        pk=practitioner_id, calendar_feed_version=version, is_active=True
    ).first()


def feed_appointments(
    practitioner: Practitioner, *, now: dt.datetime | None = None
) -> QuerySet[Appointment]:
    """Return the practitioner's active visits from 30 days back to 90 days ahead."""
    now = now or timezone.now()
    return (
        Appointment.objects.filter(
            practitioner=practitioner,
            status__in=ACTIVE_STATUSES,
            start__gte=now - dt.timedelta(days=FEED_DAYS_BACK),
            start__lt=now + dt.timedelta(days=FEED_DAYS_AHEAD),
        )
        .select_related("patient", "location", "service")
        .order_by("start", "pk")
    )
