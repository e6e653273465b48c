"""A published needling consent to sign, and helpers to sign it."""

from __future__ import annotations

import pytest

from imsclinic.accounts.models import User
from imsclinic.consent.models import ConsentDocument, ConsentVersion
from imsclinic.consent.services import (
    consent_document_create,
    consent_draft_save,
    consent_publish,
)

BODY = (
    "## What IMS is\n\nA thin needle is placed in tight muscle.\n\n"
    "- Soreness for 24-48 hours is common.\n- Bruising can happen."
)


@pytest.fixture
def document(owner: User) -> ConsentDocument:
    return consent_document_create(
        slug="needling", title="Consent to IMS", for_needling=True, actor=owner
    )


def publish_version(
    document: ConsentDocument, owner: User, body: str = BODY, title: str = "Consent to IMS"
) -> ConsentVersion:
    draft = consent_draft_save(document=document, title=title, body=body, actor=owner)
    return consent_publish(draft=draft, actor=owner)


@pytest.fixture
def version(document: ConsentDocument, owner: User, location: object) -> ConsentVersion:
    return publish_version(document, owner)
