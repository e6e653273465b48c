"""PostgreSQL itself refuses to change what was published or signed."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.consent.models import ConsentSignature, ConsentVersion
from imsclinic.consent.services import consent_sign, consent_withdraw
from imsclinic.patients.models import Patient

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_database_refuses_to_change_a_published_text(version: ConsentVersion) -> None:
    for field, value in (("body", "New risks"), ("title", "Other"), ("body_sha256", "0" * 64)):
        with pytest.raises(IntegrityError, match="consent_version_frozen"), transaction.atomic():
            ConsentVersion.objects.filter(pk=version.pk).update(**{field: value})
    version.refresh_from_db()
    assert version.body.startswith("## What IMS is")


def test_the_database_refuses_to_delete_a_published_version(version: ConsentVersion) -> None:
    with pytest.raises(IntegrityError, match="consent_version_frozen"), transaction.atomic():
        ConsentVersion.objects.filter(pk=version.pk).delete()
    assert ConsentVersion.objects.filter(pk=version.pk).exists()


def test_the_database_lets_a_draft_change_and_go(version: ConsentVersion, owner: User) -> None:
    draft = ConsentVersion.objects.create(
        document=version.document, title="Draft", body="x", body_sha256="", created_by=owner
    )
    ConsentVersion.objects.filter(pk=draft.pk).update(body="y")
    ConsentVersion.objects.filter(pk=draft.pk).delete()
    assert not ConsentVersion.objects.filter(pk=draft.pk).exists()


def test_the_database_refuses_to_edit_or_delete_a_signature(
    patient: Patient, version: ConsentVersion
) -> None:
    signature = consent_sign(
        patient=patient, version=version, agreed=True, signer_name="Pat Ient", actor=patient.user
    )
    with pytest.raises(IntegrityError, match="consent_signature_frozen"), transaction.atomic():
        ConsentSignature.objects.filter(pk=signature.pk).update(text_shown="Something milder")
    with pytest.raises(IntegrityError, match="consent_signature_frozen"), transaction.atomic():
        ConsentSignature.objects.filter(pk=signature.pk).delete()
    consent_withdraw(patient=patient, reason="first", actor=patient.user)
    with pytest.raises(IntegrityError, match="consent_signature_frozen"), transaction.atomic():
        ConsentSignature.objects.filter(pk=signature.pk).update(
            withdrawn_at=timezone.now(), withdrawal_reason="rewritten"
        )
    signature.refresh_from_db()
    assert signature.withdrawal_reason == "first"
