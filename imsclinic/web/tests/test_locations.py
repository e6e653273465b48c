"""Locations show address, a phone link, and a full week of hours in local time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.clinic.models import Location, OpeningHours
from imsclinic.web.hours import Period, week_of_hours
from imsclinic.web.selectors import locations_with_hours
from imsclinic.web.tests.helpers import element_by_id, text_of

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # as the pages print ranges

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def test_each_location_shows_address_phone_and_a_call_link(client: Client, location):
    response = client.get(reverse("locations"))
    section = element_by_id(response.content, "section", "location-kitsilano")
    assert "100 Example Ave" in section and "Vancouver, BC V6K 1A1" in section
    assert b'href="tel:604-555-0101"' in response.content


def test_hours_are_shown_in_the_locations_own_time_and_zone(client: Client, location):
    section = element_by_id(
        client.get(reverse("locations")).content, "section", "location-kitsilano"
    )
    assert (
        "in local time (America/Vancouver, now P" in section
    )  # PST or PDT, depending on the season
    # Stored 08:00-18:00 local; shown as such, not shifted to UTC.
    assert "Monday" in section and f"8 a.m. {DASH} 6 p.m." in section
    assert "4 p.m." not in section and "2 a.m." not in section  # the same hours read as UTC


def test_days_without_hours_say_closed(client: Client, location):
    section = element_by_id(
        client.get(reverse("locations")).content, "section", "location-kitsilano"
    )
    assert "Saturday" in section and "Sunday" in section
    assert section.count("Closed") == 2


def test_a_day_with_a_break_shows_both_periods_in_order(client: Client, location):
    OpeningHours.objects.create(location=location, weekday=5, opens=dt.time(13), closes=dt.time(16))
    OpeningHours.objects.create(location=location, weekday=5, opens=dt.time(9), closes=dt.time(12))
    section = element_by_id(
        client.get(reverse("locations")).content, "section", "location-kitsilano"
    )
    assert f"Saturday 9 a.m. {DASH} noon 1 p.m. {DASH} 4 p.m." in section
    assert section.count("Closed") == 1


def test_closed_locations_are_not_listed(client: Client, location):
    location.is_active = False
    location.save(update_fields=["is_active"])
    assert "Kitsilano" not in text_of(client.get(reverse("locations")).content)


def test_an_owners_change_to_hours_appears_on_the_page(client: Client, location):
    monday = location.hours.get(weekday=0)
    monday.closes = dt.time(20, 30)
    monday.save(update_fields=["closes"])
    assert f"8 a.m. {DASH} 8:30 p.m." in text_of(client.get(reverse("locations")).content)


def test_today_is_the_locations_own_today_not_utc(location, clinic):
    toronto = Location.objects.create(
        clinic=clinic,
        name="Toronto",
        slug="toronto",
        address_line1="1 King St",
        city="Toronto",
        region="ON",
        postal_code="M5H 1A1",
        phone="416-555-0100",
        time_zone="America/Toronto",
    )
    # 05:30 UTC on a summer Monday is 01:30 Monday in Toronto but 22:30 Sunday in Vancouver.
    now = dt.datetime(2026, 7, 6, 5, 30, tzinfo=dt.UTC)
    weeks = {week.location.slug: week for week in locations_with_hours(now)}
    today = {slug: [day.name for day in week.days if day.is_today] for slug, week in weeks.items()}
    assert today == {location.slug: ["Sunday"], toronto.slug: ["Monday"]}


def test_a_week_always_has_seven_days_monday_first():
    week = week_of_hours([(2, dt.time(9), dt.time(17))], day_names=DAYS, today=2)
    assert [day.name for day in week] == DAYS
    assert [day.is_closed for day in week] == [True, True, False, True, True, True, True]
    assert week[2].periods == (Period(dt.time(9), dt.time(17)),) and week[2].is_today
