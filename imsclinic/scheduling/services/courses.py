"""Courses of weekly visits: planning every date at one wall time, and booking them in one go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Location, Practitioner, Service
from imsclinic.core.audit import audit_record
from imsclinic.core.errors import BookingError
from imsclinic.core.locking import retry_transient
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.models import Patient
from imsclinic.scheduling.availability import (
    AvailabilityQuery,
    Busy,
    Slot,
    find_slots,
    slot_is_offered,
    wall_instant,
)
from imsclinic.scheduling.models import Appointment, Course, NoticeKind
from imsclinic.scheduling.selectors import availability_query, course_booked_at
from imsclinic.scheduling.services.booking import (
    SlotTaken,
    SlotUnavailable,
    check_first_visit,
    check_may_book,
    create_checked,
    lock_beds,
    lock_patient,
    lock_practitioners,
    notify_patient,
    overlap_refused_as_taken,
)

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

MAX_COURSE_SESSIONS = 52
# How many local days either side of a failed course date to look for other times.
COURSE_ALTERNATIVE_DAYS = 7
COURSE_ALTERNATIVES = 5


class CourseHasConflicts(BookingError):
    """Some dates of a course are not available and the caller did not ask to book the rest."""

    def __init__(self, plan: CoursePlan) -> None:
        super().__init__(
            _(
                "%(count)d of the %(total)d dates are not available. Book the others, "
                "or choose another time."
            )
            % {"count": len(plan.conflicts), "total": len(plan.occurrences)}
        )
        self.plan = plan


@dataclass(frozen=True)
class CourseOccurrence:
    """One weekly date of a planned course and whether it can be booked."""

    index: int  # 0 for the first session
    start: dt.datetime  # aware, in the location's zone
    available: bool
    reason: str  # why not, for the user; empty when available
    alternatives: list[Slot]  # the nearest free times when not available
    slot: Slot | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CoursePlan:
    occurrences: list[CourseOccurrence]

    @property
    def bookable(self) -> list[CourseOccurrence]:
        return [o for o in self.occurrences if o.available]

    @property
    def conflicts(self) -> list[CourseOccurrence]:
        return [o for o in self.occurrences if not o.available]


@dataclass(frozen=True)
class CourseResult:
    course: Course
    booked: list[Appointment]
    skipped: list[CourseOccurrence]


def _check_sessions(sessions: int) -> None:
    if not 1 <= sessions <= MAX_COURSE_SESSIONS:
        raise BookingError(
            _("A course has between 1 and %(max)d weekly sessions.") % {"max": MAX_COURSE_SESSIONS}
        )


def _with_busy(
    query: AvailabilityQuery, practitioner_id: int, slots: Sequence[Slot]
) -> AvailabilityQuery:
    """Return the query with these planned visits (and their buffers) counted as busy."""
    if not slots:
        return query
    occupied = dt.timedelta(minutes=query.service.duration_minutes + query.service.buffer_minutes)
    practitioner_busy = dict(query.practitioner_busy)
    room_busy = dict(query.room_busy)
    extra = tuple(Busy(slot.start, slot.start + occupied) for slot in slots)
    practitioner_busy[practitioner_id] = practitioner_busy.get(practitioner_id, ()) + extra
    for slot in slots:
        if slot.room_id is not None:
            interval = Busy(slot.start, slot.start + occupied)
            room_busy[slot.room_id] = (*room_busy.get(slot.room_id, ()), interval)
    return replace(query, practitioner_busy=practitioner_busy, room_busy=room_busy)


def course_plan(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    first_start: dt.datetime,
    sessions: int,
    now: dt.datetime | None = None,
) -> CoursePlan:
    """Check each weekly date of a course at the same local wall time; change nothing.

    Occurrence k falls k weeks after the first at the same wall time in the location's zone,
    so across a DST change its UTC time moves by the hour. A wall time the clocks skip that
    day is not available. Availability is read once for the whole span.
    """
    if first_start.tzinfo is None:
        raise ValueError("first_start must be an aware datetime")
    _check_sessions(sessions)
    now = now or timezone.now()
    zone = location.zone
    wall = first_start.astimezone(zone).replace(tzinfo=None)
    walls = [wall + dt.timedelta(weeks=k) for k in range(sessions)]
    today = now.astimezone(zone).date()
    span_first = max(walls[0].date() - dt.timedelta(days=COURSE_ALTERNATIVE_DAYS), today)
    span_last = walls[-1].date() + dt.timedelta(days=COURSE_ALTERNATIVE_DAYS)
    query = availability_query(
        service=service,
        start_date=span_first,
        days=max((span_last - span_first).days + 1, 1),
        practitioner=practitioner,
        location=location,
        now=now,
        patient=patient,
    )
    planned: list[Slot] = []
    found: list[tuple[dt.datetime, Slot | None, str]] = []
    for local in walls:
        start = local.replace(tzinfo=zone)
        if wall_instant(local, zone) is None:
            found.append((start, None, _("The clocks change that day: this time does not exist.")))
            continue
        # Earlier dates of this same course count as taken when checking later ones.
        slot = slot_is_offered(
            _with_busy(query, practitioner.pk, planned), practitioner.pk, location.pk, start
        )
        if slot is None:
            found.append((start, None, _("That time is not available.")))
        else:
            planned.append(slot)
            found.append((start, slot, ""))

    occurrences = []
    with_plan: AvailabilityQuery | None = None
    for index, (start, slot, reason) in enumerate(found):
        alternatives: list[Slot] = []
        if slot is None:
            with_plan = with_plan or _with_busy(query, practitioner.pk, planned)
            alternatives = _nearest(with_plan, start, today)
        occurrences.append(
            CourseOccurrence(
                index=index,
                start=start,
                available=slot is not None,
                reason=reason,
                alternatives=alternatives,
                slot=slot,
            )
        )
    return CoursePlan(occurrences=occurrences)


def _nearest(query: AvailabilityQuery, around: dt.datetime, today: dt.date) -> list[Slot]:
    """Return the free times closest to a failed course date, within a week either side."""
    middle = around.date()
    first = max(middle - dt.timedelta(days=COURSE_ALTERNATIVE_DAYS), today)
    last = middle + dt.timedelta(days=COURSE_ALTERNATIVE_DAYS)
    if last < first:
        return []
    slots = find_slots(replace(query, start_date=first, days=(last - first).days + 1))
    # Instants, not wall times: within one zone Python subtracts wall clocks.
    target = around.timestamp()
    slots.sort(key=lambda slot: (abs(slot.start.timestamp() - target), slot.start.timestamp()))
    return slots[:COURSE_ALTERNATIVES]


@retry_transient(conflict=SlotTaken)
def course_book(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    first_start: dt.datetime,
    sessions: int,
    actor: User | None,
    book_partial: bool,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> CourseResult:
    """Book a course of weekly visits in one go: all dates, or the free ones if asked.

    The plan is made again under the practitioner's lock; if the database still refuses one
    date (another practitioner took the bed), the whole course rolls back with SlotTaken.
    """
    if first_start.tzinfo is None:
        raise ValueError("first_start must be an aware datetime")
    _check_sessions(sessions)
    check_may_book(patient=patient, service=service, actor=actor)
    now = now or timezone.now()
    with overlap_refused_as_taken(), transaction.atomic():
        lock_practitioners(practitioner.pk)
        lock_patient(patient)
        plan = course_plan(
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            first_start=first_start,
            sessions=sessions,
            now=now,
        )
        # Later sessions follow the first, so the rule only bites before it.
        check_first_visit(patient, service, first_start)
        if plan.conflicts and not book_partial:
            raise CourseHasConflicts(plan)
        bookable = plan.bookable
        if not bookable:
            raise SlotUnavailable(_("None of the dates of this course is available."))
        # Every bed of the course at once, in pk order, before the first insert.
        lock_beds(*(o.slot.room_id for o in bookable if o.slot is not None))
        course = Course.objects.create(
            patient=patient,
            practitioner=practitioner,
            location=location,
            service=service,
            sessions_planned=sessions,
            created_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        booked = []
        for occurrence in bookable:
            assert occurrence.slot is not None  # every bookable occurrence has its slot
            booked.append(
                create_checked(
                    patient=patient,
                    practitioner=practitioner,
                    service=service,
                    location=location,
                    slot=occurrence.slot,
                    actor=actor,
                    request=request,
                    course=course,
                )
            )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.COURSE,
            object_id=course.pk,
            patient=patient,
            request=request,
            detail={
                "service": service.slug,
                "practitioner": practitioner.pk,
                "sessions": sessions,
                "appointments": [visit.pk for visit in booked],
                "skipped": [o.start.astimezone(dt.UTC).isoformat() for o in plan.conflicts],
            },
        )
        for visit in booked:
            notify_patient(visit, NoticeKind.CONFIRMATION)
    return CourseResult(course=course, booked=booked, skipped=plan.conflicts)


def course_book_once(
    *,
    patient: Patient,
    practitioner: Practitioner,
    service: Service,
    location: Location,
    first_start: dt.datetime,
    sessions: int,
    actor: User | None,
    book_partial: bool,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> CourseResult | None:
    """Book a course as `course_book` does, or return None if this course was booked already.

    The same form sent twice (a double click, a reload): the first request booked it.
    """
    if course_booked_at(
        patient=patient, practitioner=practitioner, service=service, start=first_start
    ):
        return None
    return course_book(
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        first_start=first_start,
        sessions=sessions,
        actor=actor,
        book_partial=book_partial,
        request=request,
        now=now,
    )
