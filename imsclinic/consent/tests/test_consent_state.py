"""consent_state: whether a patient's needling consent stands, and what is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from imsclinic.consent.models import (
    Channel,
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    VersionStatus,
    text_sha256,
)
from imsclinic.consent.selectors import StateCode, consent_state
from imsclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def publish(
    document: ConsentDocument, number: int, body: str = "Needling has risks."
) -> ConsentVersion:
    return ConsentVersion.objects.create(
        document=document,
        number=number,
        title="Consent to IMS",
        body=body,
        body_sha256=text_sha256(body),
        status=VersionStatus.PUBLISHED,
        published_at=timezone.now(),
    )


def sign(patient: Patient, version: ConsentVersion, **extra: object) -> ConsentSignature:
    text = version.text_as_shown
    return ConsentSignature.objects.create(
        patient=patient,
        version=version,
        text_shown=text,
        text_sha256=text_sha256(text),
        signer_name=patient.full_name,
        agreed=True,
        channel=Channel.PORTAL,
        **extra,
    )


@pytest.fixture
def document(db: None) -> ConsentDocument:
    return ConsentDocument.objects.create(slug="needling", title="IMS consent", for_needling=True)


def test_it_says_no_document_is_published_when_there_is_none(patient: Patient) -> None:
    state = consent_state(patient)
    assert state.current is None
    assert state.code == StateCode.NO_DOCUMENT
    assert "No consent document" in (state.missing or "")


def test_it_says_the_patient_has_not_signed(patient: Patient, document: ConsentDocument) -> None:
    publish(document, 1)
    state = consent_state(patient)
    assert state.current is None
    assert state.code == StateCode.NOT_SIGNED
    assert "has not signed" in (state.missing or "")


def test_a_signature_of_the_latest_version_is_current(
    patient: Patient, other_patient: Patient, document: ConsentDocument
) -> None:
    version = publish(document, 1)
    signature = sign(patient, version)
    state = consent_state(patient)
    assert state.current == signature
    assert state.missing is None
    assert state.current.version.number == 1
    assert consent_state(other_patient).current is None


def test_a_new_version_asks_for_re_consent(patient: Patient, document: ConsentDocument) -> None:
    sign(patient, publish(document, 1))
    publish(document, 2, body="New wording.")
    state = consent_state(patient)
    assert state.current is None
    assert state.code == StateCode.RECONSENT
    assert state.missing is not None
    assert "version 2" in state.missing
    assert "version 1" in state.missing


def test_a_withdrawn_signature_is_not_consent(
    patient: Patient, document: ConsentDocument, location: object
) -> None:
    signature = sign(patient, publish(document, 1))
    signature.withdrawn_at = dt.datetime(2026, 7, 1, 18, 30, tzinfo=dt.UTC)
    signature.save(update_fields=["withdrawn_at"])
    state = consent_state(patient)
    assert state.current is None
    assert state.code == StateCode.WITHDRAWN
    # Shown on the clinic's clock (Vancouver, summer time), with the zone named.
    assert (
        state.missing
        == "The patient withdrew consent on 1 July 2026 11:30 PDT (America/Vancouver)."
    )


def test_a_signature_of_another_document_does_not_count(
    patient: Patient, document: ConsentDocument
) -> None:
    publish(document, 1)
    other = ConsentDocument.objects.create(slug="photos", title="Photographs")
    sign(patient, publish(other, 1))
    assert consent_state(patient).code == StateCode.NOT_SIGNED


def test_it_takes_two_queries_however_many_signatures(
    patient: Patient, document: ConsentDocument, django_assert_max_num_queries: object
) -> None:
    for number in range(1, 5):
        sign(patient, publish(document, number, body=f"Wording {number}"))
    with django_assert_max_num_queries(2):  # type: ignore[operator]
        state = consent_state(patient)
    assert state.current is not None
    assert state.current.version.number == 4


def test_dates_are_the_clinic_s_calendar_day_not_utc(location: object) -> None:
    from imsclinic.clinic.selectors import clinic_date_text

    late_evening_in_vancouver = dt.datetime(2026, 7, 2, 3, 0, tzinfo=dt.UTC)
    assert clinic_date_text(late_evening_in_vancouver) == "1 July 2026"
