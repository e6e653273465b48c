"""Turn a location's opening periods into a readable week (pure: plain data in, plain data out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Period:
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class DayHours:
    weekday: int
    name: str
    periods: tuple[Period, ...]
    is_today: bool

    @property
    def is_closed(self) -> bool:
        return not self.periods


def week_of_hours(
    periods: Iterable[tuple[int, dt.time, dt.time]], *, day_names: Sequence[str], today: int
) -> list[DayHours]:
    """Return all seven days, Monday first, each with its periods in order (none means closed)."""
    by_day: dict[int, list[Period]] = {day: [] for day in range(7)}
    for weekday, opens, closes in periods:
        by_day[weekday].append(Period(opens, closes))
    return [
        DayHours(
            weekday=day,
            name=day_names[day],
            periods=tuple(sorted(by_day[day], key=lambda period: period.opens)),
            is_today=day == today,
        )
        for day in range(7)
    ]
