"""Booking pages: the slot picker shared by the patient portal and the front desk.

The portal (`imsclinic.portal.views`) and the staff pages at the end of this module are thin
views over the same pieces: `picker_context` builds the picker's steps (service, practitioner
and location, a week of days, the times of one day), `SlotForm` reads a chosen time back,
and one set of templates (`scheduling/book_*.html`) shows them. Every step is a plain GET
link or form; htmx only swaps the picker in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from imsclinic.clinic.models import Clinic, Location, Practitioner, Service
from imsclinic.core.params import id_param
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user
from imsclinic.safety.errors import OnlineImsBookingStopped
from imsclinic.safety.selectors import online_ims_refusal
from imsclinic.scheduling.availability import Slot
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.selectors import available_slots, nearest_alternatives
from imsclinic.scheduling.services import (
    BookingError,
    CourseHasConflicts,
    FirstVisitMustBeAssessment,
    PatientBusy,
    SlotUnavailable,
    appointment_book,
    course_book,
    course_plan,
    has_had_ims_visit,
    needs_assessment_first,
)

WEEK = 7
ALTERNATIVES = 5
PATIENT_COURSE_WEEKS = range(2, 13)
STAFF_COURSE_WEEKS = range(2, 53)
DEFAULT_COURSE_WEEKS = 6


# ---------------------------------------------------------------------------------------------
# Showing times: always in the location's zone, with the zone's name at that instant.


def time_label(moment: dt.datetime, zone: ZoneInfo) -> str:
    """Return a time as people read it where the visit is, e.g. "9:15 AM PST"."""
    # The abbreviation is taken at the instant itself (fold included), so on a DST change
    # day a 1:30 AM before the change reads PDT and the one after reads PST. Django's "T"
    # format would print nothing for such a repeated wall time.
    local = moment.astimezone(zone)
    return f"{dateformat.format(local, 'g:i A')} {local.tzname() or zone.key}"


def day_label(moment: dt.datetime | dt.date, zone: ZoneInfo | None = None) -> str:
    """Return a day as "Monday 30 November"; datetimes are read in the given zone."""
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(zone).date() if zone is not None else moment.date()
    return dateformat.format(moment, "l j F")


def when_label(moment: dt.datetime, zone: ZoneInfo) -> str:
    """Return a visit's day and time, e.g. "Monday 30 November 2026, 9:15 AM PST"."""
    local = moment.astimezone(zone)
    return f"{dateformat.format(local, 'l j F Y')}, {time_label(local, zone)}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def parse_start(text: str) -> dt.datetime | None:
    """Read a start time sent back by the picker; None unless it is an aware ISO time."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    try:
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def _parse_day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _parse_id(text: str | None) -> int | None:
    return id_param(text)


# ---------------------------------------------------------------------------------------------
# Who may be booked for what.


def services_for(*, staff: bool) -> QuerySet[Service]:
    """Return the services this kind of user may book: patients only those bookable online."""
    services = Service.objects.filter(is_active=True).order_by("order", "name", "pk")
    return services if staff else services.filter(bookable_online=True)


def open_locations() -> list[Location]:
    return list(Location.objects.filter(is_active=True).select_related("clinic"))


def practitioners_for(
    service: Service, location: Location | None, *, today: dt.date
) -> list[Practitioner]:
    """Return who can give this service (at this location), IMS credential current if needed."""
    people = Practitioner.objects.filter(is_active=True, locations__is_active=True)
    if location is not None:
        people = people.filter(locations=location)
    found = list(people.distinct().order_by("order", "last_name", "first_name", "pk"))
    return [p for p in found if p.gives(service, today)]


def first_ims_visit_pending(patient: Patient) -> bool:
    """Say whether this patient has had no IMS visit yet, so only the assessment is open."""
    return not has_had_ims_visit(patient)


def assessment_service(services: Iterable[Service]) -> Service | None:
    return next((s for s in services if s.requires_ims_credential and s.for_new_patients), None)


# ---------------------------------------------------------------------------------------------
# The picker.


@dataclass(frozen=True)
class Flow:
    """Where one booking journey's steps live: the picker, and where a chosen time goes."""

    patient: Patient
    picker_url: str
    next_url: str  # the confirm page, or the course plan, or the reschedule confirm page
    for_staff: bool = False
    course_mode: bool = False
    fixed_service: Service | None = None  # rescheduling keeps the service
    moving: Appointment | None = None  # the visit being moved: its own time stays offered
    extra: dict[str, str] = field(default_factory=dict)  # carried on every link


