"""Test data for the safety rules: a submitted intake, a decision, a signed consent.

Used by the tests of safety and of the apps the interlock guards (scheduling, charting).
Rows are written directly, as test fixtures; the real paths are the apps' services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from imsclinic.consent.models import (
    Channel,
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    VersionStatus,
    text_sha256,
)
from imsclinic.intake.models import Intake
from imsclinic.patients.models import Patient
from imsclinic.safety.models import Clearance, Decision

# Intake answers that hold needling back until a practitioner decides.
SEVERE_PHOBIA = {"needle_fear": "severe"}
ON_ANTICOAGULANTS = {"anticoagulants": "yes"}
# Intake answers that make needling over the chest wall a lung risk.
PAST_COLLAPSED_LUNG = {"collapsed_lung": "yes"}
# The chest-and-lung answers (asked since intake-v2) of someone with none of those risks.
CHEST_CLEAR = {
    "lung_disease": "no",
    "collapsed_lung": "no",
    "chest_surgery": "no",
    "breast_implants": "no",
    "short_of_breath": "no",
}


def submitted_intake(
    patient: Patient,
    answers: dict[str, Any] | None = None,
    *,
    at: dt.datetime | None = None,
    form_version: str = "intake-v2",
) -> Intake:
    """Return a submitted intake with these answers (none: a healthy adult's).

    On form "intake-v1" the chest-and-lung questions were never asked, so they are absent.
    """
    at = at or timezone.now()
    chest = CHEST_CLEAR if form_version != "intake-v1" else {}
    return Intake.objects.create(
        patient=patient,
        answers={
            "needle_fear": "mild",
            "willing_to_be_needled": "yes",
            **chest,
            **(answers or {}),
        },
        form_version=form_version,
        status=Intake.Status.SUBMITTED,
        submitted_at=at,
        created_at=at,
    )


def clearance(
    patient: Patient,
    intake: Intake,
    *,
    by: Any,
    decision: str = Decision.CLEARED,
    at: dt.datetime | None = None,
) -> Clearance:
    return Clearance.objects.create(
        patient=patient,
        intake=intake,
        decision=decision,
        reason="Reviewed the answers with the patient.",
        decided_by=by,
        decided_at=at or timezone.now(),
    )


def published_consent(number: int = 1, *, at: dt.datetime | None = None) -> ConsentVersion:
    """Return version `number` of the needling consent, published."""
    document, _created = ConsentDocument.objects.get_or_create(
        slug="ims-consent", defaults={"title": "Consent to IMS", "for_needling": True}
    )
    body = f"Consent text, version {number}."
    return ConsentVersion.objects.create(
        document=document,
        number=number,
        title="Consent to IMS",
        body=body,
        body_sha256=text_sha256(body),
        status=VersionStatus.PUBLISHED,
        published_at=at or timezone.now(),
    )


def signature(
    patient: Patient, version: ConsentVersion, *, at: dt.datetime | None = None
) -> ConsentSignature:
    return ConsentSignature.objects.create(
        patient=patient,
        version=version,
        text_shown=version.text_as_shown,
        text_sha256=text_sha256(version.text_as_shown),
        signer_name=str(patient),
        agreed=True,
        signed_at=at or timezone.now(),
        channel=Channel.PORTAL,
    )


def make_ready_for_needling(patient: Patient, *, by: Any, at: dt.datetime | None = None) -> None:
    """Give the patient a current intake, a clearance on it and a signed current consent."""
    at = at or timezone.now()
    intake = submitted_intake(patient, at=at - dt.timedelta(days=1))
    clearance(patient, intake, by=by, at=at - dt.timedelta(hours=1))
    version = ConsentVersion.objects.filter(
        document__for_needling=True, status=VersionStatus.PUBLISHED
    ).order_by("-number").first() or published_consent(at=at - dt.timedelta(days=2))
    signature(patient, version, at=at - dt.timedelta(hours=2))
