"""The free times nearest a wanted one: for a lost race and for a course's failed dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from imsclinic.scheduling.selectors import nearest_alternatives
from tests.factories.scheduling import MONDAY, NOW, at, book


def nearest(physio, assessment, around, **options):
    practitioner = physio.practitioner if physio is not None else None
    arguments: dict[str, Any] = {
        "service": assessment,
        "practitioner": practitioner,
        "location": options.pop("location", None),
        "around": around,
        "now": NOW,
    } | options
    return nearest_alternatives(**arguments)


@pytest.mark.django_db
class TestNearestAlternatives:
    def test_they_come_nearest_first_before_or_after_with_ties_earlier_first(
        self, physio, location, assessment, shifts
    ):
        # Around the lunch break: 13:00 is an hour after, 10:45 and 13:15 both 75 minutes
        # away (an hour's visit plus its ten-minute buffer must end by 12:00).
        slots = nearest(physio, assessment, at(12), location=location)
        assert [slot.start for slot in slots] == [
            at(13),
            at(10, 45),
            at(13, 15),
            at(10, 30),
            at(13, 30),
        ]
        assert {slot.practitioner_id for slot in slots} == {physio.practitioner.pk}

    def test_they_skip_booked_times(
        self, patient, patient_user, physio, location, assessment, shifts
    ):
        book(patient, physio, assessment, at(13), patient_user)
        # Taken 13:00-14:10: around 12:30, 10:45 and 14:15 are equally near, then 10:30.
        slots = nearest(physio, assessment, at(12, 30), location=location, limit=3)
        assert [slot.start for slot in slots] == [at(10, 45), at(14, 15), at(10, 30)]

    def test_the_limit_and_the_days_either_side_bound_the_answer(
        self, physio, location, assessment, shifts
    ):
        tuesday = MONDAY + dt.timedelta(days=1)
        slots = nearest(
            physio, assessment, at(12, day=tuesday), location=location, limit=100, days=0
        )
        assert slots
        assert {slot.start.date() for slot in slots} == {tuesday}
        wider = nearest(
            physio, assessment, at(12, day=tuesday), location=location, limit=100, days=1
        )
        assert {slot.start.date() for slot in wider} == {MONDAY, tuesday, tuesday + dt.timedelta(1)}
        assert len(nearest(physio, assessment, at(12), location=location, limit=2)) == 2

    def test_without_a_practitioner_every_practitioner_is_offered(
        self, physio, other_physio, location, assessment, shifts
    ):
        slots = nearest(None, assessment, at(12), location=location, limit=4)
        assert [slot.start for slot in slots] == [at(13), at(13), at(10, 45), at(10, 45)]
        assert {slot.practitioner_id for slot in slots} == {
            physio.practitioner.pk,
            other_physio.practitioner.pk,
        }

    def test_nothing_is_searched_before_today(self, physio, location, assessment, shifts):
        # A week and a day after the wanted time, the window either side is all in the past.
        later = at(12) + dt.timedelta(days=8)
        assert nearest(physio, assessment, at(12), location=location, now=later) == []

    def test_the_days_before_today_are_left_out(self, physio, location, assessment, shifts):
        # From Monday noon, Monday's remaining times are inside the 12 hours' notice.
        now = at(12)
        slots = nearest(physio, assessment, at(9), location=location, now=now, limit=100)
        assert slots
        assert min(slot.start for slot in slots) >= now + dt.timedelta(hours=12)

    def test_it_reads_the_schedule_once(
        self, physio, location, assessment, shifts, django_assert_max_num_queries
    ):
        practitioner = physio.practitioner
        with django_assert_max_num_queries(5):
            nearest_alternatives(
                service=assessment,
                practitioner=practitioner,
                location=location,
                around=at(12),
                now=NOW,
            )

    def test_a_naive_time_is_refused(self, physio, location, assessment, shifts):
        with pytest.raises(ValueError, match="aware"):
            nearest(physio, assessment, dt.datetime(2031, 3, 3, 12), location=location)
