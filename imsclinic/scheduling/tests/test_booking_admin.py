"""The owner keeps shifts, time off and closures in the clinic settings; nobody else can."""

from __future__ import annotations

import pytest
from django.urls import reverse

from imsclinic.scheduling.models import Shift
from tests.factories.clients import signed_in

PAGES = ("scheduling_shift", "scheduling_timeoff", "scheduling_clinicclosure")


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_the_owner_opens_the_schedule_settings(owner, page) -> None:
    client = signed_in(owner)
    assert client.get(reverse(f"owner_admin:{page}_changelist")).status_code == 200
    assert client.get(reverse(f"owner_admin:{page}_add")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_the_front_desk_cannot_change_schedules_there(front_desk, page) -> None:
    response = signed_in(front_desk).get(reverse(f"owner_admin:{page}_changelist"))
    assert response.status_code in {302, 403}


@pytest.mark.django_db
def test_a_shift_that_ends_before_it_starts_is_refused_with_a_message(owner, physio, location):
    response = signed_in(owner).post(
        reverse("owner_admin:scheduling_shift_add"),
        {
            "practitioner": physio.practitioner.pk,
            "location": location.pk,
            "weekday": 0,
            "start_time": "17:00",
            "end_time": "09:00",
            "valid_from": "2031-01-01",
            "breaks-TOTAL_FORMS": 0,
            "breaks-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "A shift must end after it starts" in response.content.decode()
    assert not Shift.objects.exists()
