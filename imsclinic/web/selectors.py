"""Reads for the public pages: only what the clinic has chosen to show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from imsclinic.clinic.licences import Licence, needling_gaps
from imsclinic.clinic.models import Location, Practitioner, Service, Weekday
from imsclinic.web.hours import DayHours, week_of_hours
from imsclinic.web.models import FaqEntry


def published_faq() -> QuerySet[FaqEntry]:
    """Return the FAQ entries the owner has published, in the owner's order."""
    return FaqEntry.objects.filter(is_published=True).order_by("order", "pk")


def _open_locations() -> QuerySet[Location]:
    return Location.objects.filter(is_active=True).order_by("order", "name")


def _public_practitioners() -> QuerySet[Practitioner]:
    return Practitioner.objects.filter(is_active=True).prefetch_related(
        Prefetch("locations", queryset=_open_locations())
    )


@dataclass(frozen=True)
class PractitionerCard:
    """A practitioner as the public sees them, each licence judged for today: only what is
    current is shown (`clinic.licences`)."""

    practitioner: Practitioner
    ims_current: bool
    ims_lapsed: bool  # certified once, but not today: never shown as IMS-certified
    years_of_ims_practice: int | None
    registration_current: bool  # practising and not expired: body and number shown
    authorisation_current: bool  # a needling authorisation recorded and current today
    gives_ims: bool  # every licence current at one of their open locations today

    @classmethod
    def for_day(cls, practitioner: Practitioner, day: dt.date) -> PractitionerCard:
        current = practitioner.ims_credential_current_on(day)
        gaps = {
            gap.licence
            for gap in needling_gaps(practitioner.licences, day, authorisation_required=True)
        }
        authorised = (
            practitioner.needling_authorised_on is not None
            and Licence.NEEDLING_AUTHORISATION not in gaps
        )
        return cls(
            practitioner=practitioner,
            ims_current=current,
            ims_lapsed=not current and practitioner.ims_certified_on is not None,
            years_of_ims_practice=practitioner.years_of_ims_practice if current else None,
            registration_current=Licence.REGISTRATION not in gaps,
            authorisation_current=authorised,
            # The open locations are prefetched: no query per practitioner.
            gives_ims=any(
                practitioner.may_needle(day, place) for place in practitioner.locations.all()
            ),
        )


def practitioner_cards() -> list[PractitionerCard]:
    """Return the active practitioners, with their open locations, in the clinic's order."""
    today = timezone.localdate()
    return [PractitionerCard.for_day(p, today) for p in _public_practitioners()]


def practitioner_card(slug: str) -> PractitionerCard:
    """Return one active practitioner, or 404 for anyone inactive or unknown."""
    practitioner = get_object_or_404(_public_practitioners(), slug=slug)
    return PractitionerCard.for_day(practitioner, timezone.localdate())


@dataclass(frozen=True)
class LocationWeek:
    location: Location
    days: list[DayHours]


def locations_with_hours(now: dt.datetime | None = None) -> list[LocationWeek]:
    """Return each open location with its week of hours; 'today' is the location's own today."""
    now = now or timezone.now()
    names = [str(label) for _, label in Weekday.choices]
    weeks = []
    for location in _open_locations().prefetch_related("hours"):
        periods = [(h.weekday, h.opens, h.closes) for h in location.hours.all()]
        today = now.astimezone(location.zone).weekday()
        weeks.append(LocationWeek(location, week_of_hours(periods, day_names=names, today=today)))
    return weeks


def open_locations() -> QuerySet[Location]:
    """Return the open locations, for their phone numbers."""
    return _open_locations()


def bookable_services() -> QuerySet[Service]:
    """Return the services a patient may book online, in the clinic's order."""
    return Service.objects.filter(is_active=True, bookable_online=True).order_by("order", "name")
