"""When the patient fills the questionnaires: a pure rule over plain facts (no ORM).

PSFS and the body-region questionnaire are asked at baseline (before the first needling
visit, or at the assessment) and again at IMS visit 1 + k x every_visits (so with every 3:
visits 1, 4, 7 ...). Pain before and after (NPRS) is charted by the practitioner in every
session note, so it is never due from the patient.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class PlanFacts:
    region_instrument: str  # "ODI", "NDI", "QuickDASH", "LEFS" or ""
    has_psfs_activities: bool
    every_visits: int


def is_measure_visit(visit_number: int, every_visits: int) -> bool:
    """Say whether the questionnaires are due before this IMS visit (1 = the first)."""
    if every_visits < 1:
        raise ValueError(f"every_visits must be at least 1, got {every_visits}.")
    if visit_number <= 1:
        return True  # baseline: the assessment or the first needling visit
    return (visit_number - 1) % every_visits == 0


def planned_instruments(plan: PlanFacts) -> list[str]:
    """Return the questionnaires of the plan the patient fills, PSFS first."""
    codes = ["PSFS"] if plan.has_psfs_activities else []
    if plan.region_instrument:
        codes.append(plan.region_instrument)
    return codes


def instruments_due(
    plan: PlanFacts, *, visit_number: int, already_answered: Collection[str] = ()
) -> list[str]:
    """Return the questionnaires due before this visit that were not already answered for it."""
    if not is_measure_visit(visit_number, plan.every_visits):
        return []
    return [code for code in planned_instruments(plan) if code not in already_answered]
