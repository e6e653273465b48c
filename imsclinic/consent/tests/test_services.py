"""Consent services: drafting, publishing frozen versions, signing and withdrawing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from imsclinic.accounts.models import User
from imsclinic.consent.models import (
    Channel,
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    Signer,
    VersionStatus,
    text_sha256,
)
from imsclinic.consent.selectors import StateCode, consent_state
from imsclinic.consent.services import (
    ConsentError,
    consent_draft_save,
    consent_publish,
    consent_sign,
    consent_withdraw,
)
from imsclinic.consent.tasks import send_withdrawal_notice
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from tests.factories.consent import publish_version
from tests.factories.mail import MailServer

pytestmark = pytest.mark.django_db

SIGN_TASK = "imsclinic.consent.tasks.send_signed_copy"
WITHDRAW_TASK = "imsclinic.consent.tasks.send_withdrawal_notice"


def portal_request(patient_user: User) -> object:
    request = RequestFactory().post(
        "/portal/consent/sign/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="TestPhone/1.0"
    )
    request.user = patient_user
    return request


def sign_as_patient(patient: Patient, version: ConsentVersion, **extra: object) -> ConsentSignature:
    fields: dict[str, object] = {"agreed": True, "signer_name": "Pat Ient"}
    fields.update(extra)
    return consent_sign(
        patient=patient,
        version=version,
        request=portal_request(patient.user),  # type: ignore[arg-type]
        actor=patient.user,
        **fields,  # type: ignore[arg-type]
    )


def errors_of(excinfo: pytest.ExceptionInfo[ConsentError]) -> dict[str, list[str]]:
    return {field: [message] for field, message in excinfo.value.errors.items()}


# Drafts and publishing


def test_publishing_numbers_versions_one_two_three(document: ConsentDocument, owner: User) -> None:
    numbers = [publish_version(document, owner, body=f"Text {n}").number for n in range(3)]
    assert numbers == [1, 2, 3]
    assert not ConsentVersion.objects.filter(status=VersionStatus.DRAFT).exists()


def test_a_draft_is_edited_in_place_until_published(document: ConsentDocument, owner: User) -> None:
    first = consent_draft_save(document=document, title="T", body="One", actor=owner)
    second = consent_draft_save(document=document, title="T", body="Two", actor=owner)
    assert first.pk == second.pk
    assert second.number is None
    published = consent_publish(draft=second, actor=owner)
    assert published.body == "Two"
    assert published.body_sha256 == text_sha256("Two")
    assert published.published_by == owner


def test_only_the_owner_writes_and_publishes(
    document: ConsentDocument, owner: User, physio: User, front_desk: User
) -> None:
    for user in (physio, front_desk):
        with pytest.raises(PermissionDenied):
            consent_draft_save(document=document, title="T", body="B", actor=user)
    draft = consent_draft_save(document=document, title="T", body="B", actor=owner)
    with pytest.raises(PermissionDenied):
        consent_publish(draft=draft, actor=physio)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_it_refuses_an_empty_draft_and_says_which_field(
    document: ConsentDocument, owner: User
) -> None:
    with pytest.raises(ConsentError) as excinfo:
        consent_draft_save(document=document, title=" ", body="  ", actor=owner)
    assert set(errors_of(excinfo)) == {"title", "body"}
    assert not ConsentVersion.objects.exists()


def test_a_published_version_never_changes_a_new_text_is_a_new_draft(
    version: ConsentVersion, owner: User
) -> None:
    draft = consent_draft_save(
        document=version.document, title=version.title, body="Sneaky new risks", actor=owner
    )
    assert draft.pk != version.pk
    assert draft.status == VersionStatus.DRAFT
    with pytest.raises(ConsentError):
        consent_publish(draft=version, actor=owner)
    version.refresh_from_db()
    assert version.number == 1
    assert "Sneaky" not in version.body


def test_publishing_and_drafting_are_audited(document: ConsentDocument, owner: User) -> None:
    version = publish_version(document, owner)
    rows = AuditEvent.objects.filter(object_type="consent_version", object_id=str(version.pk))
    assert [r.detail.get("status") for r in rows.order_by("id")] == ["draft", "published"]


# Signing


def test_signing_stores_the_exact_text_its_hash_and_where_from(
    patient: Patient, version: ConsentVersion
) -> None:
    signature = sign_as_patient(patient, version, signer_name="  Pat   Ient ")
    assert signature.text_shown == f"{version.title}\n\n{version.body}"
    assert signature.text_sha256 == text_sha256(signature.text_shown)
    assert signature.version.number == 1
    assert signature.signer_name == "Pat Ient"
    assert signature.ip_address == "203.0.113.7"
    assert signature.user_agent == "TestPhone/1.0"
    assert signature.channel == Channel.PORTAL
    assert signature.signed_by_user == patient.user
    assert consent_state(patient).current == signature


def test_signing_is_audited_with_the_hash(patient: Patient, version: ConsentVersion) -> None:
    signature = sign_as_patient(patient, version)
    row = AuditEvent.objects.get(object_type="consent_signature", object_id=str(signature.pk))
    assert row.patient_id == patient.pk
    assert row.detail["text_sha256"] == signature.text_sha256
    assert row.ip == "203.0.113.7"


def test_it_refuses_without_the_agreement_ticked(patient: Patient, version: ConsentVersion) -> None:
    with pytest.raises(ConsentError) as excinfo:
        sign_as_patient(patient, version, agreed=False)
    assert "agreed" in errors_of(excinfo)
    assert not ConsentSignature.objects.exists()


def test_it_refuses_without_a_typed_name(patient: Patient, version: ConsentVersion) -> None:
    with pytest.raises(ConsentError) as excinfo:
        sign_as_patient(patient, version, signer_name="   ")
    assert "signer_name" in errors_of(excinfo)


def test_it_refuses_a_version_that_is_no_longer_the_latest(
    patient: Patient, version: ConsentVersion, document: ConsentDocument, owner: User
) -> None:
    publish_version(document, owner, body="Changed wording")
    with pytest.raises(ConsentError) as excinfo:
        sign_as_patient(patient, version)
    assert "changed since this page was opened" in str(excinfo.value.messages)
    assert not ConsentSignature.objects.exists()


def test_it_refuses_a_second_signature_of_the_same_version(
    patient: Patient, version: ConsentVersion
) -> None:
    sign_as_patient(patient, version)
    with pytest.raises(ConsentError):
        sign_as_patient(patient, version)
    assert ConsentSignature.objects.count() == 1


def test_another_patient_cannot_sign_for_the_patient(
    patient: Patient, other_patient: Patient, version: ConsentVersion
) -> None:
    with pytest.raises(PermissionDenied):
        consent_sign(
            patient=patient,
            version=version,
            agreed=True,
            signer_name="Otto Osborne",
            actor=other_patient.user,
        )


def test_a_minor_needs_a_guardian_with_a_relationship(
    patient: Patient, version: ConsentVersion
) -> None:
    patient.date_of_birth = dt.date.today().replace(year=dt.date.today().year - 12)
    patient.save(update_fields=["date_of_birth"])
    with pytest.raises(ConsentError) as excinfo:
        sign_as_patient(patient, version)
    assert "signer" in errors_of(excinfo)
    with pytest.raises(ConsentError) as excinfo:
        sign_as_patient(patient, version, signer=Signer.GUARDIAN, signer_name="Gina Ient")
    assert "guardian_relationship" in errors_of(excinfo)
    signature = sign_as_patient(
        patient,
        version,
        signer=Signer.GUARDIAN,
        signer_name="Gina Ient",
        guardian_relationship="mother",
    )
    assert signature.signer == Signer.GUARDIAN
    assert signature.guardian_relationship == "mother"


def test_an_adult_cannot_have_a_guardian_sign_online(
    patient: Patient, version: ConsentVersion
) -> None:
    with pytest.raises(ConsentError) as excinfo:
        sign_as_patient(
            patient, version, signer=Signer.GUARDIAN, signer_name="Sam", guardian_relationship="son"
        )
    assert "signer" in errors_of(excinfo)


def test_staff_record_a_substitute_decision_maker_on_the_tablet(
    patient: Patient, version: ConsentVersion, front_desk: User
) -> None:
    signature = consent_sign(
        patient=patient,
        version=version,
        agreed=True,
        signer=Signer.GUARDIAN,
        signer_name="Sam Ient",
        guardian_relationship="son, power of attorney for personal care",
        channel=Channel.TABLET,
        actor=front_desk,
    )
    assert signature.recorded_by == front_desk
    assert signature.signed_by_user is None


def test_a_practitioner_off_the_care_team_cannot_record_a_tablet_signature(
    patient: Patient, version: ConsentVersion, other_physio: User
) -> None:
    with pytest.raises(PermissionDenied):
        consent_sign(
            patient=patient,
            version=version,
            agreed=True,
            signer_name="Pat Ient",
            channel=Channel.TABLET,
            actor=other_physio,
        )


@pytest.mark.parametrize(
    ("drawn", "stored"),
    [
        ("M 10 10 L 20 20 L 30 25", "M 10 10 L 20 20 L 30 25"),
        ("", ""),
    ],
)
def test_a_drawn_signature_is_kept_when_it_is_path_data(
    patient: Patient, version: ConsentVersion, drawn: str, stored: str
) -> None:
    assert sign_as_patient(patient, version, drawn_signature=drawn).drawn_signature == stored


@pytest.mark.parametrize(
    "drawn",
    [
        '"/><script>alert(1)</script>',
        "data:image/png;base64,bm90IGEgcG5n",  # base64 of "not a png"
        "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        "M 1 1 L 2 2 " * 20_000,
        "M 10 10",
    ],
)
def test_it_refuses_a_drawn_signature_that_is_not_one(
    patient: Patient, version: ConsentVersion, drawn: str
) -> None:
    with pytest.raises(ConsentError) as excinfo:
        sign_as_patient(patient, version, drawn_signature=drawn)
    assert "drawn_signature" in errors_of(excinfo)
    assert not ConsentSignature.objects.exists()


def test_signing_queues_the_signed_copy_email_with_the_signature(
    patient: Patient, version: ConsentVersion
) -> None:
    signature = sign_as_patient(patient, version)
    queued = DBTaskResult.objects.get(task_path=SIGN_TASK)
    assert queued.args_kwargs["args"] == [signature.pk]


# New versions and withdrawal


def test_a_new_version_makes_the_patient_sign_again(
    patient: Patient, version: ConsentVersion, document: ConsentDocument, owner: User
) -> None:
    sign_as_patient(patient, version)
    newer = publish_version(document, owner, body="Updated risks")
    state = consent_state(patient)
    assert state.code == StateCode.RECONSENT
    assert state.current is None
    signature = sign_as_patient(patient, newer)
    assert consent_state(patient).current == signature


def test_withdrawal_stops_consent_and_is_recorded_once(
    patient: Patient, version: ConsentVersion
) -> None:
    signature = sign_as_patient(patient, version)
    consent_withdraw(patient=patient, reason="Changed my mind", actor=patient.user)
    signature.refresh_from_db()
    assert signature.withdrawn_at is not None
    assert signature.withdrawn_by == patient.user
    assert signature.withdrawal_reason == "Changed my mind"
    state = consent_state(patient)
    assert state.current is None
    assert state.code == StateCode.WITHDRAWN
    with pytest.raises(ConsentError):
        consent_withdraw(patient=patient, reason="again", actor=patient.user)
    signature.refresh_from_db()
    assert signature.withdrawal_reason == "Changed my mind"
    assert (
        AuditEvent.objects.filter(object_type="consent_signature", detail__withdrawn=True).count()
        == 1
    )


def test_a_withdrawal_tells_the_patient_and_the_care_team_once(
    patient: Patient,
    version: ConsentVersion,
    physio: User,
    other_physio: User,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    signature = sign_as_patient(patient, version)
    consent_withdraw(patient=patient, reason="Changed my mind", actor=patient.user)
    queued = DBTaskResult.objects.get(task_path=WITHDRAW_TASK)
    assert queued.args_kwargs["args"] == [signature.pk]

    assert send_withdrawal_notice.call(signature.pk) == 2
    # A retry, or a second worker, sends nothing more.
    assert send_withdrawal_notice.call(signature.pk) == 0
    by_address = {message.to[0]: message for message in mailoutbox}
    assert sorted(by_address) == ["pat@patients.example", "physio@cedar.example"]  # not Oscar

    to_patient = by_address["pat@patients.example"]
    assert "withdrawn" in to_patient.subject
    assert "Nobody at the clinic will needle you unless you sign a new consent" in (to_patient.body)
    assert "604-555-0100" in to_patient.body

    to_physio = by_address["physio@cedar.example"]
    # The link names the withdrawal, not the patient's record.
    assert reverse("staff_consent_withdrawal", args=[signature.pk]) in to_physio.body
    assert reverse("patient_detail", args=[patient.pk]) not in to_physio.body
    for private in ("Pat", "Ient", "Changed my mind"):
        assert private not in to_physio.subject
        assert private not in to_physio.body


def test_no_withdrawal_notice_goes_once_the_patient_has_signed_again(
    patient: Patient, version: ConsentVersion, mailoutbox: list[mail.EmailMessage]
) -> None:
    signature = sign_as_patient(patient, version)
    consent_withdraw(patient=patient, actor=patient.user)
    sign_as_patient(patient, version)  # before the worker got to the notice
    assert send_withdrawal_notice.call(signature.pk) == 0
    assert mailoutbox == []
    signature.refresh_from_db()
    assert signature.withdrawal_emailed_at is not None  # settled: nothing left to send


def test_when_no_withdrawal_email_can_go_it_is_tried_again_later(
    patient: Patient,
    version: ConsentVersion,
    mailoutbox: list[mail.EmailMessage],
    mail_server: MailServer,
) -> None:
    signature = sign_as_patient(patient, version)
    consent_withdraw(patient=patient, actor=patient.user)
    mail_server.down()
    assert send_withdrawal_notice.call(signature.pk) == 0
    signature.refresh_from_db()
    assert signature.withdrawal_emailed_at is None
    retry = DBTaskResult.objects.filter(task_path=WITHDRAW_TASK).order_by("-enqueued_at")[0]
    assert signature.withdrawn_at is not None
    assert retry.run_after is not None and retry.run_after > signature.withdrawn_at

    mail_server.back_up()
    assert send_withdrawal_notice.call(signature.pk) == 2
    assert len(mailoutbox) == 2


def test_a_withdrawal_email_that_fails_alone_does_not_stop_the_others(
    patient: Patient,
    version: ConsentVersion,
    mailoutbox: list[mail.EmailMessage],
    mail_server: MailServer,
) -> None:
    signature = sign_as_patient(patient, version)
    consent_withdraw(patient=patient, actor=patient.user)
    mail_server.refuse("pat@patients.example")
    assert send_withdrawal_notice.call(signature.pk) == 1
    assert [message.to for message in mailoutbox] == [["physio@cedar.example"]]
    signature.refresh_from_db()
    assert signature.withdrawal_emailed_at is not None  # the physio is not told twice


def test_a_withdrawal_rolled_back_sends_nothing(patient: Patient, version: ConsentVersion) -> None:
    sign_as_patient(patient, version)
    with pytest.raises(RuntimeError), transaction.atomic():
        consent_withdraw(patient=patient, actor=patient.user)
        raise RuntimeError("the request failed after the withdrawal")
    assert not DBTaskResult.objects.filter(task_path=WITHDRAW_TASK).exists()
    assert consent_state(patient).current is not None


def test_after_withdrawal_the_patient_can_sign_again(
    patient: Patient, version: ConsentVersion
) -> None:
    sign_as_patient(patient, version)
    consent_withdraw(patient=patient, actor=patient.user)
    again = sign_as_patient(patient, version)
    assert consent_state(patient).current == again


def test_staff_on_the_record_may_record_a_withdrawal_but_others_may_not(
    patient: Patient,
    version: ConsentVersion,
    other_physio: User,
    other_patient: Patient,
    physio: User,
) -> None:
    sign_as_patient(patient, version)
    for outsider in (other_physio, other_patient.user):
        with pytest.raises(PermissionDenied):
            consent_withdraw(patient=patient, actor=outsider)
    consent_withdraw(patient=patient, reason="Told me at the desk", actor=physio)
    assert consent_state(patient).code == StateCode.WITHDRAWN


def test_the_database_refuses_a_signature_without_agreement(
    patient: Patient, version: ConsentVersion
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentSignature.objects.create(
            patient=patient,
            version=version,
            text_shown="x",
            text_sha256=text_sha256("x"),
            signer_name="Pat",
            agreed=False,
            channel=Channel.PORTAL,
        )
