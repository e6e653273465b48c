"""Consent pages: signing in the portal and on the tablet, copies, withdrawal, the owner's pages."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from imsclinic.accounts.models import User
from imsclinic.consent.models import Channel, ConsentDocument, ConsentSignature, ConsentVersion
from imsclinic.consent.pdf import signature_html
from imsclinic.consent.selectors import StateCode, consent_state
from imsclinic.consent.services import consent_sign, consent_withdraw
from imsclinic.consent.tasks import send_signed_copy
from imsclinic.core.models import Action, AuditEvent
from imsclinic.patients.models import Patient
from tests.factories.consent import publish_version

pytestmark = pytest.mark.django_db


def client_for(user: User, user_agent: str = "") -> Client:
    client = Client(headers={"User-Agent": user_agent} if user_agent else None)
    client.force_login(user)
    return client


def sign_form(version: ConsentVersion, **extra: str) -> dict[str, str]:
    data = {"version_id": str(version.pk), "agreed": "on", "signer_name": "Pat Ient"}
    data.update(extra)
    return data


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# The portal


def test_the_patient_reads_the_exact_text_and_signs_it(
    patient: Patient, version: ConsentVersion
) -> None:
    client = client_for(patient.user, user_agent="PhoneBrowser/2.0")  # type: ignore[arg-type]
    page = client.get(reverse("portal_consent_sign"))
    html = page.content.decode()
    assert "What IMS is" in html
    assert "<li>Bruising can happen.</li>" in html
    assert 'name="agreed"' in html
    response = client.post(reverse("portal_consent_sign"), sign_form(version))
    assert response.status_code == 302
    signature = ConsentSignature.objects.get()
    assert signature.channel == Channel.PORTAL
    assert signature.user_agent == "PhoneBrowser/2.0"
    assert signature.ip_address == "127.0.0.1"
    summary = client.get(reverse("portal_consent")).content.decode()
    assert "You signed version 1 on" in summary
    assert reverse("portal_consent_pdf", args=[signature.pk]) in summary


def test_the_patient_s_look_at_their_consent_is_audited(
    patient: Patient, version: ConsentVersion
) -> None:
    consent_sign(
        patient=patient, version=version, agreed=True, signer_name="Pat Ient", actor=patient.user
    )
    page = client_for(patient.user).get(reverse("portal_consent"))  # type: ignore[arg-type]
    assert "You signed version 1 on" in page.content.decode()
    event = AuditEvent.objects.get(action=Action.VIEW, object_type="consent")
    assert (event.actor, event.patient_id) == (patient.user, patient.pk)


def test_the_form_says_what_is_missing_and_keeps_what_was_typed(
    patient: Patient, version: ConsentVersion
) -> None:
    client = client_for(patient.user)  # type: ignore[arg-type]
    response = client.post(
        reverse("portal_consent_sign"), {"version_id": version.pk, "signer_name": "Pat Ient"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tick the box" in html
    assert 'value="Pat Ient"' in html
    assert re.search(r'name="agreed"[^>]*aria-invalid="true"', html)
    assert not ConsentSignature.objects.exists()


def test_a_text_published_while_reading_is_shown_and_not_signed_unseen(
    patient: Patient, version: ConsentVersion, document: ConsentDocument, owner: User
) -> None:
    client = client_for(patient.user)  # type: ignore[arg-type]
    newer = publish_version(document, owner, body="Entirely new wording about risks.")
    response = client.post(reverse("portal_consent_sign"), sign_form(version))
    html = response.content.decode()
    assert "The consent text has changed" in html
    assert "Entirely new wording" in html
    assert f'name="version_id" value="{newer.pk}"' in html
    assert not ConsentSignature.objects.exists()


def test_a_minor_s_page_asks_for_the_guardian(patient: Patient, version: ConsentVersion) -> None:
    patient.date_of_birth = dt.date.today().replace(year=dt.date.today().year - 15)
    patient.save(update_fields=["date_of_birth"])
    client = client_for(patient.user)  # type: ignore[arg-type]
    assert (
        "A parent or guardian signs" in client.get(reverse("portal_consent_sign")).content.decode()
    )
    response = client.post(
        reverse("portal_consent_sign"),
        sign_form(version, signer_name="Gina Ient", guardian_relationship="mother"),
    )
    assert response.status_code == 302
    signature = ConsentSignature.objects.get()
    assert (signature.signer, signature.guardian_relationship) == ("guardian", "mother")


def test_the_portal_home_card_follows_the_consent_state(
    patient: Patient, version: ConsentVersion, document: ConsentDocument, owner: User
) -> None:
    client = client_for(patient.user)  # type: ignore[arg-type]
    home = reverse("portal_home")
    assert "Not signed yet" in client.get(home).content.decode()
    client.post(reverse("portal_consent_sign"), sign_form(version))
    assert "You signed version 1 on" in client.get(home).content.decode()
    publish_version(document, owner, body="Second wording")
    assert "updated its consent form (version 2)" in client.get(home).content.decode()
    consent_withdraw(patient=patient, actor=patient.user)
    assert "You withdrew your consent" in client.get(home).content.decode()


def test_the_patient_withdraws_after_a_page_that_explains_it(
    patient: Patient, version: ConsentVersion
) -> None:
    consent_sign(
        patient=patient, version=version, agreed=True, signer_name="Pat", actor=patient.user
    )
    client = client_for(patient.user)  # type: ignore[arg-type]
    page = client.get(reverse("portal_consent_withdraw")).content.decode()
    assert "you will not be needled" in page
    response = client.post(reverse("portal_consent_withdraw"), {"reason": ""}, follow=True)
    assert "Your consent is withdrawn" in response.content.decode()
    assert "A confirmation is on its way to pat@patients.example." in response.content.decode()
    assert consent_state(patient).code == StateCode.WITHDRAWN


# Signed copies


def test_the_patient_downloads_a_real_pdf_of_what_they_signed(
    patient: Patient, version: ConsentVersion
) -> None:
    signature = consent_sign(
        patient=patient, version=version, agreed=True, signer_name="Pat Ient", actor=patient.user
    )
    response = client_for(patient.user).get(reverse("portal_consent_pdf", args=[signature.pk]))  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "A thin needle is placed in tight muscle." in text
    assert "Consent version 1" in text
    assert signature.text_sha256[:20] in text.replace(" ", "")
    row = AuditEvent.objects.get(action=Action.EXPORT, object_type="consent_signature")
    assert row.patient_id == patient.pk


def test_the_pdf_html_names_time_zone_signer_and_withdrawal(
    patient: Patient, version: ConsentVersion
) -> None:
    signature = consent_sign(
        patient=patient,
        version=version,
        agreed=True,
        signer_name="Pat Ient",
        drawn_signature="M 10 10 L 50 40",
        actor=patient.user,
    )
    consent_withdraw(patient=patient, reason="Moving away", actor=patient.user)
    signature.refresh_from_db()
    html = signature_html(signature)
    assert "Cedar IMS Physiotherapy" in html
    assert "(America/Vancouver)" in html
    assert re.search(r"P[DS]T \(America/Vancouver\)", html)
    assert "WITHDRAWN on" in html
    assert "Moving away" in html
    assert 'd="M 10 10 L 50 40"' in html
    outside = html.replace("http://www.w3.org/2000/svg", "")  # a name, never fetched
    assert "http://" not in outside
    assert "https://" not in outside


def test_someone_else_s_copy_is_not_found(
    patient: Patient, other_patient: Patient, version: ConsentVersion
) -> None:
    signature = consent_sign(
        patient=patient, version=version, agreed=True, signer_name="Pat", actor=patient.user
    )
    url = reverse("portal_consent_pdf", args=[signature.pk])
    assert client_for(other_patient.user).get(url).status_code == 404  # type: ignore[arg-type]
    staff_url = reverse("staff_consent_pdf", args=[other_patient.pk, signature.pk])
    assert client_for(User.objects.get(role="owner")).get(staff_url).status_code == 404


def test_the_signed_copy_is_emailed_once_as_a_pdf(
    patient: Patient, version: ConsentVersion
) -> None:
    signature = consent_sign(
        patient=patient, version=version, agreed=True, signer_name="Pat", actor=patient.user
    )
    assert send_signed_copy.call(signature.pk) is True
    assert send_signed_copy.call(signature.pk) is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.contact_email]
    ((filename, content, mimetype),) = message.attachments  # type: ignore[misc]
    assert mimetype == "application/pdf"
    assert filename.startswith("consent-v1-")
    assert content.startswith(b"%PDF")


# Staff


def test_front_desk_sees_the_consent_card_with_history(
    patient: Patient, version: ConsentVersion, front_desk: User
) -> None:
    signature = consent_sign(
        patient=patient, version=version, agreed=True, signer_name="Pat Ient", actor=patient.user
    )
    consent_withdraw(patient=patient, reason="Not today", actor=patient.user)
    html = client_for(front_desk).get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert "Consent to needling" in html
    assert "The patient withdrew consent on" in html
    assert "Not today" in html
    assert reverse("staff_consent_pdf", args=[patient.pk, signature.pk]) in html
    assert reverse("staff_consent_tablet", args=[patient.pk]) in html


def test_the_tablet_records_staff_and_thanks_without_showing_the_record(
    patient: Patient, version: ConsentVersion, front_desk: User
) -> None:
    client = client_for(front_desk, user_agent="ClinicTablet/1.0")
    url = reverse("staff_consent_tablet", args=[patient.pk])
    page = client.get(url).content.decode()
    assert "What IMS is" in page
    # No staff navigation on the patient's screen.
    assert f'href="{reverse("patient_list")}"' not in page
    assert f'href="{reverse("calendar_day")}"' not in page
    response = client.post(url, sign_form(version), follow=True)
    html = response.content.decode()
    assert "please hand the tablet back" in html.lower()
    assert patient.phone not in html and "1980" not in html
    signature = ConsentSignature.objects.get()
    assert signature.channel == Channel.TABLET
    assert signature.recorded_by == front_desk
    assert signature.user_agent == "ClinicTablet/1.0"


def test_staff_record_a_withdrawal(patient: Patient, version: ConsentVersion, physio: User) -> None:
    consent_sign(patient=patient, version=version, agreed=True, signer_name="P", actor=patient.user)
    client = client_for(physio)
    response = client.post(
        reverse("staff_consent_withdraw", args=[patient.pk]),
        {"reason": "Said so by phone"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("patient_detail", args=[patient.pk])
    assert (
        "The care team is told by email. "
        "The patient is sent a confirmation at pat@patients.example."
    ) in response.content.decode()
    assert consent_state(patient).code == StateCode.WITHDRAWN
    assert ConsentSignature.objects.get().withdrawn_by == physio


def test_staff_are_told_when_no_one_on_the_care_team_can_be_emailed(
    patient: Patient, version: ConsentVersion, physio: User
) -> None:
    consent_sign(patient=patient, version=version, agreed=True, signer_name="P", actor=patient.user)
    User.objects.filter(pk=physio.pk).update(email="")
    response = client_for(physio).post(
        reverse("staff_consent_withdraw", args=[patient.pk]), {"reason": ""}, follow=True
    )
    assert "No one on the care team can be told by email" in response.content.decode()


def test_the_emailed_withdrawal_link_opens_the_patient_for_the_care_team(
    patient: Patient, version: ConsentVersion, physio: User
) -> None:
    signature = consent_sign(
        patient=patient, version=version, agreed=True, signer_name="P", actor=patient.user
    )
    link = reverse("staff_consent_withdrawal", args=[signature.pk])
    assert client_for(physio).get(link).status_code == 404  # not withdrawn: no such withdrawal
    consent_withdraw(patient=patient, actor=patient.user)
    response = client_for(physio).get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("patient_detail", args=[patient.pk])


# The owner's pages


def test_the_owner_writes_previews_and_publishes_with_a_warning(
    owner: User, version: ConsentVersion, document: ConsentDocument
) -> None:
    client = client_for(owner)
    edit = reverse("consent_draft_edit", args=[document.pk])
    assert "What IMS is" in client.get(edit).content.decode()  # starts from the latest text
    response = client.post(edit, {"title": "Consent to IMS", "body": "Revised text."})
    draft = ConsentVersion.objects.get(status="draft")
    assert response["Location"] == reverse("consent_version_detail", args=[draft.pk])
    assert "Draft preview" in client.get(response["Location"]).content.decode()
    publish = reverse("consent_publish", args=[draft.pk])
    warning = client.get(publish).content.decode()
    assert "Publishing makes this text version 2" in warning
    assert "must sign again before their next needling" in warning
    refused = client.post(publish, {})
    assert "Tick the box" in refused.content.decode()
    client.post(publish, {"confirm": "on"})
    draft.refresh_from_db()
    assert draft.number == 2


def test_the_owner_starts_the_needling_consent(owner: User, location: object) -> None:
    client = client_for(owner)
    response = client.post(
        reverse("consent_document_new"),
        {"title": "Consent to IMS", "slug": "needling-consent", "for_needling": "on"},
    )
    document = ConsentDocument.objects.get()
    assert document.for_needling
    assert response["Location"] == reverse("consent_draft_edit", args=[document.pk])
    again = client.post(
        reverse("consent_document_new"),
        {"title": "Another", "slug": "other", "for_needling": "on"},
    )
    assert "already has a consent to needling" in again.content.decode()


def test_other_staff_read_published_versions_but_not_drafts(
    physio: User, owner: User, version: ConsentVersion, document: ConsentDocument
) -> None:
    from imsclinic.consent.services import consent_draft_save

    draft = consent_draft_save(document=document, title="T", body="Secret draft", actor=owner)
    client = client_for(physio)
    assert client.get(reverse("consent_version_detail", args=[version.pk])).status_code == 200
    assert client.get(reverse("consent_version_detail", args=[draft.pk])).status_code == 404
    assert "Secret draft" not in client.get(reverse("consent_admin")).content.decode()


def test_the_demo_clinic_has_a_signed_consent(db: None) -> None:
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    version = ConsentVersion.objects.get()
    for words in ("Brady", "Boyce", "pneumothorax", "24 to 48 hours", "withdraw"):
        assert words in version.body
    demo = Patient.objects.get(email="patient@example.com")
    state = consent_state(demo)
    assert state.current is not None
    assert state.current.version.number == 1
    # A second run signs nothing twice.
    assert ConsentSignature.objects.filter(patient=demo).count() == 1


def test_the_pdf_maker_never_reaches_the_network() -> None:
    from imsclinic.consent.pdf import _local_fetcher

    fetcher = _local_fetcher()
    for url in ("http://example.com/logo.png", "https://example.com/a.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)
