"""The clinic outcomes report: who reached a clinically important change, and follow-up rates.

Pure (no ORM, no request). Rules:

- A patient counts for an instrument when they have a baseline (first scored result, see
  ``progress``) whose date, in the clinic's zone, falls in the period.
- They reached session n when they have at least n signed needling sessions.
- Their change by session n compares the latest score measured after at most n sessions
  (``sessions_done <= n``, see ``progress.number_result``) with the baseline; it meets the
  MCID by ``scoring.change``. With no score after the baseline by then, it does not. So the
  questionnaire answered before visit 4 (3 sessions done) counts for "by session 3".
- Shares of patients and check-in response rates are whole percents (``whole_percent``);
  adverse-event rates are per 100 to two places (``safety.ae_rates.percent``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from imsclinic.outcomes.progress import ResultPoint, Series, build_series
from imsclinic.outcomes.scoring import INSTRUMENTS, Instrument, change
from imsclinic.safety.ae_rates import percent

MILESTONES = (3, 6, 10)


def whole_percent(count: int, denominator: int) -> int | None:
    """Return count as a whole percent of denominator (half up); None with no denominator.

    Rounded once, from the exact fraction, and never to 0 or 100 unless it is exactly that:
    199 of 200 shows 99, 1 of 300 shows 1.
    """
    if denominator <= 0:
        return None
    rounded = (count * 200 + denominator) // (2 * denominator)  # half up, in integers
    if count < denominator:
        rounded = min(rounded, 99)
    if count > 0:
        rounded = max(rounded, 1)
    return rounded


@dataclass(frozen=True)
class PatientCourse:
    patient_id: int
    points: list[ResultPoint]
    sessions: int


@dataclass(frozen=True)
class Cell:
    session: int
    reached: int
    met: int
    share: int | None  # whole percent of those who reached the session; None when none did


@dataclass(frozen=True)
class InstrumentRow:
    instrument: Instrument
    with_baseline: int
    cells: list[Cell]


def met_by_session(series: Series, session: int) -> bool:
    """Say whether the latest score after at most this many sessions meets the MCID."""
    baseline = series.baseline
    if baseline is None or baseline.score is None:
        return False
    latest = None
    for point in series.points:
        if point.score is not None and point.sessions_done <= session:
            latest = point
    if latest is None or latest is baseline:
        return False
    assert latest.score is not None
    return change(series.instrument.code, baseline.score, latest.score).meets_mcid


def _in_period(
    moment: dt.datetime, since: dt.date | None, until: dt.date | None, zone: ZoneInfo
) -> bool:
    day = moment.astimezone(zone).date()
    return (since is None or day >= since) and (until is None or day <= until)


def mcid_table(
    courses: list[PatientCourse],
    *,
    since: dt.date | None,
    until: dt.date | None,
    zone: ZoneInfo,
    milestones: tuple[int, ...] = MILESTONES,
) -> list[InstrumentRow]:
    """Count, per instrument and milestone session, who reached it and who met the MCID."""
    rows = []
    for code, inst in INSTRUMENTS.items():
        counted: list[tuple[Series, int]] = []
        for course in courses:
            if not any(p.instrument == code for p in course.points):
                continue
            series = build_series(code, course.points)
            if series.baseline is None or not _in_period(
                series.baseline.taken_at, since, until, zone
            ):
                continue
            counted.append((series, course.sessions))
        if not counted:
            continue
        cells = []
        for session in milestones:
            reached = [series for series, sessions in counted if sessions >= session]
            met = sum(1 for series in reached if met_by_session(series, session))
            cells.append(
                Cell(
                    session=session,
                    reached=len(reached),
                    met=met,
                    share=whole_percent(met, len(reached)),
                )
            )
        rows.append(InstrumentRow(instrument=inst, with_baseline=len(counted), cells=cells))
    return rows


@dataclass(frozen=True)
class FollowupRates:
    sent: int
    answered: int
    answered_in_time: int
    response_rate: int | None  # whole percent of those sent that were answered
    in_time_rate: int | None  # whole percent of those sent answered within the window
    bruising: int
    bruising_answered: int  # answered check-ins that answered the (optional) bruising question
    bruising_rate: Decimal | None  # per 100 check-ins that answered the bruising question
    red_flags: int
    red_flag_rate: Decimal | None  # per 100 answered check-ins
    soreness: int
    soreness_rate: Decimal | None  # per 100 answered check-ins


def followup_rates(
    *,
    sent: int,
    answered: int,
    answered_in_time: int,
    bruising: int,
    red_flags: int,
    soreness: int,
    bruising_answered: int | None = None,
) -> FollowupRates:
    """Turn follow-up counts into rates per 100 (sent, or answered for what was reported).

    Bruising is an optional question: its rate is per 100 check-ins that answered it
    (``bruising_answered``; all answered check-ins when not given).
    """
    asked = answered if bruising_answered is None else bruising_answered
    return FollowupRates(
        sent=sent,
        answered=answered,
        answered_in_time=answered_in_time,
        response_rate=whole_percent(answered, sent),
        in_time_rate=whole_percent(answered_in_time, sent),
        bruising=bruising,
        bruising_answered=asked,
        bruising_rate=percent(bruising, asked),
        red_flags=red_flags,
        red_flag_rate=percent(red_flags, answered),
        soreness=soreness,
        soreness_rate=percent(soreness, answered),
    )
