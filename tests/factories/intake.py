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


def complete_answers(**changes: Any) -> dict[str, Any]:
    """Return a complete intake-v1 answers dict, with some answers changed."""
    answers = {key: value for key, value in COMPLETE.items() if value != ""}
    answers.update(changes)
    return answers
