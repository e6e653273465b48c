"""Reads of the audit log that the owner's page and its CSV export share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from imsclinic.core.models import AuditEvent


def _start_of_utc_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def audit_events(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    user: Any = None,
    patient_id: int | None = None,
    action: str = "",
    outcome: str = "",
) -> QuerySet[AuditEvent]:
    """Return audit rows matching the filters, newest first, with each row's patient loaded."""
    # The patient is fetched in one extra query, not joined: rows outlive the records they
    # name (there is no foreign key constraint), and a filter on patient_id would turn the
    # join into an inner one that silently drops rows about a patient no longer on file.
    # Who acted needs no lookup at all: the row keeps the email and role as they were.
    events = AuditEvent.objects.prefetch_related("patient").order_by("-id")
    if date_from is not None:
        events = events.filter(at__gte=_start_of_utc_day(date_from))
    if date_to is not None and date_to < dt.date.max:
        # Whole days: everything before midnight UTC at the end of the last day chosen.
        events = events.filter(at__lt=_start_of_utc_day(date_to + dt.timedelta(days=1)))
    if user is not None:
        events = events.filter(actor_id=user.pk)
    if patient_id is not None:
        events = events.filter(patient_id=patient_id)
    if action:
        events = events.filter(action=action)
    if outcome:
        events = events.filter(outcome=outcome)
    return events


def audit_events_for_form(cleaned: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Return audit rows for a validated AuditFilterForm's data."""
    return audit_events(
        date_from=cleaned.get("date_from"),
        date_to=cleaned.get("date_to"),
        user=cleaned.get("user"),
        patient_id=cleaned.get("patient"),
        action=cleaned.get("action") or "",
        outcome=cleaned.get("outcome") or "",
    )
