"""Scoring of NPRS, PSFS, ODI, NDI, QuickDASH and LEFS: hand-worked vectors and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imsclinic.outcomes.scoring import INSTRUMENTS, change, mcid, odi_band, score


def answers_for(code: str, *, missing_allowed: bool = True) -> st.SearchStrategy[list[int | None]]:
    inst = INSTRUMENTS[code]
    item = st.integers(inst.item_min, inst.item_max)
    value = st.one_of(st.none(), item) if missing_allowed else item
    return st.lists(value, min_size=inst.min_items, max_size=inst.max_items)


# NPRS


def test_nprs_scores_the_rating_itself() -> None:
    result = score("NPRS", [7])
    assert result.value == 7.0
    assert result.reason is None
    assert result.version == "NPRS 0-10"


def test_nprs_left_blank_has_no_score_and_says_why() -> None:
    result = score("NPRS", [None])
    assert result.value is None
    assert result.reason


def test_nprs_refuses_a_rating_of_eleven() -> None:
    with pytest.raises(ValueError, match="between 0 and 10"):
        score("NPRS", [11])


# PSFS


def test_psfs_is_the_mean_of_the_rated_activities() -> None:
    assert score("PSFS", [2, 4, 6]).value == 4.0
    assert score("PSFS", [3, 4, 4, 5, 10]).value == pytest.approx(26 / 5)


def test_psfs_leaves_an_unrated_activity_out_of_the_mean() -> None:
    result = score("PSFS", [2, None, 6, 7])
    assert result.value == 5.0
    assert result.answered == 3


def test_psfs_with_no_activity_rated_has_no_score() -> None:
    result = score("PSFS", [None, None, None])
    assert result.value is None
    assert result.reason


@pytest.mark.parametrize("count", [2, 6])
def test_psfs_refuses_fewer_than_three_or_more_than_five_activities(count: int) -> None:
    with pytest.raises(ValueError, match="3 to 5"):
        score("PSFS", [5] * count)


# ODI and NDI


@pytest.mark.parametrize("code", ["ODI", "NDI"])
def test_disability_index_with_one_section_missing_drops_the_denominator_by_five(
    code: str,
) -> None:
    answers: list[int | None] = [2, 2, 2, 2, 2, 2, 2, 2, 2, None]
    result = score(code, answers)
    assert result.value == 40.0  # 18 / 45 x 100
    assert result.answered == 9


@pytest.mark.parametrize("code", ["ODI", "NDI"])
def test_disability_index_all_answered_is_sum_over_fifty(code: str) -> None:
    assert score(code, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]).value == 42.0
    assert score(code, [5] * 10).value == 100.0
    assert score(code, [0] * 10).value == 0.0


@pytest.mark.parametrize("code", ["ODI", "NDI"])
def test_disability_index_with_eight_answered_is_scored(code: str) -> None:
    result = score(code, [1, 1, 1, 1, 1, 1, 1, 1, None, None])
    assert result.value == 20.0  # 8 / 40 x 100


@pytest.mark.parametrize("code", ["ODI", "NDI"])
def test_disability_index_with_seven_answered_has_no_score_and_says_why(code: str) -> None:
    result = score(code, [1, 1, 1, 1, 1, 1, 1, None, None, None])
    assert result.value is None
    assert result.reason is not None
    assert "7" in result.reason


@pytest.mark.parametrize("code", ["ODI", "NDI"])
def test_disability_index_refuses_a_section_scored_six(code: str) -> None:
    with pytest.raises(ValueError, match="item 3"):
        score(code, [0, 0, 6, 0, 0, 0, 0, 0, 0, 0])


def test_odi_refuses_nine_sections() -> None:
    with pytest.raises(ValueError, match="takes 10 answers, got 9"):
        score("ODI", [1] * 9)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "minimal"),
        (20, "minimal"),
        (20.5, "moderate"),
        (21, "moderate"),
        (40, "moderate"),
        (41, "severe"),
        (60, "severe"),
        (61, "crippled"),
        (80, "crippled"),
        (81, "bed_bound"),
        (100, "bed_bound"),
    ],
)
def test_odi_bands_follow_the_published_cut_offs(value: float, band: str) -> None:
    assert odi_band(value) == band


def test_odi_band_refuses_a_score_above_one_hundred() -> None:
    with pytest.raises(ValueError):
        odi_band(100.1)


# QuickDASH


def test_quickdash_all_ones_is_zero_and_all_fives_is_one_hundred() -> None:
    assert score("QuickDASH", [1] * 11).value == 0.0
    assert score("QuickDASH", [5] * 11).value == 100.0


def test_quickdash_with_one_missing_uses_the_ten_answered() -> None:
    answers: list[int | None] = [3] * 10 + [None]  # sum 30 over 10 answered
    assert score("QuickDASH", answers).value == 50.0


def test_quickdash_with_two_missing_has_no_score() -> None:
    result = score("QuickDASH", [3] * 9 + [None, None])
    assert result.value is None
    assert result.reason


def test_quickdash_refuses_a_zero_answer() -> None:
    with pytest.raises(ValueError, match="between 1 and 5"):
        answers: list[int | None] = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        score("QuickDASH", answers)


# LEFS


def test_lefs_is_the_sum_of_the_twenty_items() -> None:
    assert score("LEFS", [4] * 20).value == 80.0
    answers: list[int | None] = [0] * 10
    answers += [3] * 10
    assert score("LEFS", answers).value == 30.0


def test_lefs_imputes_four_missing_items_with_the_mean_of_the_answered() -> None:
    answers: list[int | None] = [2] * 8 + [3] * 8 + [None] * 4  # sum 40 over 16
    result = score("LEFS", answers)
    assert result.value == 50.0  # 40 + 4 x 2.5


def test_lefs_rounds_the_imputed_total_to_the_nearest_point() -> None:
    # 19 answered summing 39: 39 x 20 / 19 = 41.05 -> 41.
    answers: list[int | None] = [2] * 18
    answers += [3, None]
    assert score("LEFS", answers).value == 41.0
    # 16 answered summing 39: 39 x 20 / 16 = 48.75 -> 49.
    assert score("LEFS", [3] * 12 + [0] * 2 + [1, 2] + [None] * 4).value == 49.0


def test_lefs_rounds_an_imputed_half_point_up_not_to_even() -> None:
    # 16 answered summing 26: 26 x 20 / 16 = 32.5 -> 33 (round-half-to-even would give 32).
    assert score("LEFS", [2] * 10 + [1] * 6 + [None] * 4).value == 33.0


def test_lefs_with_five_missing_has_no_score() -> None:
    result = score("LEFS", [2] * 15 + [None] * 5)
    assert result.value is None
    assert result.reason is not None
    assert "5" in result.reason


# Bad input


def test_an_unknown_instrument_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Unknown instrument 'SF-36'"):
        score("SF-36", [1])


def test_a_non_integer_answer_is_refused_not_treated_as_missing() -> None:
    with pytest.raises(ValueError, match="whole number"):
        score("NPRS", [2.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="whole number"):
        score("NPRS", [True])


# MCID and change


def test_each_instrument_has_the_mcid_from_the_shared_file() -> None:
    assert {code: mcid(code) for code in INSTRUMENTS} == {
        "NPRS": 2,
        "PSFS": 2,
        "ODI": 10,
        "NDI": 14,
        "QuickDASH": 14,
        "LEFS": 9,
    }


def test_a_fall_in_a_higher_is_worse_score_is_an_improvement() -> None:
    result = change("ODI", baseline=50, latest=38)
    assert result.improvement == 12
    assert result.difference == -12
    assert result.meets_mcid


def test_an_odi_change_of_nine_points_is_not_clinically_important() -> None:
    assert not change("ODI", baseline=50, latest=41).meets_mcid
    assert change("ODI", baseline=50, latest=40).meets_mcid


def test_a_rise_in_a_higher_is_better_score_is_an_improvement() -> None:
    assert change("LEFS", baseline=40, latest=49).meets_mcid
    assert not change("LEFS", baseline=40, latest=48).meets_mcid
    assert change("PSFS", baseline=3, latest=5).meets_mcid


def test_worsening_never_meets_the_mcid() -> None:
    result = change("NDI", baseline=20, latest=40)
    assert result.improvement == -20
    assert not result.meets_mcid


def test_nprs_two_points_meets_the_mcid_whatever_the_baseline() -> None:
    assert change("NPRS", baseline=10, latest=8).meets_mcid


def test_nprs_thirty_percent_of_a_low_baseline_meets_the_mcid_below_two_points() -> None:
    # 3 -> 2 is one point but 33% of the baseline.
    assert change("NPRS", baseline=3, latest=2).meets_mcid
    # 5 -> 4 is one point and only 20%.
    assert not change("NPRS", baseline=5, latest=4).meets_mcid


def test_nprs_from_zero_cannot_improve() -> None:
    assert not change("NPRS", baseline=0, latest=0).meets_mcid


def test_change_refuses_a_score_outside_the_instrument_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 80"):
        change("LEFS", baseline=81, latest=40)


# Properties


@pytest.mark.parametrize("code", list(INSTRUMENTS))
@given(data=st.data())
def test_every_score_lies_inside_the_instrument_range(code: str, data: st.DataObject) -> None:
    inst = INSTRUMENTS[code]
    result = score(code, data.draw(answers_for(code)))
    if result.value is None:
        assert result.reason
    else:
        assert inst.score_min <= result.value <= inst.score_max
        assert result.reason is None


@pytest.mark.parametrize("code", list(INSTRUMENTS))
@given(data=st.data())
def test_raising_one_answered_item_never_moves_the_score_the_wrong_way(
    code: str, data: st.DataObject
) -> None:
    inst = INSTRUMENTS[code]
    answers = data.draw(answers_for(code))
    raisable = [i for i, v in enumerate(answers) if v is not None and v < inst.item_max]
    if not raisable:
        return
    position = data.draw(st.sampled_from(raisable))
    raised = list(answers)
    old = answers[position]
    assert old is not None
    raised[position] = data.draw(st.integers(old + 1, inst.item_max))
    before, after = score(code, answers).value, score(code, raised).value
    assert (before is None) == (after is None)
    if before is not None and after is not None:
        # Every item here is scored so that a higher answer means more of the measured
        # quantity (more pain/disability for higher-is-worse, more function otherwise).
        assert after >= before


@pytest.mark.parametrize("code", ["ODI", "NDI"])
@given(data=st.data())
def test_disability_index_with_missing_items_equals_the_answered_items_rescaled(
    code: str, data: st.DataObject
) -> None:
    answers = data.draw(answers_for(code))
    given_items = [v for v in answers if v is not None]
    result = score(code, answers)
    if len(given_items) >= 8:
        assert result.value == pytest.approx(sum(given_items) / (5 * len(given_items)) * 100)
    else:
        assert result.value is None


@given(answers=answers_for("QuickDASH"))
def test_quickdash_with_one_missing_equals_the_answered_items_rescaled(
    answers: list[int | None],
) -> None:
    given_items = [v for v in answers if v is not None]
    result = score("QuickDASH", answers)
    if len(given_items) >= 10:
        assert result.value == pytest.approx((sum(given_items) / len(given_items) - 1) * 25)
    else:
        assert result.value is None


@given(answers=answers_for("LEFS"))
def test_lefs_with_missing_items_equals_the_answered_items_rescaled_to_twenty(
    answers: list[int | None],
) -> None:
    given_items = [v for v in answers if v is not None]
    result = score("LEFS", answers)
    if len(given_items) >= 16:
        exact = sum(given_items) * 20 / len(given_items)
        assert result.value is not None
        assert abs(result.value - exact) <= 0.5
        assert result.value == math.floor(exact + 0.5)  # nearest point, halves up
    else:
        assert result.value is None


@given(answers=answers_for("PSFS"))
def test_psfs_with_unrated_activities_equals_the_mean_of_the_rated_ones(
    answers: list[int | None],
) -> None:
    rated = [v for v in answers if v is not None]
    result = score("PSFS", answers)
    if rated:
        assert result.value == pytest.approx(sum(rated) / len(rated))
    else:
        assert result.value is None
