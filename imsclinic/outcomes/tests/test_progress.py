"""Progress series: baseline, latest, change, MCID band, PSFS activities, NPRS pairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from imsclinic.outcomes.progress import (
    Band,
    ResultPoint,
    SignedSession,
    build_all,
    build_series,
    format_score,
    mcid_band,
    number_result,
    session_pairs,
    summary,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(week: int) -> datetime:
    return START + timedelta(weeks=week)


def nprs(session: int, before: float | None, after: float | None = None) -> list[ResultPoint]:
    points = [ResultPoint("NPRS", at(session), before, session - 1, "before", [None], [], session)]
    if after is not None:
        points.append(
            ResultPoint(
                "NPRS",
                at(session) + timedelta(minutes=40),
                after,
                session,
                "after",
                session=session,
            )
        )
    return points


def test_it_takes_the_first_scored_result_as_baseline_and_the_last_as_latest() -> None:
    points = [
        *nprs(1, 7, 5),
        *nprs(2, 6, 4),
        *nprs(3, None),
        *nprs(4, 4, 3),
    ]
    series = build_series("NPRS", points)
    assert series.baseline is not None and series.baseline.score == 7
    assert series.latest is not None and series.latest.score == 4
    assert series.change is not None
    assert series.change.improvement == 3  # 7 -> 4, pain is better when lower
    assert series.change.meets_mcid is True


def test_it_leaves_the_after_needling_ratings_out_of_the_pain_trend() -> None:
    series = build_series("NPRS", [*nprs(1, 7, 2), *nprs(2, 6, 1)])
    assert [p.score for p in series.points] == [7, 6]


def test_it_keeps_an_unscored_result_in_the_table_but_not_as_baseline() -> None:
    points = [ResultPoint("ODI", at(0), None, 0), ResultPoint("ODI", at(1), 40.0, 1)]
    series = build_series("ODI", points)
    assert [p.score for p in series.points] == [None, 40.0]
    assert series.baseline is not None and series.baseline.score == 40.0
    assert series.points[0].is_baseline is False
    assert series.change is None  # only one scored result so far


def test_each_point_carries_its_change_from_baseline() -> None:
    points = [
        ResultPoint("ODI", at(0), 46.0, 0),
        ResultPoint("ODI", at(4), 40.0, 3),
        ResultPoint("ODI", at(6), 30.0, 6),
    ]
    series = build_series("ODI", points)
    first, second, third = series.points
    assert first.is_baseline and first.change is None
    assert second.change is not None
    assert second.change.improvement == 6  # 46 -> 40: below the 10-point MCID
    assert second.change.meets_mcid is False
    assert third.change is not None
    assert third.change.improvement == 16
    assert third.change.meets_mcid is True


def test_the_mcid_band_runs_from_baseline_towards_improvement_when_lower_is_better() -> None:
    assert mcid_band("NPRS", 7) == Band(low=5, high=7)
    assert mcid_band("ODI", 46) == Band(low=36, high=46)


def test_the_mcid_band_runs_upwards_when_higher_is_better() -> None:
    assert mcid_band("PSFS", 3) == Band(low=3, high=5)
    assert mcid_band("LEFS", 40) == Band(low=40, high=49)


def test_the_mcid_band_is_clipped_to_the_instruments_range() -> None:
    assert mcid_band("NPRS", 1) == Band(low=0, high=1)
    assert mcid_band("PSFS", 9) == Band(low=9, high=10)


def test_the_series_band_is_built_from_its_baseline() -> None:
    series = build_series("NPRS", [*nprs(1, 7), *nprs(2, 6)])
    assert series.band == Band(low=5, high=7)


def test_psfs_change_is_given_per_activity_matched_by_wording() -> None:
    labels = ["Sitting 1 hour", "Lifting my child", "Running 5 km"]
    points = [
        ResultPoint("PSFS", at(0), 3.0, 0, "", [2, 4, 3], labels),
        ResultPoint("PSFS", at(4), 5.0, 3, "", [5, 5, None], labels),
        ResultPoint("PSFS", at(6), 7.0, 6, "", [8, 6, 7], labels),
    ]
    series = build_series("PSFS", points)
    by_label = {a.label: a for a in series.activities}
    assert list(by_label) == labels
    assert by_label["Sitting 1 hour"].baseline == 2
    assert by_label["Sitting 1 hour"].latest == 8
    assert by_label["Sitting 1 hour"].change.improvement == 6
    assert by_label["Lifting my child"].change.improvement == 2
    assert by_label["Lifting my child"].change.meets_mcid is True
    assert by_label["Running 5 km"].latest == 7  # the unrated visit is skipped
    assert series.change is not None
    assert series.change.improvement == 4  # mean 3 -> 7


def test_it_pairs_each_sessions_nprs_before_and_after() -> None:
    points = [*nprs(1, 7, 4), *nprs(2, 6, None), *nprs(3, 5, 2)]
    pairs = session_pairs(points)
    assert [(p.session, p.before, p.after, p.immediate_change) for p in pairs] == [
        (1, 7, 4, 3),
        (2, 6, None, None),
        (3, 5, 2, 3),
    ]


def test_it_builds_a_series_per_instrument_in_the_catalogue_order() -> None:
    points = [
        ResultPoint("PSFS", at(0), 3.0, 0, "", [3, 3, 3], ["a", "b", "c"]),
        *nprs(1, 7, 5),
        ResultPoint("ODI", at(0), 40.0, 0),
    ]
    assert [s.instrument.code for s in build_all(points)] == ["NPRS", "PSFS", "ODI"]


SIGNED = [SignedSession(pk=10 + n, appointment_id=100 + n, start=at(n)) for n in (1, 4, 7)]


def done(**kwargs: object) -> tuple[int, int | None]:
    numbering = number_result(signed=SIGNED, **kwargs)  # type: ignore[arg-type]
    return numbering.sessions_done, numbering.session


def test_a_questionnaire_before_the_first_visit_is_the_baseline() -> None:
    assert done(taken_at=at(1) - timedelta(hours=1), appointment_id=101) == (0, 1)


def test_a_questionnaire_answered_for_visit_n_counts_the_sessions_before_it() -> None:
    # The default schedule asks at visits 1, 4, 7: the second visit's form is "after 1 session".
    assert done(taken_at=at(4) - timedelta(days=1), appointment_id=104) == (1, 2)
    assert done(taken_at=at(7) - timedelta(days=1), appointment_id=107) == (2, 3)


def test_a_questionnaire_keeps_its_number_once_its_visit_is_signed() -> None:
    unsigned = SIGNED[:2]
    before = number_result(
        signed=unsigned, taken_at=at(6), appointment_id=107, visit_start=at(7)
    ).sessions_done
    after = number_result(
        signed=SIGNED, taken_at=at(6), appointment_id=107, visit_start=at(7)
    ).sessions_done
    assert before == after == 2


def test_pain_before_needling_counts_n_minus_1_and_after_counts_n() -> None:
    assert done(taken_at=at(4), timing="before", session_id=14, appointment_id=104) == (1, 2)
    assert done(taken_at=at(4), timing="after", session_id=14, appointment_id=104) == (2, 2)


def test_a_result_tied_to_no_visit_counts_the_sessions_started_before_it() -> None:
    assert done(taken_at=at(0)) == (0, None)
    assert done(taken_at=at(1)) == (0, None)
    assert done(taken_at=at(4) + timedelta(days=3)) == (2, None)


@pytest.mark.parametrize(
    ("value", "text"), [(7.0, "7"), (46.666, "46.7"), (3.25, "3.2"), (0.0, "0")]
)
def test_scores_are_shown_with_at_most_one_decimal(value: float, text: str) -> None:
    assert format_score(value) == text


def test_the_summary_says_pain_came_down_by_more_than_patients_notice() -> None:
    series = build_series("NPRS", [*nprs(1, 7), *nprs(6, 3)])
    assert summary(series) == (
        "Pain has come down from 7 to 3, a change of 4 points — more than the 2 points "
        "that patients notice."
    )


def test_the_summary_says_when_the_change_is_not_yet_clinically_important() -> None:
    points = [ResultPoint("ODI", at(0), 46.0, 0), ResultPoint("ODI", at(4), 40.0, 3)]
    assert summary(build_series("ODI", points)) == (
        "Low back disability has come down from 46 to 40, a change of 6 points — not yet "
        "the 10 points that patients notice."
    )


def test_the_summary_names_a_change_for_the_worse() -> None:
    points = [
        ResultPoint("PSFS", at(0), 5.0, 0, "", [5, 5, 5], ["a", "b", "c"]),
        ResultPoint("PSFS", at(4), 4.0, 3, "", [4, 4, 4], ["a", "b", "c"]),
    ]
    assert summary(build_series("PSFS", points)) == (
        "The activity score has come down from 5 to 4, a change of 1 point for the worse."
    )


def test_the_summary_counts_thirty_percent_of_a_low_pain_baseline() -> None:
    series = build_series("NPRS", [*nprs(1, 3), *nprs(2, 2)])
    assert "30% or more" in summary(series)


def test_the_summary_with_one_score_waits_for_the_next() -> None:
    series = build_series("NPRS", nprs(1, 6))
    assert summary(series) == ("Pain: first score 6. The change shows from the next score on.")


def test_a_questionnaire_answered_two_visits_ahead_counts_the_sessions_done_when_answered() -> None:
    # Filled in for visit 3 (at week 7) before visit 1 (week 1): no session done yet.
    assert done(taken_at=at(0), appointment_id=107) == (0, None)
    assert done(taken_at=at(2), appointment_id=107) == (1, None)
    assert done(taken_at=at(6), appointment_id=107) == (2, 3)


def test_a_form_for_a_visit_later_cancelled_counts_the_sessions_done_when_answered() -> None:
    # Answered at week 2 for a visit at week 6 that was cancelled (never signed).
    numbering = number_result(signed=SIGNED, taken_at=at(2), appointment_id=999, visit_start=at(6))
    assert (numbering.sessions_done, numbering.session) == (1, None)


def test_an_after_rating_at_a_visit_not_signed_yet_counts_it_and_keeps_it_once_signed() -> None:
    unsigned = number_result(
        signed=SIGNED[:1],
        taken_at=at(4) + timedelta(minutes=40),
        timing="after",
        appointment_id=104,
        visit_start=at(4),
    )
    signed = number_result(
        signed=SIGNED[:2],
        taken_at=at(4) + timedelta(minutes=40),
        timing="after",
        appointment_id=104,
        visit_start=at(4),
    )
    assert unsigned.sessions_done == signed.sessions_done == 2


def test_a_paper_form_without_a_visit_counts_only_the_sessions_before_its_date() -> None:
    noon = at(4) + timedelta(hours=3)  # the paper's date at noon, after that morning's session
    assert done(taken_at=noon) == (2, None)
    assert done(taken_at=noon, day_start=at(4) - timedelta(hours=9)) == (1, None)
