"""The clinic report's pure rules: change by session n, and follow-up rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from imsclinic.outcomes.progress import ResultPoint, build_series
from imsclinic.outcomes.report import followup_rates, met_by_session, whole_percent

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def odi(week: int, score: float, sessions_done: int) -> ResultPoint:
    return ResultPoint("ODI", START + timedelta(weeks=week), score, sessions_done)


def test_the_form_before_visit_4_counts_for_by_session_3() -> None:
    # Default schedule: answered before visits 1 and 4, i.e. after 0 and 3 sessions.
    series = build_series("ODI", [odi(0, 46, 0), odi(3, 30, 3)])
    assert met_by_session(series, 3) is True
    assert met_by_session(series, 2) is False


def test_the_bruising_rate_is_per_check_in_that_answered_the_bruising_question() -> None:
    rates = followup_rates(
        sent=20,
        answered=10,
        answered_in_time=8,
        bruising=2,
        bruising_answered=4,
        red_flags=1,
        soreness=5,
    )
    assert rates.bruising_rate == Decimal("50.00")
    assert rates.red_flag_rate == Decimal("10.00")  # the others stay per answered check-in


def test_without_a_bruising_count_every_answered_check_in_is_the_base() -> None:
    rates = followup_rates(
        sent=20, answered=10, answered_in_time=8, bruising=2, red_flags=0, soreness=0
    )
    assert rates.bruising_rate == Decimal("20.00")


@pytest.mark.parametrize(
    ("count", "of", "shown"),
    [
        (1, 2, 50),
        (2, 3, 67),
        (1, 3, 33),
        (1, 8, 13),  # 12.5 rounds half up
        (199, 200, 99),  # not 100 while one patient has not
        (1, 300, 1),  # not 0 while one patient has
        (0, 7, 0),
        (7, 7, 100),
    ],
)
def test_shares_are_whole_percents_rounded_once_and_never_falsely_none_or_all(
    count: int, of: int, shown: int
) -> None:
    assert whole_percent(count, of) == shown


def test_a_share_of_nobody_is_no_number() -> None:
    assert whole_percent(0, 0) is None
    rates = followup_rates(
        sent=0, answered=0, answered_in_time=0, bruising=0, red_flags=0, soreness=0
    )
    assert rates.response_rate is None
