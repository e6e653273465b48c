"""Progress across a course of treatment: plain result points in, chart-ready series out.

Pure (no ORM, no request). The caller turns stored results into ``ResultPoint``s with
``number_result`` (the one numbering used by the pages, the report and the API):

- ``sessions_done``: how many signed needling sessions the patient had completed when the
  result was measured (0 = baseline, before treatment). A questionnaire answered for visit N
  (portal, paper, API: before needling) and the pain rating before needling at session N
  count N - 1; the rating after needling at session N counts N. A result for a visit not
  signed (yet) counts the sessions signed before that visit (plus that visit for a rating
  after needling), so signing it changes nothing. A result tied to a visit never counts more
  sessions than had started when it was taken (answered visits ahead, or for a visit later
  cancelled). One tied to no visit counts the sessions whose visit started before it was
  taken; a paper form without a visit (dated, not timed) counts those before its date.
- ``session``: the plain number of the signed session (1 = first) the result was measured
  at, else None (also when it was answered before the session it is tied to was due); the
  per-session before/after pain chart uses it.

Rules:

- One series per instrument. NPRS's trend uses the ratings taken *before* needling (and
  ratings taken outside a session): the rating after needling is the session's immediate
  effect and is shown separately, paired with the rating before it, so the trend shows the
  cumulative effect from visit to visit.
- Baseline is the first scored result; latest is the last scored result. A result that could
  not be scored stays in the table (with its reason elsewhere) but is never a baseline.
- Change uses ``scoring.change`` (improvement in the instrument's improving direction, and
  whether it meets the MCID; NPRS also counts 30% of the baseline).
- The MCID band is the range of scores that would not yet be a clinically important change
  from baseline: from the baseline to baseline -/+ MCID in the improving direction, clipped
  to the instrument's range. NPRS's band uses the fixed 2 points (its 30% rule can still
  call a point inside the band clinically important on a low baseline).
- PSFS: the activities are matched by their wording (the patient's own words, kept across
  the course); each activity gets its own baseline, latest and change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext, ngettext

from imsclinic.outcomes.scoring import INSTRUMENTS, Change, Instrument, change

BEFORE = "before"
AFTER = "after"


@dataclass(frozen=True)
class ResultPoint:
    instrument: str
    taken_at: datetime
    score: float | None
    sessions_done: int
    timing: str = ""
    answers: list[int | None] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    session: int | None = None  # the signed session it was measured at (1 = first)
    result_id: int | None = None  # the stored result, to strike it out


@dataclass(frozen=True)
class SignedSession:
    pk: int
    appointment_id: int
    start: datetime


@dataclass(frozen=True)
class Numbering:
    sessions_done: int
    session: int | None


def number_result(
    *,
    signed: list[SignedSession],
    taken_at: datetime,
    timing: str = "",
    session_id: int | None = None,
    appointment_id: int | None = None,
    visit_start: datetime | None = None,
    day_start: datetime | None = None,
) -> Numbering:
    """Number a result by the signed sessions (ascending) done when it was measured."""
    for index, found in enumerate(signed, start=1):
        if session_id is not None and found.pk == session_id:
            return Numbering(sessions_done=index if timing == AFTER else index - 1, session=index)
    extra = 1 if timing == AFTER else 0
    # Answered before this moment: never more sessions than had started when it was taken.
    moment = day_start if day_start is not None and appointment_id is None else taken_at
    by_time = sum(1 for s in signed if s.start < moment)
    if appointment_id is not None:
        number = next(
            (
                n
                for n, found in enumerate(signed, start=1)
                if found.appointment_id == appointment_id
            ),
            None,
        )
        if number is not None:
            done = min(number - 1, by_time)
            return Numbering(
                sessions_done=done + extra, session=number if done == number - 1 else None
            )
        if visit_start is not None:
            by_visit = sum(1 for s in signed if s.start < visit_start)
            return Numbering(sessions_done=min(by_visit, by_time) + extra, session=None)
    return Numbering(sessions_done=by_time, session=None)


@dataclass(frozen=True)
class SeriesPoint:
    taken_at: datetime
    sessions_done: int
    score: float | None
    is_baseline: bool
    change: Change | None  # None for the baseline itself and for unscored points
    result_id: int | None = None


@dataclass(frozen=True)
class Band:
    low: float
    high: float


@dataclass(frozen=True)
class ActivityChange:
    label: str
    baseline: float
    latest: float
    change: Change


@dataclass(frozen=True)
class Series:
    instrument: Instrument
    points: list[SeriesPoint]
    baseline: SeriesPoint | None
    latest: SeriesPoint | None
    change: Change | None  # baseline -> latest; None until there are two scored points
    band: Band | None
    activities: list[ActivityChange]


@dataclass(frozen=True)
class SessionPair:
    session: int
    taken_at: datetime
    before: float | None
    after: float | None
    immediate_change: float | None  # before - after: positive = less pain after needling
    before_id: int | None = None  # the stored results, to strike them out
    after_id: int | None = None


def mcid_band(code: str, baseline: float) -> Band:
    """Return the scores that would not yet be a clinically important change from baseline."""
    inst = INSTRUMENTS[code]
    if inst.higher_is_better:
        return Band(low=baseline, high=min(inst.score_max, baseline + inst.mcid))
    return Band(low=max(inst.score_min, baseline - inst.mcid), high=baseline)


def _in_trend(point: ResultPoint) -> bool:
    return not (point.instrument == "NPRS" and point.timing == AFTER)


def build_series(code: str, points: list[ResultPoint]) -> Series:
    """Build one instrument's series from its points (any order)."""
    inst = INSTRUMENTS[code]
    mine = sorted(
        (p for p in points if p.instrument == code and _in_trend(p)),
        key=lambda p: (p.taken_at, p.sessions_done),
    )
    baseline_point = next((p for p in mine if p.score is not None), None)
    series_points: list[SeriesPoint] = []
    baseline: SeriesPoint | None = None
    latest: SeriesPoint | None = None
    for point in mine:
        is_baseline = point is baseline_point
        point_change = None
        if baseline_point is not None and point.score is not None and not is_baseline:
            assert baseline_point.score is not None
            point_change = change(code, baseline_point.score, point.score)
        made = SeriesPoint(
            taken_at=point.taken_at,
            sessions_done=point.sessions_done,
            score=point.score,
            is_baseline=is_baseline,
            change=point_change,
            result_id=point.result_id,
        )
        series_points.append(made)
        if is_baseline:
            baseline = made
        if point.score is not None:
            latest = made
    overall = latest.change if latest is not None and latest is not baseline else None
    band = mcid_band(code, baseline.score) if baseline and baseline.score is not None else None
    activities = _activity_changes(mine) if code == "PSFS" else []
    return Series(
        instrument=inst,
        points=series_points,
        baseline=baseline,
        latest=latest,
        change=overall,
        band=band,
        activities=activities,
    )


