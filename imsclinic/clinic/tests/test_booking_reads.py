"""The booking's reads of its practitioner, their places and its service, one statement each."""

from __future__ import annotations

from typing import Any

import pytest

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic, Location, Service
from imsclinic.clinic.selectors import bookable_service, practitioner_places

pytestmark = pytest.mark.django_db


def second_location(clinic: Clinic, slug: str, *, is_active: bool = True) -> Location:
    return Location.objects.create(
        clinic=clinic,
        name=slug.title(),
        slug=slug,
        address_line1="200 Example St",
        city="Vancouver",
        region="BC",
        postal_code="V5K 0A1",
        time_zone="America/Vancouver",
        is_active=is_active,
    )


def test_a_practitioner_comes_with_each_active_place_and_its_clinic(
    physio: User, location: Location, clinic: Clinic, django_assert_num_queries: Any
) -> None:
    practitioner = physio.practitioner
    closed = second_location(clinic, "closed-branch", is_active=False)
    other = second_location(clinic, "main-street")
    practitioner.locations.add(closed, other)
    with django_assert_num_queries(1):
        found, places = practitioner_places(practitioner.pk)
        assert found == practitioner and found.display_name == practitioner.display_name
        assert places == [location, other]  # by location, without the closed one
        assert [place.clinic.reminder_hours for place in places] == [clinic.reminder_hours] * 2
        assert places[0].zone.key == "America/Vancouver"


def test_an_inactive_or_unknown_practitioner_or_one_without_places_finds_nothing(
    physio: User, location: Location
) -> None:
    practitioner = physio.practitioner
    practitioner.is_active = False
    practitioner.save()
    assert practitioner_places(practitioner.pk) == (None, [])
    assert practitioner_places(practitioner.pk + 1000) == (None, [])
    practitioner.is_active = True
    practitioner.save()
    location.is_active = False
    location.save()
    assert practitioner_places(practitioner.pk) == (None, [])


def test_a_service_is_found_by_slug_only_while_offered_and_online_only_when_bookable(
    ims_service: Service,
) -> None:
    found = bookable_service("ims-follow-up", online_only=True)
    assert found == ims_service and found.price == ims_service.price
    assert bookable_service("no-such-service", online_only=False) is None
    ims_service.bookable_online = False
    ims_service.save()
    assert bookable_service("ims-follow-up", online_only=True) is None
    assert bookable_service("ims-follow-up", online_only=False) == ims_service
    ims_service.is_active = False
    ims_service.save()
    assert bookable_service("ims-follow-up", online_only=False) is None
