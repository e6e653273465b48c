"""Test data for consent: a needling consent version written and published by the owner."""

from __future__ import annotations

from imsclinic.accounts.models import User
from imsclinic.consent.models import ConsentDocument, ConsentVersion
from imsclinic.consent.services import consent_draft_save, consent_publish

BODY = (
    "## What IMS is\n\nA thin needle is placed in tight muscle.\n\n"
    "- Soreness for 24-48 hours is common.\n- Bruising can happen."
)


def publish_version(
    document: ConsentDocument, owner: User, body: str = BODY, title: str = "Consent to IMS"
) -> ConsentVersion:
    draft = consent_draft_save(document=document, title=title, body=body, actor=owner)
    return consent_publish(draft=draft, actor=owner)
