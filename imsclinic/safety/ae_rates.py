"""Adverse event rates: the clinic's own beside the published ones. Pure: no ORM, no request.

Published figures (per 100 treatments or sessions), as cited in the clinic's safety notes:
- Brady et al. 2014, J Man Manip Ther 22(3):134-40: 7,629 dry-needling treatments by 39
  physiotherapists; mild adverse events in 19.18% of treatments; no significant events (upper
  bound of risk 0.04%).
- Boyce et al. 2020, Int J Sports Phys Ther 15(1):103-113: 20,464 sessions by 420 physical
  therapists; minor adverse events in 36.7% of sessions; 20 major events (about 1 per 1,000).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Source:
    key: str
    citation: str
    denominator: int
    unit: str  # what was counted: "treatments" or "sessions"


BRADY_2014 = Source(
    "brady_2014",
    "Brady et al. 2014, J Man Manip Ther 22(3):134-40",
    7629,
    "treatments",
)
BOYCE_2020 = Source(
    "boyce_2020",
    "Boyce et al. 2020, Int J Sports Phys Ther 15(1):103-113",
    20464,
    "sessions",
)
SOURCES = (BRADY_2014, BOYCE_2020)

# Percent of treatments/sessions, by event type; a type a study did not report is absent.
PUBLISHED_BY_TYPE: dict[str, dict[str, Decimal]] = {
    "brady_2014": {
        "bruising": Decimal("7.55"),
        "bleeding": Decimal("4.65"),
        "pain_during": Decimal("3.01"),
        "pain_after": Decimal("2.19"),
        "aggravation": Decimal("0.88"),
        "drowsiness": Decimal("0.26"),
        "headache": Decimal("0.14"),
        "nausea": Decimal("0.13"),
    },
    "boyce_2020": {
        "bleeding": Decimal("16"),
        "bruising": Decimal("7.7"),
        "pain_during": Decimal("5.9"),
    },
}

# By severity. Brady's "significant" is zero events with an upper bound of 0.04%; Boyce's
# "major" events (20 of 20,464, about 0.1%) are set beside significant and serious together.
PUBLISHED_MILD = {"brady_2014": Decimal("19.18"), "boyce_2020": Decimal("36.7")}
BRADY_SIGNIFICANT_UPPER_BOUND = Decimal("0.04")
BOYCE_MAJOR_EVENTS = 20

HUNDRED = Decimal(100)
PLACES = Decimal("0.01")


def percent(count: int, denominator: int) -> Decimal | None:
    """Return count per 100 of denominator to two places (half up); None with no denominator."""
    if denominator <= 0:
        return None
    return (Decimal(count) * HUNDRED / Decimal(denominator)).quantize(PLACES, ROUND_HALF_UP)


# The rule of three is a fair approximation only from about thirty observations on.
RULE_OF_THREE_MIN = 30


def upper_bound_when_none(denominator: int) -> Decimal | None:
    """Return the 95% upper bound (rule of three, as a percent) when no event was seen.

    None below thirty sessions, where the approximation says nothing useful.
    """
    if denominator < RULE_OF_THREE_MIN:
        return None
    return (Decimal(3) * HUNDRED / Decimal(denominator)).quantize(PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class RateLine:
    key: str  # a type or severity code
    count: int
    rate: Decimal | None  # per 100 signed sessions
    upper_bound: Decimal | None  # only when count is 0
    published: dict[str, Decimal | None]  # source key -> percent (None: not reported)


@dataclass(frozen=True)
class Report:
    sessions: int
    events: int
    events_rate: Decimal | None
    sessions_with_event: int
    sessions_with_event_rate: Decimal | None
    by_severity: list[RateLine]
    by_type: list[RateLine]


def build_report(
    *,
    sessions: int,
    sessions_with_event: int,
    by_severity: Mapping[str, int],
    by_type: Mapping[str, int],
    severities: Sequence[str],
    types: Sequence[str],
) -> Report:
    """Turn counts into rates per 100 signed sessions, each beside the published rates."""

    def line(key: str, count: int, published: dict[str, Decimal | None]) -> RateLine:
        return RateLine(
            key=key,
            count=count,
            rate=percent(count, sessions),
            upper_bound=upper_bound_when_none(sessions) if count == 0 else None,
            published=published,
        )

    boyce_major = percent(BOYCE_MAJOR_EVENTS, BOYCE_2020.denominator)
    severity_published: dict[str, dict[str, Decimal | None]] = {
        "mild": dict(PUBLISHED_MILD),
        "significant": {"brady_2014": Decimal("0"), "boyce_2020": boyce_major},
        "serious": {"brady_2014": Decimal("0"), "boyce_2020": boyce_major},
    }
    events = sum(by_severity.get(key, 0) for key in severities)
    return Report(
        sessions=sessions,
        events=events,
        events_rate=percent(events, sessions),
        sessions_with_event=sessions_with_event,
        sessions_with_event_rate=percent(sessions_with_event, sessions),
        by_severity=[
            line(key, by_severity.get(key, 0), severity_published.get(key, {}))
            for key in severities
        ],
        by_type=[
            line(
                key,
                by_type.get(key, 0),
                {source.key: PUBLISHED_BY_TYPE[source.key].get(key) for source in SOURCES},
            )
            for key in types
        ],
    )
