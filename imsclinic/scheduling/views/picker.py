"""The booking picker's steps: service, practitioner and location, a week of days, a day's times.

The portal's and the front desk's booking pages show the same picker: `picker_context`
builds its steps from the GET parameters, and one set of templates (`scheduling/book_*.html`)
shows them. Every step is a plain GET link or form; htmx only swaps the picker in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from imsclinic.clinic.models import Location, Practitioner, Service
from imsclinic.core.params import id_param
from imsclinic.safety.selectors import online_ims_refusal
from imsclinic.scheduling.availability import Slot
from imsclinic.scheduling.picker import (
    ALTERNATIVES,
    PATIENT_COURSE_WEEKS,
    STAFF_COURSE_WEEKS,
    WEEK,
    DayChoice,
    Flow,
    Picked,
    SlotChoice,
    assessment_service,
    day_label,
    group_by_location,
    link,
    parse_day,
    picked_zone,
    slot_choices,
)
from imsclinic.scheduling.selectors import (
    available_slots,
    nearest_alternatives,
    open_locations,
    practitioners_for,
    services_for,
)
from imsclinic.scheduling.services.booking import FirstVisitMustBeAssessment, has_had_ims_visit


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
    location_id = id_param(data.get("location"))
    picked.location = next((loc for loc in locations if loc.pk == location_id), None)
    if picked.location is None and len(locations) == 1:
        picked.location = locations[0]
    if picked.service is not None:
        practitioner_id = id_param(data.get("practitioner"))
        if practitioner_id is not None:
            allowed = practitioners_for(picked.service, picked.location, today=today)
            picked.practitioner = next((p for p in allowed if p.pk == practitioner_id), None)
    sessions = id_param(data.get("sessions"))
    weeks = STAFF_COURSE_WEEKS if flow.for_staff else PATIENT_COURSE_WEEKS
    if sessions is not None and sessions in weeks:
        picked.sessions = sessions
    picked.week = parse_day(data.get("week"))
    picked.day = parse_day(data.get("day"))
    return picked


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
    zone = picked_zone(picked, locations)
    today = now.astimezone(zone).date()
    pending = not has_had_ims_visit(flow.patient)
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
                url=link(flow.picker_url, picked.params(flow, day=day.isoformat())),
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
            "previous_week_url": link(
                flow.picker_url,
                picked.params(flow, week=max(previous_week, today).isoformat(), day=None),
            )
            if week > today
            else "",
            "next_week_url": link(
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
            else link(
                flow.picker_url, {**flow.extra, **({"course": "1"} if flow.course_mode else {})}
            ),
        }
    )
    context["slot_groups"] = group_by_location(context["day_slots"])
    return context


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
