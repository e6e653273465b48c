"""Staff calendar pages (day, week, a practitioner's own day) and acting on their visits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imsclinic.clinic.models import Location, Practitioner
from imsclinic.core.access import refuse, require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.scheduling.calendar_grid import (
    Visit,
    day_grid,
    describe_day,
    own_day,
    time_range_label,
    week_grid,
)
from imsclinic.scheduling.forms import FIRST_DAY, LAST_DAY, CalendarForm, CancelForm
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.services.audit import visits_shown_record
from imsclinic.scheduling.services.booking import (
    BookingError,
    allowed_status_changes,
    appointment_cancel,
    appointment_set_status,
    inside_late_window,
)

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


# -- who may use the calendar ---------------------------------------------------------


def own_practitioner(request: SignedInRequest) -> Practitioner | None:
    if request.user.pk is None:
        return None
    return Practitioner.objects.filter(user_id=request.user.pk, is_active=True).first()


# -- the choice of location and day ---------------------------------------------------


@dataclass
class Choice:
    form: CalendarForm
    locations: list[Location]
    location: Location | None
    day: dt.date


def _choose(request: SignedInRequest) -> Choice:
    """Read ?location=&date= (bad values fall back to defaults, with the error shown)."""
    locations = list(Location.objects.filter(is_active=True).select_related("clinic"))
    form = CalendarForm(request.GET or None, locations=locations)
    location_id: int | None = None
    day: dt.date | None = None
    if form.is_bound:
        form.is_valid()
        location_id = form.cleaned_data.get("location") or None
        day = form.cleaned_data.get("date")
    by_id = {loc.pk: loc for loc in locations}
    location = by_id.get(location_id) if location_id else None
    if location is None and locations:
        location = locations[0]
    if day is None:
        zone = location.zone if location is not None else dt.UTC
        day = timezone.now().astimezone(zone).date()
    if not form.is_bound:
        form = CalendarForm(
            initial={"location": location.pk if location else None, "date": day},
            locations=locations,
        )
    return Choice(form=form, locations=locations, location=location, day=day)


def _url(name: str, **params: Any) -> str:
    query = {key: value for key, value in params.items() if value not in (None, "")}
    return reverse(name) + ("?" + urlencode(query) if query else "")


def _day_links(name: str, choice: Choice, step_days: int) -> dict[str, str | None]:
    location_id = choice.location.pk if choice.location else None
    earlier = choice.day - dt.timedelta(days=step_days)
    later = choice.day + dt.timedelta(days=step_days)
    return {
        "previous": _url(name, location=location_id, date=earlier.isoformat())
        if earlier >= FIRST_DAY
        else None,
        "next": _url(name, location=location_id, date=later.isoformat())
        if later <= LAST_DAY
        else None,
        "today": _url(name, location=location_id),
        "day": _url("calendar_day", location=location_id, date=choice.day.isoformat()),
        "week": _url("calendar_week", location=location_id, date=choice.day.isoformat()),
    }


# -- the status buttons on each visit -------------------------------------------------


@dataclass(frozen=True)
class StatusAction:
    status: str
    label: str


def _action_label(target: str) -> str:
    labels: dict[str, str] = {
        AppointmentStatus.ARRIVED: _("Check in"),
        AppointmentStatus.BOOKED: _("Undo check-in"),
        AppointmentStatus.IN_TREATMENT: _("Start treatment"),
        AppointmentStatus.COMPLETED: _("Complete"),
        AppointmentStatus.NO_SHOW: _("No-show"),
    }
    return labels.get(target) or str(AppointmentStatus(target).label)


def _actions_for(visit: Visit, user: User, now: dt.datetime) -> list[StatusAction]:
    """Return the status changes this user may make now; the service has the last word."""
    appointment = visit.appointment
    # The page's query already answered the visit rule for every visit (`shows_patient`).
    return [
        StatusAction(target, _action_label(target))
        for target in allowed_status_changes(appointment, user, may_act=visit.shows_patient)
        # A no-show only once the start has passed (the service refuses it before).
        if target != AppointmentStatus.NO_SHOW or appointment.start <= now
    ]


def _decorate(visits: list[Visit], request: SignedInRequest, now: dt.datetime) -> None:
    """Attach each visit's buttons and whether its patient's record may be opened."""
    for visit in visits:
        if not visit.shows_patient:
            continue  # busy time: no patient, so nothing to open and nothing to do
        visit.actions = _actions_for(visit, request.user, now)
        visit.can_cancel = (
            visit.appointment.status == AppointmentStatus.BOOKED and visit.appointment.start > now
        )
        # The front desk and the owner open every record, a practitioner their care team's;
        # booking puts the practitioner on the patient's care team.
        visit.patient_link = True
        # An IMS visit links to its needling note, any other to its physiotherapy note.
        visit.note_link = (
            visit.appointment.practitioner.user_id == request.user.pk
            and visit.appointment.status
            not in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
        )


def _record_shown(request: SignedInRequest, visits: list[Visit], detail: dict[str, Any]) -> None:
    """Audit the page: one VIEW row per patient it named (busy time names nobody)."""
    visits_shown_record(
        request,
        user=request.user,
        object_type=ObjectType.CALENDAR,
        visits=[visit.appointment for visit in visits if visit.shows_patient],
        detail=detail,
    )


# -- pages ----------------------------------------------------------------------------


@login_required
def calendar_day(request: SignedInRequest) -> HttpResponse:
    require_perm(request, "scheduling.use_calendar", object_type=ObjectType.CALENDAR)
    is_practitioner = own_practitioner(request) is not None
    if is_practitioner and not request.GET:
        # A practitioner's calendar opens on their own day; the Day tab names a location.
        return redirect("calendar_mine")
    choice = _choose(request)
    context: dict[str, Any] = {
        "choice": choice,
        "form": choice.form,
        "links": _day_links("calendar_day", choice, 1),
        "is_practitioner": is_practitioner,
        "view": "day",
    }
    if choice.location is not None:
        grid = day_grid(
            location=choice.location,
            day=choice.day,
            step_minutes=choice.location.clinic.slot_step_minutes,
            viewer=request.user,
        )
        _decorate(grid.visits, request, timezone.now())
        _record_shown(
            request,
            grid.visits,
            {"view": "day", "date": choice.day.isoformat(), "location": choice.location.pk},
        )
        context.update(grid=grid, summary=describe_day(grid), next_url=request.get_full_path())
    return render(request, "scheduling/calendar_day.html", context)


@login_required
def calendar_week(request: SignedInRequest) -> HttpResponse:
    require_perm(request, "scheduling.use_calendar", object_type=ObjectType.CALENDAR)
    choice = _choose(request)
    # The week starts on the Monday of the chosen day.
    monday = choice.day - dt.timedelta(days=choice.day.weekday())
    if monday < FIRST_DAY:
        monday = FIRST_DAY
    context: dict[str, Any] = {
        "choice": choice,
        "form": choice.form,
        "links": _day_links("calendar_week", choice, 7),
        "is_practitioner": own_practitioner(request) is not None,
        "view": "week",
        "today": timezone.now()
        .astimezone(choice.location.zone if choice.location else dt.UTC)
        .date(),
    }
    if choice.location is not None:
        week = week_grid(location=choice.location, first_day=monday, viewer=request.user)
        context["week"] = week
        _record_shown(
            request,
            [visit for row in week.rows for cell in row.cells for visit in cell.visits],
            {"view": "week", "date": monday.isoformat(), "location": choice.location.pk},
        )
    return render(request, "scheduling/calendar_week.html", context)


@login_required
def calendar_mine(request: SignedInRequest) -> HttpResponse:
    require_perm(request, "scheduling.use_calendar", object_type=ObjectType.CALENDAR)
    practitioner = own_practitioner(request)
    if practitioner is None:
        return redirect("calendar_day")
    choice = _choose(request)
    if not request.GET.get("date"):
        home = practitioner.locations.filter(is_active=True).order_by("order").first()
        if home is not None:
            choice.day = timezone.now().astimezone(home.zone).date()
            choice.form = CalendarForm(initial={"date": choice.day}, locations=choice.locations)
    groups = own_day(practitioner=practitioner, day=choice.day, viewer=request.user)
    now = timezone.now()
    for group in groups:
        _decorate(group.visits, request, now)
    _record_shown(
        request,
        [visit for group in groups for visit in group.visits],
        {"view": "mine", "date": choice.day.isoformat()},
    )
    links = _day_links("calendar_mine", choice, 1)
    for key in ("previous", "next"):
        if links[key]:
            day = choice.day + dt.timedelta(days=1 if key == "next" else -1)
            links[key] = _url("calendar_mine", date=day.isoformat())
    links["today"] = _url("calendar_mine")
    context = {
        "choice": choice,
        "form": choice.form,
        "links": links,
        "practitioner": practitioner,
        "groups": groups,
        "is_practitioner": True,
        "view": "mine",
        "next_url": request.get_full_path(),
    }
    return render(request, "scheduling/calendar_mine.html", context)


def _safe_next(request: SignedInRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _staff_appointment(request: SignedInRequest, appointment_id: int) -> Appointment:
    """Return the visit if this staff member may act on it; otherwise 404, audited."""
    require_perm(request, "scheduling.use_calendar", object_type=ObjectType.APPOINTMENT)
    visit = (
        Appointment.objects.select_related(
            "patient", "practitioner", "location__clinic", "service", "room"
        )
        .filter(pk=appointment_id)
        .first()
    )
    if visit is None or not request.user.has_perm("scheduling.act_on_visit", visit):
        raise refuse(
            request,
            object_type=ObjectType.APPOINTMENT,
            object_id=appointment_id,
            patient_id=visit.patient_id if visit is not None else None,
            reason="" if visit is not None else "no such visit",
        )
    return visit


def _back_to_calendar(appointment: Appointment) -> str:
    day = appointment.start.astimezone(appointment.location.zone).date()
    return _url("calendar_day", location=appointment.location_id, date=day.isoformat())


@require_POST
@login_required
def appointment_status(request: SignedInRequest, appointment_id: int) -> HttpResponse:
    appointment = _staff_appointment(request, appointment_id)
    target = _safe_next(request, _back_to_calendar(appointment))
    status = request.POST.get("status", "")
    if status not in AppointmentStatus.values:
        messages.error(request, _("That is not a status a visit can have."))
        return redirect(target)
    try:
        changed = appointment_set_status(
            appointment=appointment, status=status, actor=request.user, request=request
        )
    except (BookingError, PermissionDenied) as error:
        messages.error(request, str(error) or _("That change is not allowed."))
    else:
        messages.success(
            request,
            _("%(patient)s, %(time)s: %(status)s.")
            % {
                "patient": appointment.patient.display_name,
                "time": time_range_label(
                    appointment.start, appointment.end, appointment.location.zone
                ),
                "status": changed.get_status_display(),
            },
        )
    return redirect(target)


@login_required
def appointment_cancel_staff(request: SignedInRequest, appointment_id: int) -> HttpResponse:
    appointment = _staff_appointment(request, appointment_id)
    back = _safe_next(request, _back_to_calendar(appointment))
    now = timezone.now()
    late = inside_late_window(appointment, now)
    form = CancelForm(request.POST or None, late=late)
    if request.method == "POST" and form.is_valid():
        try:
            appointment_cancel(
                appointment=appointment,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                cancelled_by=form.cleaned_data["cancelled_by"],
                request=request,
            )
        except BookingError as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(
                request,
                _("Cancelled %(patient)s's visit at %(time)s.")
                % {
                    "patient": appointment.patient.display_name,
                    "time": time_range_label(
                        appointment.start, appointment.end, appointment.location.zone
                    ),
                },
            )
            return redirect(back)
    # The page names the patient: a look at their visit.
    audit_view(
        request, ObjectType.APPOINTMENT, patient=appointment.patient, object_id=appointment.pk
    )
    context = {
        "appointment": appointment,
        "visit": Visit(appointment, appointment.location.zone, shows_patient=True),
        "form": form,
        "late": late,
        "late_hours": appointment.location.clinic.late_cancellation_hours,
        "back": back,
    }
    return render(request, "scheduling/calendar_cancel.html", context)