@dataclass(frozen=True)
class SlotChoice:
    """A bookable time as the page shows it, with the link that takes it."""

    start: dt.datetime
    label: str
    day_label: str
    practitioner: Practitioner | None
    location: Location | None
    url: str


@dataclass(frozen=True)
class DayChoice:
    day: dt.date
    label: str
    count: int
    selected: bool
    url: str


@dataclass
class Picked:
    """What the person has chosen so far."""

    service: Service | None = None
    practitioner: Practitioner | None = None
    location: Location | None = None
    week: dt.date | None = None
    day: dt.date | None = None
    sessions: int = DEFAULT_COURSE_WEEKS

    def params(self, flow: Flow, **changes: Any) -> dict[str, str]:
        values: dict[str, Any] = {
            "service": self.service.slug if self.service else None,
            "practitioner": self.practitioner.pk if self.practitioner else None,
            "location": self.location.pk if self.location else None,
            "week": self.week.isoformat() if self.week else None,
            "day": self.day.isoformat() if self.day else None,
        }
        if flow.course_mode:
            values["sessions"] = self.sessions
        values.update(changes)
        params = {**flow.extra}
        params.update({key: str(value) for key, value in values.items() if value is not None})
        return params


def _url(base: str, params: dict[str, str]) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def read_picked(
    data: Any,
    *,
    flow: Flow,
    services: Sequence[Service],
    locations: Sequence[Location],
    today: dt.date,
) -> Picked:
    """Read the picker's GET parameters; anything unknown or not allowed is left unchosen."""
    picked = Picked()
    slug = data.get("service", "")
    picked.service = flow.fixed_service or next((s for s in services if s.slug == slug), None)
    location_id = _parse_id(data.get("location"))
    picked.location = next((loc for loc in locations if loc.pk == location_id), None)
    if picked.location is None and len(locations) == 1:
        picked.location = locations[0]
    if picked.service is not None:
        practitioner_id = _parse_id(data.get("practitioner"))
        if practitioner_id is not None:
            allowed = practitioners_for(picked.service, picked.location, today=today)
            picked.practitioner = next((p for p in allowed if p.pk == practitioner_id), None)
    sessions = _parse_id(data.get("sessions"))
    weeks = STAFF_COURSE_WEEKS if flow.for_staff else PATIENT_COURSE_WEEKS
    if sessions is not None and sessions in weeks:
        picked.sessions = sessions
    picked.week = _parse_day(data.get("week"))
    picked.day = _parse_day(data.get("day"))
    return picked


def _zone(picked: Picked, locations: Sequence[Location]) -> ZoneInfo:
    if picked.location is not None:
        return picked.location.zone
    return locations[0].zone if locations else ZoneInfo("UTC")


def slot_choices(
    slots: Iterable[Slot],
    *,
    flow: Flow,
    picked: Picked,
    people: dict[int, Practitioner],
    places: dict[int, Location],
) -> list[SlotChoice]:
    """Turn slots into links to the next step; for "anyone", one entry per time and place."""
    seen: set[tuple[dt.datetime, int]] = set()
    choices = []
    for slot in slots:
        key = (slot.start.astimezone(dt.UTC), slot.location_id)
        if picked.practitioner is None and key in seen:
            continue
        seen.add(key)
        location = places.get(slot.location_id)
        zone = location.zone if location is not None else slot.start.tzinfo
        assert isinstance(zone, ZoneInfo)
        params = {
            **flow.extra,
            "service": picked.service.slug if picked.service else "",
            "practitioner": str(slot.practitioner_id),
            "location": str(slot.location_id),
            "start": _iso(slot.start),
        }
        if picked.practitioner is None:
            params["any"] = "1"
        if flow.course_mode:
            params["sessions"] = str(picked.sessions)
        choices.append(
            SlotChoice(
                start=slot.start,
                label=time_label(slot.start, zone),
                day_label=day_label(slot.start, zone),
                practitioner=people.get(slot.practitioner_id),
                location=location,
                url=_url(flow.next_url, params),
            )
        )
    return choices


