"""Demo screening for seed_demo: health questions, decisions and consents for the demo patients.

The demo clinic should show the safety workflow in every state: patients cleared and ready
to be needled, patients whose answers wait for a practitioner's review, and one whose answers
stop online booking of IMS. Everything goes through the areas' services, dated in the past:
the demo login answers in the portal, the front desk types in the others' paper forms and
records their signatures on the clinic tablet, and the demo physiotherapist (or the owner,
for patients not on her care team) records each decision.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from imsclinic.consent.models import Channel, ConsentVersion, Signer
from imsclinic.consent.selectors import latest_published_version, needling_document
from imsclinic.consent.services import consent_sign
from imsclinic.intake.models import Intake
from imsclinic.intake.services import intake_enter_from_paper, intake_submit
from imsclinic.patients.models import Patient
from imsclinic.safety.models import Decision
from imsclinic.safety.screening import chest_wall, screen
from imsclinic.safety.services import clearance_record

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

# A healthy adult's complete answers to the current intake form; the demo varies a few of them.
HEALTHY: dict[str, Any] = {
    "consent_capacity": "self",
    "reason": "Aching in the lower back after sitting at work.",
    "pain_areas": ["lower_back"],
    "pain_started": "gt_3_months",
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
    "anticoagulants": "no",
    "antiplatelets": "no",
    "bleeding_disorder": "no",
    "allergy_metal": "no",
    "allergy_latex": "no",
    "pregnant": "not_applicable",
    "lymphoedema": "no",
    "lymph_node_removal": "no",
    "faint_with_needles": "no",
    "needle_fear": "mild",
    "willing_to_be_needled": "yes",
    "previous_needling": "ims",
}

# Changed answers, and whether a practitioner has decided. The first three wait for a
# practitioner's review (the first of them is on the demo physiotherapist's care team); the
# other three were decided with precautions (the last has a lung-risk flag: a collapsed lung).
# Everyone else answered as HEALTHY and is cleared; the last two patients in the list have not
# answered yet.
VARIANTS: list[tuple[dict[str, Any], bool]] = [
    ({"anticoagulants": "yes", "medications": "Apixaban 5 mg twice a day."}, False),
    ({"diabetes": "yes", "reason": "Neck and shoulder pain."}, False),
    ({"needle_fear": "severe", "willing_to_be_needled": "unsure"}, False),
    ({"lymph_node_removal": "yes", "lymph_node_removal_limbs": ["left_arm"]}, True),
    ({"antiplatelets": "yes", "medications": "Aspirin 81 mg daily."}, True),
    ({"collapsed_lung": "yes", "history": "Collapsed lung (left) at 22, after a fall."}, True),
]
NOT_ANSWERED = 2


def _variants(patients: list[Patient], physio: User) -> dict[int, tuple[dict[str, Any], bool]]:
    """Hand out VARIANTS: the undecided ones to the physio's patients, the demo login kept out."""
    others = patients[1:]
    theirs = [p for p in others if p.care_team.filter(user=physio).exists()]
    rest = [p for p in others if p not in theirs]
    # VARIANTS lists the undecided first: one goes to the physio's own patients (her review
    # queue has work), the others elsewhere, so most of her visits can be charted at once.
    return dict(zip((p.pk for p in theirs[:1] + rest + theirs[1:]), VARIANTS, strict=False))


def seed_screening(
    *, patients: list[Patient], physio: User, owner: User, desk: User
) -> dict[str, int]:
    """Give the demo patients intakes, decisions and consents; idempotent."""
    made = {"intakes": 0, "clearance decisions": 0, "consent signatures": 0}
    if not patients:
        return made
    document = needling_document()
    version = latest_published_version(document) if document is not None else None
    answered = patients[: len(patients) - NOT_ANSWERED]
    already = set(Intake.objects.filter(patient__in=answered).values_list("patient_id", flat=True))
    now = timezone.now()
    variants = _variants(answered, physio)
    for index, patient in enumerate(answered):
        if patient.pk in already:
            continue
        changes, decided = variants.get(patient.pk, ({}, True))
        answers = {**HEALTHY, **changes}
        submitted = now - dt.timedelta(days=40 + 7 * index)
        if patient.user is not None:
            intake = intake_submit(
                patient=patient, actor=patient.user, answers=answers, now=submitted
            )
        else:
            intake = intake_enter_from_paper(
                patient=patient, answers=answers, actor=desk, now=submitted
            )
        made["intakes"] += 1
        if decided:
            on_team = patient.care_team.filter(user=physio).exists()
            _decide(patient, intake, physio if on_team else owner, submitted)
            made["clearance decisions"] += 1
        if version is not None and index > 0 and decided:
            # The demo login's own signature comes from the consent demo.
            _sign(patient, version, submitted, desk=desk)
            made["consent signatures"] += 1
    return made


def _decide(patient: Patient, intake: Intake, decider: User, at: dt.datetime) -> None:
    decided_at = at + dt.timedelta(days=1)
    flags = screen(intake.answers, age=patient.age_on(decided_at.date()))
    clearance_record(
        patient=patient,
        intake=intake,
        decision=Decision.CLEARED_WITH_PRECAUTIONS if flags else Decision.CLEARED,
        reason=(
            "Discussed the answers; over the chest wall, needle only with a technique that "
            "keeps the needle away from the lung, and record it."
            if chest_wall(flags)
            else "Discussed the answers; needle away from the affected limb and watch for bleeding."
            if flags
            else "History reviewed with the patient; nothing against IMS."
        ),
        actor=decider,
        now=decided_at,
    )


def _sign(patient: Patient, version: ConsentVersion, at: dt.datetime, *, desk: User) -> None:
    """The patient signs on the clinic tablet; the front desk records it."""
    consent_sign(
        patient=patient,
        version=version,
        agreed=True,
        signer_name=patient.full_name,
        signer=Signer.SELF,
        channel=Channel.TABLET,
        actor=desk,
        now=max(at, version.published_at or at),
    )
