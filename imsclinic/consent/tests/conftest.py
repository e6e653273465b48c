"""A published needling consent to sign."""

from __future__ import annotations

import pytest

from imsclinic.accounts.models import User
from imsclinic.consent.models import ConsentDocument, ConsentVersion
from imsclinic.consent.services import consent_document_create
from tests.factories.consent import publish_version


@pytest.fixture
def document(owner: User) -> ConsentDocument:
    return consent_document_create(
        slug="needling", title="Consent to IMS", for_needling=True, actor=owner
    )


@pytest.fixture
def version(document: ConsentDocument, owner: User, location: object) -> ConsentVersion:
    return publish_version(document, owner)
