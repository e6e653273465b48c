"""Complete, synthetic intake answers for the intake tests and those of other apps."""

from __future__ import annotations

from typing import Any

COMPLETE: dict[str, Any] = {
    "consent_capacity": "self",
    "reason": "Aching in my lower back when I sit for long.",
    "pain_areas": ["lower_back", "left_buttock"],
    "pain_started": "gt_3_months",
    "history": "",
    "conditions": "",
    "diabetes": "no",
    "immune_compromise": "no",
    "vascular_disease": "no",
    "epilepsy": "no",
    "frailty": "no",
    "anxiety": "no",
    "acute_illness": "no",
    "infection_or_skin_lesion": "no",
    "lung_disease": "no",
    "collapsed_lung": "no",
    "chest_surgery": "no",
    "breast_implants": "no",
    "short_of_breath": "no",
    "medications": "",
    "anticoagulants": "no",
    "antiplatelets": "no",
    "bleeding_disorder": "no",
    "allergy_metal": "no",
    "allergy_latex": "no",
    "allergies_other": "",
    "pregnant": "not_applicable",
    "lymphoedema": "no",
    "lymph_node_removal": "no",
    "faint_with_needles": "no",
    "needle_fear": "mild",
    "willing_to_be_needled": "yes",
    "previous_needling": "none",
}


# The questions the chest-and-lungs part (intake-v2) added: an intake-v1 never asked them.
CHEST_KEYS = (
    "lung_disease",
    "collapsed_lung",
    "chest_surgery",
    "breast_implants",
    "short_of_breath",
)


def v1_answers(**changes: Any) -> dict[str, Any]:
    """Return complete answers as the first form (intake-v1) asked them: no chest questions."""
    answers = complete_answers(**changes)
    for key in CHEST_KEYS:
        answers.pop(key, None)
    return answers


def complete_answers(**changes: Any) -> dict[str, Any]:
    """Return a complete answers dict of the current intake form, with some answers changed."""
    answers = {key: value for key, value in COMPLETE.items() if value != ""}
    answers.update(changes)
    return answers