def alternatives_for(
    *,
    flow: Flow,
    service: Service,
    practitioner: Practitioner | None,
    location: Location | None,
    around: dt.datetime,
) -> list[SlotChoice]:
    """Return the nearest free times to a lost one, as links to the same next step."""
    found = nearest_alternatives(
        service=service,
        practitioner=practitioner,
        location=location,
        around=around,
        limit=ALTERNATIVES,
        patient=flow.patient,
        except_visit=flow.moving.pk if flow.moving is not None else None,
    )
    picked = Picked(service=service, practitioner=practitioner, location=location)
    people = {
        p.pk: p for p in Practitioner.objects.filter(pk__in={s.practitioner_id for s in found})
    }
    places = {loc.pk: loc for loc in Location.objects.filter(pk__in={s.location_id for s in found})}
    return slot_choices(found, flow=flow, picked=picked, people=people, places=places)


def picker_context(
    data: Any,
    *,
    flow: Flow,
    alert: str = "",
    alternatives: Sequence[SlotChoice] = (),
    error: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Build every step of the picker from the GET parameters (or the values of a lost POST)."""
    now = now or timezone.now()
    services = list(services_for(staff=flow.for_staff))
    # Screening: when the patient's answers stop online IMS booking, IMS is not offered at
    # all and the page says why and whom to call, before any time is picked.
    ims_refusal = None if flow.for_staff else online_ims_refusal(flow.patient, at=now)
    if ims_refusal is not None:
        services = [s for s in services if not s.requires_ims_credential]
    locations = open_locations()
    zone_now = now.astimezone(locations[0].zone if locations else dt.UTC)
    picked = read_picked(
        data, flow=flow, services=services, locations=locations, today=zone_now.date()
    )
    zone = _zone(picked, locations)
    today = now.astimezone(zone).date()
    pending = first_ims_visit_pending(flow.patient)
    assessment = assessment_service(services)
    context: dict[str, Any] = {
        "flow": flow,
        "picked": picked,
        "services": services,
        "locations": locations,
        "needs_assessment": pending and assessment is not None,
        "assessment": assessment,
        "alert": alert,
        "alternatives": alternatives,
        "error": error,
        "course_mode": flow.course_mode,
        "session_choices": STAFF_COURSE_WEEKS if flow.for_staff else PATIENT_COURSE_WEEKS,
        "zone_name": str(zone),
        "ims_refusal": ims_refusal,
    }
    service = picked.service
    if service is None:
        return context
    if ims_refusal is not None and service.requires_ims_credential:
        context["ims_blocked"] = True  # a kept IMS service (moving a visit): no times
        return context
    if pending and service.requires_ims_credential and not service.for_new_patients:
        context["blocked"] = FirstVisitMustBeAssessment(assessment).args[0]
        return context
    context["practitioners"] = practitioners_for(service, picked.location, today=today)
    horizon_end = today + dt.timedelta(days=service.horizon_days)
    week = picked.week or picked.day or today
    week = min(max(week, today), horizon_end)
    picked.week = week
    # Times the patient is already booked for (with anyone) are not offered.
    slots = available_slots(
        service=service,
        start_date=week,
        days=WEEK,
        practitioner=picked.practitioner,
        location=picked.location,
        now=now,
        patient=flow.patient,
        except_visit=flow.moving.pk if flow.moving is not None else None,
    )
    by_day: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.date(), []).append(slot)
    if picked.day is None or picked.day not in by_day:
        picked.day = min(by_day) if by_day else None
    people = {p.pk: p for p in context["practitioners"]}
    if picked.practitioner is not None:
        people[picked.practitioner.pk] = picked.practitioner
    places = {loc.pk: loc for loc in locations}
    days = []
    for offset in range(WEEK):
        day = week + dt.timedelta(days=offset)
        days.append(
            DayChoice(
                day=day,
                label=dateformat.format(day, "D j M"),
                count=len(
                    slot_choices(
                        by_day.get(day, ()), flow=flow, picked=picked, people={}, places=places
                    )
                ),
                selected=day == picked.day,
                url=_url(flow.picker_url, picked.params(flow, day=day.isoformat())),
            )
        )
    previous_week = week - dt.timedelta(days=WEEK)
    next_week = week + dt.timedelta(days=WEEK)
    context.update(
        {
            "days": days,
            "week_label": _("%(first)s to %(last)s")
            % {
                "first": dateformat.format(week, "j F"),
                "last": dateformat.format(week + dt.timedelta(days=WEEK - 1), "j F Y"),
            },
            "previous_week_url": _url(
                flow.picker_url,
                picked.params(flow, week=max(previous_week, today).isoformat(), day=None),
            )
            if week > today
            else "",
            "next_week_url": _url(
                flow.picker_url, picked.params(flow, week=next_week.isoformat(), day=None)
            )
            if next_week <= horizon_end
            else "",
            "day_slots": slot_choices(
                by_day.get(picked.day, ()) if picked.day else (),
                flow=flow,
                picked=picked,
                people=people,
                places=places,
            ),
            "chosen_day_label": day_label(picked.day) if picked.day else "",
            "change_service_url": ""
            if flow.fixed_service
            else _url(
                flow.picker_url, {**flow.extra, **({"course": "1"} if flow.course_mode else {})}
            ),
        }
    )
    context["slot_groups"] = group_by_location(context["day_slots"])
    return context


def group_by_location(
    choices: Sequence[SlotChoice],
) -> list[tuple[Location | None, list[SlotChoice]]]:
    """Group a day's times by location, each group in its own local order.

    Times at two locations in different zones would otherwise interleave confusingly
    (9:30 AM EST before 8:00 AM PST).
    """
    groups: dict[int | None, tuple[Location | None, list[SlotChoice]]] = {}
    for choice in choices:
        key = choice.location.pk if choice.location is not None else None
        groups.setdefault(key, (choice.location, []))[1].append(choice)
    ordered = sorted(
        groups.values(),
        key=lambda group: (group[0].order, group[0].name) if group[0] is not None else (0, ""),
    )
    return [(location, sorted(items, key=lambda c: c.start)) for location, items in ordered]


def render_picker(
    request: HttpRequest,
    context: dict[str, Any],
    *,
    page: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    """Render the picker page, or only the picker when htmx asks for it."""
    htmx: Any = getattr(request, "htmx", None)
    # A history restore (the back button after an in-place swap) needs the whole page.
    partial = bool(htmx) and not htmx.history_restore_request and not context["alert"]
    template = "scheduling/book_picker.html" if partial else "scheduling/book_page.html"
    return render(request, template, {**context, **page}, status=status)


# ---------------------------------------------------------------------------------------------
# Reading a chosen time back.


INVALID_CHOICE = gettext_lazy("That time could not be read. Please choose a time from the list.")


class SlotForm(forms.Form):
    """A chosen time, as the picker's links and the confirm page's hidden fields carry it."""

    service = forms.SlugField(max_length=50)
    practitioner = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    location = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    start = forms.CharField(max_length=64)
    any = forms.BooleanField(required=False)
    sessions = forms.IntegerField(required=False, min_value=1, max_value=52)

    def __init__(
        self,
        data: Any,
        *,
        services: QuerySet[Service],
        now: dt.datetime | None = None,
        weeks: range | None = None,
    ) -> None:
        super().__init__(data)
        self.services = services
        self.now = now or timezone.now()
        self.weeks = weeks

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            raise forms.ValidationError(INVALID_CHOICE)
        service = self.services.filter(slug=cleaned["service"]).first()
        location = Location.objects.filter(pk=cleaned["location"], is_active=True).first()
        practitioner = Practitioner.objects.filter(
            pk=cleaned["practitioner"], is_active=True
        ).first()
        start = parse_start(cleaned["start"])
        if (
            service is None
            or location is None
            or practitioner is None
            or start is None
            or not practitioner.locations.filter(pk=location.pk).exists()
        ):
            raise forms.ValidationError(INVALID_CHOICE)
        if start <= self.now:
            raise forms.ValidationError(
                _("That time has already passed. Please choose another."), code="past"
            )
        if self.weeks is not None and cleaned.get("sessions") not in self.weeks:
            raise forms.ValidationError(
                _("Choose between %(low)d and %(high)d weekly visits.")
                % {"low": self.weeks.start, "high": self.weeks.stop - 1}
            )
        cleaned.update(
            {
                "service": service,
                "location": location,
                "practitioner": practitioner,
                "start": start,
            }
        )
        return cleaned

    def error_text(self) -> str:
        return " ".join(str(e) for e in self.non_field_errors()) or str(INVALID_CHOICE)

    def picker_data(self) -> dict[str, str]:
        """Return picker parameters that show this choice's service, person, place and day."""
        data: dict[str, str] = {}
        raw = self.data
        for key in ("service", "location", "sessions"):
            if raw.get(key):
                data[key] = str(raw.get(key))
        if raw.get("practitioner") and not raw.get("any"):
            data["practitioner"] = str(raw.get("practitioner"))
        start = parse_start(str(raw.get("start", "")))
        location = self.cleaned_data.get("location") if hasattr(self, "cleaned_data") else None
        if start is not None and isinstance(location, Location):
            local = start.astimezone(location.zone).date()
            data["week"] = local.isoformat()
            data["day"] = local.isoformat()
        return data


def summary_context(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Describe a chosen time for a confirm page."""
    location: Location = cleaned["location"]
    start: dt.datetime = cleaned["start"]
    service: Service = cleaned["service"]
    zone = location.zone
    end = start + dt.timedelta(minutes=service.duration_minutes)
    return {
        "service": service,
        "practitioner": cleaned["practitioner"],
        "location": location,
        "start": start,
        "when": when_label(start, zone),
        "ends": time_label(end, zone),
        "form_values": {
            "service": service.slug,
            "practitioner": str(cleaned["practitioner"].pk),
            "location": str(location.pk),
            "start": _iso(start),
            "any": "1" if cleaned.get("any") else "",
            "sessions": str(cleaned["sessions"]) if cleaned.get("sessions") else "",
        },
    }


def already_booked(patient: Patient, cleaned: dict[str, Any]) -> Appointment | None:
    """Return this patient's active visit at exactly this time: a repeated submission."""
    return (
        Appointment.objects.filter(
            patient=patient,
            practitioner=cleaned["practitioner"],
            service=cleaned["service"],
            start=cleaned["start"],
            status=AppointmentStatus.BOOKED,
        )
        .order_by("pk")
        .first()
    )


def course_already_booked(patient: Patient, cleaned: dict[str, Any]) -> bool:
    """Say whether a course starting at exactly this time was booked for the patient."""
    return Appointment.objects.filter(
        patient=patient,
        practitioner=cleaned["practitioner"],
        service=cleaned["service"],
        start=cleaned["start"],
        status=AppointmentStatus.BOOKED,
        course__isnull=False,
    ).exists()


def is_still_offered(cleaned: dict[str, Any], *, now: dt.datetime | None = None) -> bool:
    """Say whether the chosen time is still free, without booking it."""
    location: Location = cleaned["location"]
    start: dt.datetime = cleaned["start"]
    slots = available_slots(
        service=cleaned["service"],
        start_date=start.astimezone(location.zone).date(),
        days=1,
        practitioner=cleaned["practitioner"],
        location=location,
        now=now,
    )
    return any(slot.start == start for slot in slots)


@dataclass(frozen=True)
class Outcome:
    """What a booking attempt came to: a visit, or the picker to show again."""

    appointment: Appointment | None = None
    response: HttpResponse | None = None


def book_chosen_time(
    request: HttpRequest,
    *,
    flow: Flow,
    page: dict[str, Any],
    now: dt.datetime | None = None,
) -> Outcome:
    """Book the time a confirm page posted, or answer with the picker and why it was not."""
    form = SlotForm(request.POST, services=services_for(staff=flow.for_staff), now=now)
    if not form.is_valid():
        context = picker_context(form.picker_data(), flow=flow, error=form.error_text(), now=now)
        return Outcome(response=render_picker(request, context, page=page, status=400))
    cleaned = form.cleaned_data
    try:
        visit = appointment_book(
            patient=flow.patient,
            practitioner=cleaned["practitioner"],
            service=cleaned["service"],
            location=cleaned["location"],
            start=cleaned["start"],
            actor=request.user,
            request=request,
            now=now,
        )
    except SlotUnavailable as refusal:
        repeated = already_booked(flow.patient, cleaned)
        if repeated is not None:
            # The same form sent twice (a double click, a reload): the first one booked it.
            return Outcome(appointment=repeated)
        alert = None
        if isinstance(refusal, PatientBusy):
            alert = (
                _("%(patient)s already has a visit at that time.")
                % {"patient": flow.patient.display_name}
                if flow.for_staff
                else _("You already have a visit at that time.")
            )
        return Outcome(
            response=taken_response(request, form, flow=flow, page=page, now=now, alert=alert)
        )
    except FirstVisitMustBeAssessment as error:
        context = picker_context({}, flow=flow, error=str(error), now=now)
        return Outcome(response=render_picker(request, context, page=page, status=409))
    except OnlineImsBookingStopped:
        # The picker shows the same kind words (and the phone number) in its first step.
        context = picker_context({}, flow=flow, now=now)
        return Outcome(response=render_picker(request, context, page=page, status=403))
    return Outcome(appointment=visit)


def taken_response(
    request: HttpRequest,
    form: SlotForm,
    *,
    flow: Flow,
    page: dict[str, Any],
    now: dt.datetime | None = None,
    alert: str | None = None,
) -> HttpResponse:
    """Show the picker again, where it was, with "that time was just taken" and alternatives."""
    cleaned = form.cleaned_data
    chosen_practitioner = None if cleaned.get("any") else cleaned["practitioner"]
    alternatives = alternatives_for(
        flow=flow,
        service=cleaned["service"],
        practitioner=chosen_practitioner,
        location=cleaned["location"],
        around=cleaned["start"],
    )
    # Whether someone else just took it or it stopped being offered (the notice period
    # passed while the page was open), the person's next step is the same: pick another.
    context = picker_context(
        form.picker_data(),
        flow=flow,
        alert=alert or _("That time was just taken."),
        alternatives=alternatives,
        now=now,
    )
    return render_picker(request, context, page=page, status=409)


# ---------------------------------------------------------------------------------------------
# The front desk: booking for a patient, usually on the phone.


def _staff_flow(patient: Patient, *, course: bool = False) -> Flow:
    return Flow(
        patient=patient,
        picker_url=reverse("staff_book", kwargs={"patient_id": patient.pk}),
        next_url=reverse(
            "staff_course_plan" if course else "staff_book_confirm",
            kwargs={"patient_id": patient.pk},
        ),
        for_staff=True,
        course_mode=course,
        extra={"course": "1"} if course else {},
    )


def _staff_page(patient: Patient, *, course: bool = False) -> dict[str, Any]:
    return {
        "page_title": _("Book a course of weekly visits") if course else _("Book a visit"),
        "patient": patient,
        "back_url": reverse("patient_detail", kwargs={"patient_id": patient.pk}),
        "back_label": _("Back to the patient"),
        "course_url": _url(
            reverse("staff_book", kwargs={"patient_id": patient.pk}), {"course": "1"}
        ),
    }


def _booking_patient(request: HttpRequest, patient_id: int) -> Patient:
    """Return the patient this staff member may book for; 404 (audited) for anyone else."""
    return patient_for_user(request, user=request.user, patient_id=patient_id)


@login_required
def staff_book(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show the slot picker to book a visit (or a course) for a patient."""
    patient = _booking_patient(request, patient_id)
    course = request.GET.get("course") == "1"
    flow = _staff_flow(patient, course=course)
    context = picker_context(request.GET, flow=flow)
    return render_picker(request, context, page=_staff_page(patient, course=course))


@login_required
def staff_book_confirm(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Confirm a chosen time with the patient on the phone, then book it."""
    patient = _booking_patient(request, patient_id)
    flow = _staff_flow(patient)
    page = _staff_page(patient)
    if request.method == "POST":
        outcome = book_chosen_time(request, flow=flow, page=page)
        if outcome.response is not None:
            return outcome.response
        visit = outcome.appointment
        assert visit is not None
        messages.success(
            request,
            _(
                "Booked %(service)s on %(when)s with %(who)s. "
                "The patient will get a confirmation email."
            )
            % {
                "service": visit.service.name,
                "when": when_label(visit.start, visit.location.zone),
                "who": visit.practitioner.display_name,
            },
        )
        return redirect("patient_detail", patient_id=patient.pk)
    return confirm_page(request, flow=flow, page=page, template="scheduling/book_confirm.html")


def confirm_page(
    request: HttpRequest,
    *,
    flow: Flow,
    page: dict[str, Any],
    template: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Show a chosen time before it is booked; a time gone already shows the picker again."""
    if not request.GET:
        return redirect(flow.picker_url)
    weeks = None
    if flow.course_mode:
        weeks = STAFF_COURSE_WEEKS if flow.for_staff else PATIENT_COURSE_WEEKS
    form = SlotForm(request.GET, services=services_for(staff=flow.for_staff), weeks=weeks)
    if not form.is_valid():
        context = picker_context(form.picker_data(), flow=flow, error=form.error_text())
        return render_picker(request, context, page=page, status=400)
    if (
        not flow.course_mode
        and not is_still_offered(form.cleaned_data)
        and already_booked(flow.patient, form.cleaned_data) is None
    ):
        return taken_response(request, form, flow=flow, page=page)
    clinic = Clinic.current()
    context = {
        **page,
        **summary_context(form.cleaned_data),
        **(extra or {}),
        "flow": flow,
        "clinic_phone": form.cleaned_data["location"].phone or (clinic.phone if clinic else ""),
        "change_url": _url(flow.picker_url, {**flow.extra, **form.picker_data()}),
    }
    return render(request, template, context)


# ---------------------------------------------------------------------------------------------
# A course of weekly visits (portal and staff share this page).


def course_page(
    request: HttpRequest,
    *,
    flow: Flow,
    page: dict[str, Any],
    done_url: str,
    now: dt.datetime | None = None,
) -> HttpResponse:
    """Show the plan for N weekly visits from a chosen first time; POST books it."""
    weeks = STAFF_COURSE_WEEKS if flow.for_staff else PATIENT_COURSE_WEEKS
    data = request.POST if request.method == "POST" else request.GET
    if not data:
        return redirect(_url(flow.picker_url, flow.extra))
    form = SlotForm(data, services=services_for(staff=flow.for_staff), now=now, weeks=weeks)
    if not form.is_valid():
        context = picker_context(form.picker_data(), flow=flow, error=form.error_text(), now=now)
        return render_picker(request, context, page=page, status=400)
    cleaned = form.cleaned_data
    if needs_assessment_first(flow.patient, cleaned["service"]):
        context = picker_context(form.picker_data(), flow=flow, now=now)
        return render_picker(request, context, page=page, status=409)
    args: dict[str, Any] = {
        "patient": flow.patient,
        "practitioner": cleaned["practitioner"],
        "service": cleaned["service"],
        "location": cleaned["location"],
        "first_start": cleaned["start"],
        "sessions": cleaned["sessions"],
    }
    message = ""
    status = 200
    if request.method == "POST":
        choice = request.POST.get("book")
        if choice not in {"available", "all"}:
            messages.info(request, _("Nothing was booked."))
            return redirect(done_url)
        if course_already_booked(flow.patient, cleaned):
            # The same form sent twice: the first request booked the course.
            return redirect(done_url)
        try:
            booked = course_book(
                **args,
                book_partial=choice == "available",
                actor=request.user,
                request=request,
                now=now,
            )
        except CourseHasConflicts as error:
            plan = error.plan
            message = _(
                "Some of these times changed while you were looking. Here is the plan as it "
                "stands now: nothing has been booked yet."
            )
            status = 409
        except BookingError as error:
            plan = course_plan(**args, now=now)
            message = str(error)
            status = 409
        else:
            messages.success(
                request,
                ngettext(
                    "Booked %(count)d weekly visit. A confirmation email goes out for it.",
                    "Booked %(count)d weekly visits. A confirmation email goes out for each.",
                    len(booked.booked),
                )
                % {"count": len(booked.booked)},
            )
            return redirect(done_url)
    else:
        plan = course_plan(**args, now=now)
    zone = cleaned["location"].zone
    rows = []
    for occurrence in plan.occurrences:
        rows.append(
            {
                "index": occurrence.index,
                "when": when_label(occurrence.start, zone),
                "available": occurrence.available,
                "reason": occurrence.reason,
                "alternatives": [when_label(slot.start, zone) for slot in occurrence.alternatives],
            }
        )
    available = sum(1 for row in rows if row["available"])
    context = {
        **page,
        **summary_context(cleaned),
        "flow": flow,
        "rows": rows,
        "available_count": available,
        "failed_count": len(rows) - available,
        "message": message,
        "done_url": done_url,
        "change_url": _url(flow.picker_url, {**flow.extra, **form.picker_data()}),
    }
    return render(request, "scheduling/book_course_plan.html", context, status=status)


@login_required
def staff_course_plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Plan and book a course of weekly visits for a patient."""
    patient = _booking_patient(request, patient_id)
    return course_page(
        request,
        flow=_staff_flow(patient, course=True),
        page=_staff_page(patient, course=True),
        done_url=reverse("patient_detail", kwargs={"patient_id": patient.pk}),
    )
