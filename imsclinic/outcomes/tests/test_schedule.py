"""When the questionnaires are due: baseline, then every N IMS visits; pain never."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imsclinic.outcomes.schedule import (
    PlanFacts,
    instruments_due,
    is_measure_visit,
    planned_instruments,
)

FULL = PlanFacts(region_instrument="ODI", has_psfs_activities=True, every_visits=3)


def test_it_asks_both_questionnaires_at_baseline() -> None:
    assert instruments_due(FULL, visit_number=1) == ["PSFS", "ODI"]


def test_it_asks_before_the_first_needling_visit_at_the_assessment_too() -> None:
    assert instruments_due(FULL, visit_number=0) == ["PSFS", "ODI"]


@pytest.mark.parametrize(("visit", "due"), [(2, False), (3, False), (4, True), (7, True)])
def test_it_repeats_them_every_third_visit_by_default(visit: int, due: bool) -> None:
    assert bool(instruments_due(FULL, visit_number=visit)) is due


def test_it_never_asks_the_patient_for_the_pain_rating_the_note_charts() -> None:
    for visit in range(1, 20):
        assert "NPRS" not in instruments_due(FULL, visit_number=visit)


def test_it_leaves_out_what_was_already_answered_for_the_visit() -> None:
    assert instruments_due(FULL, visit_number=4, already_answered={"ODI"}) == ["PSFS"]


def test_a_plan_without_activities_asks_only_the_region_questionnaire() -> None:
    plan = PlanFacts(region_instrument="NDI", has_psfs_activities=False, every_visits=2)
    assert instruments_due(plan, visit_number=3) == ["NDI"]
    assert planned_instruments(PlanFacts("", False, 2)) == []


def test_it_refuses_a_repeat_of_zero_visits() -> None:
    with pytest.raises(ValueError):
        is_measure_visit(3, 0)


@given(visit=st.integers(min_value=1, max_value=500), every=st.integers(min_value=1, max_value=20))
def test_it_is_due_exactly_at_visit_one_plus_a_multiple_of_every(visit: int, every: int) -> None:
    assert is_measure_visit(visit, every) == ((visit - 1) % every == 0)


@given(
    visit=st.integers(min_value=-3, max_value=200),
    every=st.integers(min_value=1, max_value=20),
    answered=st.sets(st.sampled_from(["PSFS", "ODI", "NPRS"])),
)
def test_what_is_due_is_always_planned_and_not_yet_answered(
    visit: int, every: int, answered: set[str]
) -> None:
    plan = PlanFacts(region_instrument="ODI", has_psfs_activities=True, every_visits=every)
    due = instruments_due(plan, visit_number=visit, already_answered=answered)
    assert set(due) <= {"PSFS", "ODI"} - answered


def test_with_every_visit_it_asks_each_time() -> None:
    plan = PlanFacts(region_instrument="LEFS", has_psfs_activities=True, every_visits=1)
    assert all(instruments_due(plan, visit_number=v) for v in range(1, 10))