def _activity_changes(points: list[ResultPoint]) -> list[ActivityChange]:
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    order: list[str] = []
    for point in points:
        for label, value in zip(point.labels, point.answers, strict=False):
            if value is None:
                continue
            if label not in first:
                first[label] = float(value)
                order.append(label)
            last[label] = float(value)
    return [
        ActivityChange(
            label=label,
            baseline=first[label],
            latest=last[label],
            change=change("PSFS", first[label], last[label]),
        )
        for label in order
    ]


def build_all(points: list[ResultPoint]) -> list[Series]:
    """Build a series for every instrument that has at least one point, in INSTRUMENTS order."""
    present = {p.instrument for p in points if _in_trend(p)}
    return [build_series(code, points) for code in INSTRUMENTS if code in present]


def session_pairs(points: list[ResultPoint]) -> list[SessionPair]:
    """Pair each signed session's NPRS before and after needling, by plain session number."""
    by_session: dict[int, dict[str, ResultPoint]] = {}
    for point in points:
        if point.instrument != "NPRS" or point.timing not in (BEFORE, AFTER):
            continue
        if point.session is None:
            continue
        by_session.setdefault(point.session, {})[point.timing] = point
    pairs = []
    for number in sorted(by_session):
        found = by_session[number]
        before = found.get(BEFORE)
        after = found.get(AFTER)
        before_score = before.score if before else None
        after_score = after.score if after else None
        first = before or after
        assert first is not None
        pairs.append(
            SessionPair(
                session=number,
                taken_at=first.taken_at,
                before=before_score,
                after=after_score,
                immediate_change=(
                    before_score - after_score
                    if before_score is not None and after_score is not None
                    else None
                ),
                before_id=before.result_id if before else None,
                after_id=after.result_id if after else None,
            )
        )
    return pairs


def format_score(value: float) -> str:
    """Format a score for people: at most one decimal, no trailing zero."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def points_text(value: float) -> str:
    """Say a number of points, singular for exactly one."""
    text = format_score(value)
    return ngettext("%(n)s point", "%(n)s points", 1 if text == "1" else 2) % {"n": text}


def subject(code: str) -> str:
    """Name what an instrument measures, in plain words."""
    return {
        "NPRS": gettext("Pain"),
        "PSFS": gettext("The activity score"),
        "ODI": gettext("Low back disability"),
        "NDI": gettext("Neck disability"),
        "QuickDASH": gettext("Arm, shoulder and hand disability"),
        "LEFS": gettext("Leg function"),
    }[code]


def summary(series: Series) -> str:
    """Say in one plain sentence how the instrument has moved since the baseline."""
    code = series.instrument.code
    what = subject(code)
    values = {"what": what}
    if series.baseline is None or series.baseline.score is None:
        return gettext("%(what)s: no score yet.") % values
    values["first"] = format_score(series.baseline.score)
    if series.change is None:
        return (
            gettext("%(what)s: first score %(first)s. The change shows from the next score on.")
            % values
        )
    result = series.change
    values["latest"] = format_score(result.latest)
    values["amount"] = points_text(abs(result.difference))
    values["mcid"] = points_text(result.mcid)
    if result.difference == 0:
        return gettext("%(what)s is unchanged at %(first)s.") % values
    if result.difference < 0:
        moved = gettext("%(what)s has come down from %(first)s to %(latest)s") % values
    else:
        moved = gettext("%(what)s has gone up from %(first)s to %(latest)s") % values
    values["moved"] = moved
    if result.improvement < 0:
        return gettext("%(moved)s, a change of %(amount)s for the worse.") % values
    if result.meets_mcid and result.improvement > result.mcid:
        return (
            gettext(
                "%(moved)s, a change of %(amount)s — more than the %(mcid)s that patients notice."
            )
            % values
        )
    if result.meets_mcid and result.improvement >= result.mcid - 1e-9:
        return (
            gettext("%(moved)s, a change of %(amount)s — the %(mcid)s that patients notice.")
            % values
        )
    if result.meets_mcid:
        return (
            gettext(
                "%(moved)s, a change of %(amount)s — 30%% or more of the starting pain, "
                "which patients notice."
            )
            % values
        )
    return (
        gettext("%(moved)s, a change of %(amount)s — not yet the %(mcid)s that patients notice.")
        % values
    )
