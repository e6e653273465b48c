"""Scoring of the outcome measures: plain answers in, a score out (no ORM, no request).

The rules follow /shared/domain/outcome-measures.md and the publications it cites. Answers
are item values in item order; ``None`` is an item the patient left blank. A blank item is
a *missing* item and is handled by the instrument's missing-item rule; a value outside the
item range, the wrong number of items or an unknown instrument is *bad input* and raises
``ValueError`` (it is never silently treated as missing).

Rules, per instrument:

- NPRS: one item, 0-10; the score is the rating. Blank: no score.
- PSFS: one rating per patient-named activity, 3-5 activities, each 0-10. The score is the
  mean of the *rated* activities (the published rule): an activity left unrated at a visit
  is left out of the mean rather than guessed, because the activities are the patient's own
  and a made-up rating for one of them would be a guess about that activity. Change is also
  computed per activity elsewhere, so nothing is lost. No activity rated: no score.
- ODI (v2.1a) and NDI: 10 items, each 0-5; score = sum / (5 x answered) x 100. Scored only
  when at least 8 of the 10 are answered; otherwise no score, with the reason.
- QuickDASH: 11 items, each 1-5; score = ((sum / answered) - 1) x 25. Not scored when more
  than one item is missing (so at least 10 answered).
- LEFS: 20 items, each 0-4; score = sum, 0-80. Up to 4 missing items are imputed with the
  mean of the answered items; with 5 or more missing there is no score. Rounding: the
  imputed *total* (sum x 20 / answered, computed exactly with fractions) is rounded to the
  nearest whole point, halves rounded up. The total is rounded once rather than each imputed
  item separately so the rounding error is at most half a point however many items were
  imputed; halves go up (not Python's round-half-to-even) so that equal inputs always give
  the clinically conventional result, e.g. 58.5 -> 59.

Scores are computed exactly with ``fractions.Fraction`` and returned as the nearest float, so
18/45 x 100 is exactly 40.0. Display rounding is the caller's business.

MCID (``mcid``/``change``): improvement is the change from baseline (first) to latest in the
instrument's improving direction (baseline - latest when higher is worse). It meets the MCID
when it is at least the instrument's MCID. NPRS's published rule is "2 points or 30%": an
NPRS improvement meets it when it is at least 2 points OR at least 30% of the baseline
(baseline above 0); so on a low baseline one point can count (3 -> 2 is 33%), which
matches the file's note that 1 point is the minimum for chronic musculoskeletal pain.
For ODI the file gives 10-12 points; this system uses 10 (the lower bound,
which equals the MDC), so a change of 10 counts as clinically important.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils.translation import gettext


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    min_items: int
    max_items: int
    item_min: int
    item_max: int
    score_min: float
    score_max: float
    higher_is_better: bool
    mcid: float
    mcid_unit: str


INSTRUMENTS: dict[str, Instrument] = {
    "NPRS": Instrument(
        code="NPRS",
        name="Numeric Pain Rating Scale",
        version="NPRS 0-10",
        min_items=1,
        max_items=1,
        item_min=0,
        item_max=10,
        score_min=0,
        score_max=10,
        higher_is_better=False,
        mcid=2,
        mcid_unit="points (or 30% of baseline)",
    ),
    "PSFS": Instrument(
        code="PSFS",
        name="Patient-Specific Functional Scale",
        version="PSFS 0-10",
        min_items=3,
        max_items=5,
        item_min=0,
        item_max=10,
        score_min=0,
        score_max=10,
        higher_is_better=True,
        mcid=2,
        mcid_unit="points (mean)",
    ),
    "ODI": Instrument(
        code="ODI",
        name="Oswestry Disability Index",
        version="ODI v2.1a",
        min_items=10,
        max_items=10,
        item_min=0,
        item_max=5,
        score_min=0,
        score_max=100,
        higher_is_better=False,
        mcid=10,
        mcid_unit="percentage points",
    ),
    "NDI": Instrument(
        code="NDI",
        name="Neck Disability Index",
        version="NDI 1991",
        min_items=10,
        max_items=10,
        item_min=0,
        item_max=5,
        score_min=0,
        score_max=100,
        higher_is_better=False,
        mcid=14,
        mcid_unit="percentage points",
    ),
    "QuickDASH": Instrument(
        code="QuickDASH",
        name="Quick Disabilities of the Arm, Shoulder and Hand",
        version="QuickDASH 2005",
        min_items=11,
        max_items=11,
        item_min=1,
        item_max=5,
        score_min=0,
        score_max=100,
        higher_is_better=False,
        mcid=14,
        mcid_unit="points",
    ),
    "LEFS": Instrument(
        code="LEFS",
        name="Lower Extremity Functional Scale",
        version="LEFS 1999",
        min_items=20,
        max_items=20,
        item_min=0,
        item_max=4,
        score_min=0,
        score_max=80,
        higher_is_better=True,
        mcid=9,
        mcid_unit="points",
    ),
}

NPRS_MCID_FRACTION = Fraction(3, 10)
DISABILITY_MIN_ANSWERED = 8
QUICKDASH_MAX_MISSING = 1
LEFS_MAX_MISSING = 4


@dataclass(frozen=True)
class Score:
    instrument: str
    version: str
    value: float | None
    reason: str | None
    answered: int


@dataclass(frozen=True)
class Change:
    instrument: str
    baseline: float
    latest: float
    difference: float  # latest - baseline, as measured
    improvement: float  # in the improving direction: positive = better
    mcid: float
    meets_mcid: bool


def get_instrument(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except KeyError:
        known = ", ".join(INSTRUMENTS)
        raise ValueError(f"Unknown instrument {code!r}; known instruments: {known}.") from None


def mcid(code: str) -> float:
    return get_instrument(code).mcid


def _check_answers(inst: Instrument, answers: list[int | None]) -> list[int]:
    count = len(answers)
    if not inst.min_items <= count <= inst.max_items:
        expected = (
            str(inst.min_items)
            if inst.min_items == inst.max_items
            else f"{inst.min_items} to {inst.max_items}"
        )
        raise ValueError(f"{inst.code} takes {expected} answers, got {count}.")
    for position, value in enumerate(answers, start=1):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"{inst.code} item {position} must be a whole number or blank, got {value!r}."
            )
        if not inst.item_min <= value <= inst.item_max:
            raise ValueError(
                f"{inst.code} item {position} must be between {inst.item_min} and "
                f"{inst.item_max}, got {value}."
            )
    return [value for value in answers if value is not None]


def _round_half_up(value: Fraction) -> int:
    return int(
        (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )


def score(instrument: str, answers: list[int | None]) -> Score:
    """Score one completed questionnaire, or say why it cannot be scored."""
    inst = get_instrument(instrument)
    given = _check_answers(inst, answers)
    answered = len(given)
    missing = len(answers) - answered
    total = sum(given)

    def scored(value: Fraction | int) -> Score:
        return Score(inst.code, inst.version, float(value), None, answered)

    def unscored(reason: str) -> Score:
        return Score(inst.code, inst.version, None, reason, answered)

    if inst.code == "NPRS":
        if answered == 0:
            return unscored(gettext("No pain rating was given."))
        return scored(total)
    if inst.code == "PSFS":
        if answered == 0:
            return unscored(gettext("None of the activities was rated."))
        return scored(Fraction(total, answered))
    if inst.code in ("ODI", "NDI"):
        if answered < DISABILITY_MIN_ANSWERED:
            return unscored(
                gettext(
                    "Only %(answered)d of 10 items were answered; at least %(needed)d are "
                    "needed for a valid score."
                )
                % {"answered": answered, "needed": DISABILITY_MIN_ANSWERED}
            )
        return scored(Fraction(total * 100, 5 * answered))
    if inst.code == "QuickDASH":
        if missing > QUICKDASH_MAX_MISSING:
            return unscored(
                gettext("%(missing)d of 11 items were left blank; QuickDASH allows at most one.")
                % {"missing": missing}
            )
        return scored((Fraction(total, answered) - 1) * 25)
    # LEFS
    if missing > LEFS_MAX_MISSING:
        return unscored(
            gettext("%(missing)d of 20 items were left blank; LEFS allows at most four.")
            % {"missing": missing}
        )
    return scored(_round_half_up(Fraction(total * 20, answered)))


def change(instrument: str, baseline: float, latest: float) -> Change:
    """Compare the latest score with the baseline in the instrument's improving direction."""
    inst = get_instrument(instrument)
    for label, value in (("baseline", baseline), ("latest", latest)):
        if not inst.score_min <= value <= inst.score_max:
            raise ValueError(
                f"{inst.code} {label} score must be between {inst.score_min:g} and "
                f"{inst.score_max:g}, got {value}."
            )
    difference = latest - baseline
    improvement = difference if inst.higher_is_better else -difference
    # Compare exactly (scores such as 33.33... come from fractions) with a tiny tolerance.
    epsilon = 1e-9
    meets = improvement >= inst.mcid - epsilon
    if inst.code == "NPRS" and baseline > 0 and improvement > 0:
        meets = meets or improvement >= float(NPRS_MCID_FRACTION) * baseline - epsilon
    return Change(
        instrument=inst.code,
        baseline=baseline,
        latest=latest,
        difference=difference,
        improvement=improvement,
        mcid=inst.mcid,
        meets_mcid=meets,
    )


ODI_BANDS: tuple[tuple[float, str], ...] = (
    (20, "minimal"),
    (40, "moderate"),
    (60, "severe"),
    (80, "crippled"),
    (100, "bed_bound"),
)


def odi_band(value: float) -> str:
    """The ODI band of a score: 0-20 minimal ... 81-100 bed-bound or exaggerating
    (code ``bed_bound``).

    The published bands are whole numbers with gaps (20 | 21); a score between them
    (20.5, possible with a missing section) belongs to the higher band, i.e. each band's
    upper bound is inclusive and anything above it is in the next band.
    """
    if not 0 <= value <= 100:
        raise ValueError(f"An ODI score must be between 0 and 100, got {value}.")
    for upper, band in ODI_BANDS:
        if value <= upper:
            return band
    raise AssertionError("unreachable")  # pragma: no cover
