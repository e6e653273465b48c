"""Which nightly backups to keep: the newest of each recent day, week and month.

Pure: names and datetimes in, names out. Nothing here looks at the clock, so a server whose
clock jumps cannot make it throw away backups: it counts days (weeks, months) that *have* a
backup, newest first, the way restic's --keep-daily/--keep-weekly/--keep-monthly do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FILE_PREFIX = "imsclinic-"
FILE_SUFFIX = ".imsbackup"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^imsclinic-(\d{8}T\d{6}Z)\.imsbackup$")


@dataclass(frozen=True)
class Policy:
    """How many days, ISO weeks and months to keep one backup for (the newest of each)."""

    daily: int
    weekly: int
    monthly: int


def parse_policy(text: str) -> Policy:
    """Read 'DAILY,WEEKLY,MONTHLY' (e.g. '14,8,12'); at least one daily backup is kept."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(
            f"--rotate takes three whole numbers DAILY,WEEKLY,MONTHLY such as 14,8,12; got {text!r}"
        )
    daily, weekly, monthly = (int(part) for part in parts)
    if daily < 1:
        raise ValueError("--rotate must keep at least one daily backup (the newest).")
    return Policy(daily=daily, weekly=weekly, monthly=monthly)


def backup_name(made_at: dt.datetime) -> str:
    """Return the file name of a backup made at this instant (UTC, to the second)."""
    return f"{FILE_PREFIX}{made_at.astimezone(dt.UTC).strftime(_STAMP)}{FILE_SUFFIX}"


def made_at(name: str) -> dt.datetime | None:
    """Return when a backup named by backup_name() was made, or None for any other name."""
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        return dt.datetime.strptime(match.group(1), _STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _day(at: dt.datetime) -> tuple[int, ...]:
    return (at.year, at.month, at.day)


def _week(at: dt.datetime) -> tuple[int, ...]:
    year, week, _weekday = at.isocalendar()
    return (year, week)


def _month(at: dt.datetime) -> tuple[int, ...]:
    return (at.year, at.month)


def to_keep(times: Iterable[dt.datetime], policy: Policy) -> set[dt.datetime]:
    """Return the instants to keep: the newest in each of the most recent periods that have one."""
    newest_first = sorted(set(times), reverse=True)
    keep: set[dt.datetime] = set()
    buckets: tuple[tuple[int, Callable[[dt.datetime], tuple[int, ...]]], ...] = (
        (policy.daily, _day),
        (policy.weekly, _week),
        (policy.monthly, _month),
    )
    for count, period in buckets:
        seen: set[tuple[int, ...]] = set()
        for at in newest_first:
            if len(seen) >= count:
                break
            key = period(at)
            if key not in seen:
                seen.add(key)
                keep.add(at)
    return keep


@dataclass(frozen=True)
class Plan:
    keep: list[str]
    remove: list[str]


def plan(names: Iterable[str], policy: Policy) -> Plan:
    """Split backup file names into those to keep and those to remove; others are left out."""
    dated = {name: at for name in names if (at := made_at(name)) is not None}
    kept_times = to_keep(dated.values(), policy)
    keep = sorted(name for name, at in dated.items() if at in kept_times)
    remove = sorted(name for name, at in dated.items() if at not in kept_times)
    return Plan(keep=keep, remove=remove)
