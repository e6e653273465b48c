"""Rotation keeps the newest backup of each recent day, week and month, and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest

from imsclinic.core.backup.rotation import (
    Policy,
    backup_name,
    made_at,
    parse_policy,
    plan,
    to_keep,
)

NIGHTLY = Policy(daily=14, weekly=8, monthly=12)


def nights(first: dt.date, count: int, *, hour: int = 10) -> list[dt.datetime]:
    """One backup a night for `count` nights from `first`, at hour:15 UTC."""
    return [
        dt.datetime.combine(first + dt.timedelta(days=n), dt.time(hour, 15), tzinfo=dt.UTC)
        for n in range(count)
    ]


def test_a_year_of_nightly_backups_thins_to_14_days_8_weeks_and_12_months() -> None:
    made = nights(dt.date(2025, 11, 17), 365)  # up to Monday 2026-11-16
    kept = {at.date() for at in to_keep(made, NIGHTLY)}
    last_14_nights = {dt.date(2026, 11, 3) + dt.timedelta(days=n) for n in range(14)}
    # The newest of each of the last 8 ISO weeks: this Monday, then Sundays back to October 4.
    sundays = {dt.date(2026, 10, 4) + dt.timedelta(weeks=n) for n in range(7)}
    weeks = {dt.date(2026, 11, 16)} | sundays
    # The newest of each of the last 12 months: this night, then the last night of each month.
    month_ends = {dt.date(2026, 11, 16), dt.date(2025, 12, 31)} | {
        dt.date(2026, month + 1, 1) - dt.timedelta(days=1) for month in range(1, 11)
    }
    assert kept == last_14_nights | weeks | month_ends
    assert len(kept) == 30


def test_the_newest_backup_is_always_kept() -> None:
    made = nights(dt.date(2026, 1, 1), 40)
    assert max(made) in to_keep(made, Policy(daily=1, weekly=0, monthly=0))


def test_two_backups_on_one_day_keep_only_the_later_one_for_that_day() -> None:
    morning = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    evening = dt.datetime(2026, 3, 2, 21, tzinfo=dt.UTC)
    assert to_keep([morning, evening], Policy(daily=7, weekly=0, monthly=0)) == {evening}


def test_a_gap_of_missed_nights_does_not_shorten_what_is_kept() -> None:
    # Days are counted among days that have a backup: a server off for three weeks still
    # keeps its 14 most recent nightly backups rather than losing them to the calendar.
    before_gap = nights(dt.date(2026, 5, 1), 20)
    after_gap = nights(dt.date(2026, 6, 10), 3)
    kept = to_keep(before_gap + after_gap, Policy(daily=14, weekly=0, monthly=0))
    assert kept == set(after_gap) | set(before_gap[-11:])


def test_nothing_is_removed_while_there_are_fewer_backups_than_the_policy_keeps() -> None:
    made = nights(dt.date(2026, 11, 1), 10)
    assert to_keep(made, NIGHTLY) == set(made)


def test_a_clock_set_years_ahead_cannot_make_it_remove_old_backups() -> None:
    made = nights(dt.date(2026, 11, 1), 14)
    future = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    kept = to_keep([*made, future], Policy(daily=14, weekly=0, monthly=0))
    assert future in kept
    assert len(kept) == 14  # only the oldest night gives way, as with any new backup


def test_the_plan_leaves_every_file_that_is_not_a_backup_alone() -> None:
    made = nights(dt.date(2026, 11, 1), 20)
    names = [backup_name(at) for at in made]
    others = [
        "notes.txt",
        ".imsclinic-20261101T101500Z.imsbackup.abc.partial",
        "imsclinic-2026.imsbackup",
        "imsclinic-20261399T999999Z.imsbackup",
    ]
    decided = plan(names + others, Policy(daily=5, weekly=0, monthly=0))
    assert decided.keep == sorted(names[-5:])
    assert decided.remove == sorted(names[:-5])
    assert not set(others) & set(decided.keep + decided.remove)


def test_names_carry_the_utc_time_and_read_back() -> None:
    at = dt.datetime(2026, 11, 16, 3, 15, 9, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    name = backup_name(at)
    assert name == "imsclinic-20261116T111509Z.imsbackup"
    assert made_at(name) == at


@pytest.mark.parametrize("text", ["14,8", "a,b,c", "0,8,12", "14,8,12,1", "-1,2,3"])
def test_a_policy_that_is_malformed_or_keeps_no_daily_backup_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--rotate"):
        parse_policy(text)


def test_a_policy_reads_daily_weekly_monthly() -> None:
    assert parse_policy(" 14, 8,12") == NIGHTLY
