"""Writing consent: drafts, publishing, signing and withdrawal. Every change goes through here.

Who may sign:
- a patient of 18 or over signs for themself (signer "self");
- for a patient under 18 (on the clinic's calendar day) a parent or guardian signs, giving
  their name and relationship (signer "guardian");
- an adult who cannot consent for themself is signed for by a substitute decision-maker,
  recorded by staff on the clinic tablet only (staff have checked the authority in person),
  also as signer "guardian" with the relationship.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.consent.models import (
    BODY_MAX,
    DRAWN_SIGNATURE_MAX_CHARS,
    GUARDIAN_RELATIONSHIP_MAX,
    SIGNER_NAME_MAX,
    USER_AGENT_MAX,
    WITHDRAWAL_REASON_MAX,
    Channel,
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    Signer,
    VersionStatus,
    text_sha256,
)
from imsclinic.consent.selectors import latest_published_version
from imsclinic.consent.text import DrawnSignatureError, check_drawn_signature
from imsclinic.core.audit import audit_record, client_ip
from imsclinic.core.errors import Refused
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.permissions import is_clinic_staff, is_owner, is_the_patient
from imsclinic.core.queueing import queue_with_change
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

ADULT_AGE = 18


class ConsentError(Refused):
    """A consent change the rules refuse."""


def _require_owner(actor: User) -> None:
    if not is_owner(actor):
        raise PermissionDenied


def consent_document_create(
    *, slug: str, title: str, for_needling: bool = False, actor: User
) -> ConsentDocument:
    """Start a new consent document (the owner only)."""
    _require_owner(actor)
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = _("Give the document a title.")
    if ConsentDocument.objects.filter(slug=slug).exists():
        errors["slug"] = _("Another document already uses this short name.")
    if for_needling and ConsentDocument.objects.filter(for_needling=True).exists():
        errors["for_needling"] = _("The clinic already has a consent to needling.")
    if errors:
        raise ConsentError(errors=errors)
    with transaction.atomic(durable=True):
        document = ConsentDocument.objects.create(
            slug=slug, title=title.strip(), for_needling=for_needling
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.CONSENT_DOCUMENT,
            object_id=document.pk,
            detail={"slug": slug, "for_needling": for_needling},
        )
    return document


def consent_draft_save(
    *, document: ConsentDocument, title: str, body: str, actor: User
) -> ConsentVersion:
    """Create or change the document's one draft (the owner only)."""
    _require_owner(actor)
    title = title.strip()
    body = body.replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Give the consent a title.")
    if not body:
        errors["body"] = _("Write the text patients will read and agree to.")
    elif len(body) > BODY_MAX:
        errors["body"] = _("The text is too long (at most %(max)d characters).") % {"max": BODY_MAX}
    if errors:
        raise ConsentError(errors=errors)
    with transaction.atomic(durable=True):
        ConsentDocument.objects.select_for_update(no_key=True).get(pk=document.pk)
        draft = ConsentVersion.objects.filter(document=document, status=VersionStatus.DRAFT).first()
        created = draft is None
        if draft is None:
            draft = ConsentVersion(document=document, created_by=actor)
        draft.title = title
        draft.body = body
        draft.body_sha256 = text_sha256(body)
        draft.save()
        audit_record(
            actor=actor,
            action=Action.CREATE if created else Action.UPDATE,
            object_type=ObjectType.CONSENT_VERSION,
            object_id=draft.pk,
            detail={"document": document.pk, "status": "draft", "body_sha256": draft.body_sha256},
        )
    return draft


def consent_publish(
    *, draft: ConsentVersion, actor: User, now: dt.datetime | None = None
) -> ConsentVersion:
    """Freeze the draft as the document's next version number (the owner only)."""
    _require_owner(actor)
    with transaction.atomic(durable=True):
        # The document's row lock orders two publishes: each gets its own number.
        ConsentDocument.objects.select_for_update(no_key=True).get(pk=draft.document_id)
        version = ConsentVersion.objects.select_for_update(no_key=True).get(pk=draft.pk)
        if version.status != VersionStatus.DRAFT:
            raise ConsentError(_("This version is already published."))
        highest = ConsentVersion.objects.filter(document_id=version.document_id).aggregate(
            n=Max("number")
        )["n"]
        version.number = (highest or 0) + 1
        version.status = VersionStatus.PUBLISHED
        version.published_at = now or timezone.now()
        version.published_by = actor
        version.body_sha256 = text_sha256(version.body)
        version.save(
            update_fields=["number", "status", "published_at", "published_by", "body_sha256"]
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.CONSENT_VERSION,
            object_id=version.pk,
            detail={
                "document": version.document_id,
                "status": "published",
                "number": version.number,
                "body_sha256": version.body_sha256,
            },
        )
    draft.refresh_from_db()
    return version


def patient_is_minor(patient: Patient, *, now: dt.datetime | None = None) -> bool:
    """Say whether the patient is under 18 today (or on `now`'s day), on the clinic's calendar."""
    today = (now or timezone.now()).astimezone(clinic_zone()).date()
    return patient.age_on(today) < ADULT_AGE


_UNREADABLE = gettext_lazy(
    "The drawn signature could not be read. Clear it and sign again, or leave it out."
)
_DRAWN_MESSAGES = {
    "too_large": gettext_lazy(
        "The drawn signature is too large. Clear it and sign again, or leave it out."
    ),
    "not_png": _UNREADABLE,
    "not_path": _UNREADABLE,
    "empty": gettext_lazy("The drawn signature is empty. Sign again, or leave it out."),
}


def consent_sign(
    *,
    patient: Patient,
    version: ConsentVersion,
    agreed: bool,
    signer_name: str,
    signer: str = Signer.SELF,
    guardian_relationship: str = "",
    drawn_signature: str = "",
    channel: str = Channel.PORTAL,
    request: HttpRequest | None = None,
    actor: User | None,
    now: dt.datetime | None = None,
) -> ConsentSignature:
    """Record the patient's (or guardian's) agreement to the latest version, exactly as shown."""
    now = now or timezone.now()
    channel = Channel(channel)
    signer = Signer(signer)
    staff = is_clinic_staff(actor)
    if channel == Channel.PORTAL and not is_the_patient(actor, patient):
        raise PermissionDenied
    if channel == Channel.TABLET and not (
        staff and actor is not None and actor.has_perm("patients.view_patient", patient)
    ):
        raise PermissionDenied
    signer_name = " ".join(signer_name.split())
    guardian_relationship = " ".join(guardian_relationship.split())
    errors: dict[str, str] = {}
    if not agreed:
        errors["agreed"] = _("Tick the box to say you have read and agree to the text.")
    if not signer_name:
        errors["signer_name"] = _("Type your full name.")
    elif len(signer_name) > SIGNER_NAME_MAX:
        errors["signer_name"] = _("The name is too long (at most %(max)d characters).") % {
            "max": SIGNER_NAME_MAX
        }
    minor = patient_is_minor(patient, now=now)
    if minor and signer != Signer.GUARDIAN:
        errors["signer"] = _("The patient is under 18, so a parent or guardian must sign for them.")
    if not minor and signer == Signer.GUARDIAN and channel != Channel.TABLET:
        errors["signer"] = _(
            "An adult patient signs for themself. If someone else decides for the patient, "
            "they sign at the clinic with a member of staff."
        )
    if signer == Signer.GUARDIAN and not guardian_relationship:
        errors["guardian_relationship"] = _(
            "Say how you are related to the patient (for example, mother or legal guardian)."
        )
    elif len(guardian_relationship) > GUARDIAN_RELATIONSHIP_MAX:
        errors["guardian_relationship"] = _("Keep this under %(max)d characters.") % {
            "max": GUARDIAN_RELATIONSHIP_MAX
        }
    try:
        drawn = check_drawn_signature(drawn_signature, max_chars=DRAWN_SIGNATURE_MAX_CHARS)
    except DrawnSignatureError as exc:
        errors["drawn_signature"] = str(_DRAWN_MESSAGES[str(exc)])
        drawn = ""
    if errors:
        raise ConsentError(errors=errors)
    with transaction.atomic(durable=True):
        # The patient's row lock makes two clicks on "Sign" one signature, not two.
        Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
        latest = latest_published_version(version.document)
        if latest is None or latest.pk != version.pk:
            raise ConsentError(
                _(
                    "The consent text has changed since this page was opened. "
                    "Please read the new version and sign again."
                )
            )
        if ConsentSignature.objects.filter(
            patient=patient, version=latest, withdrawn_at__isnull=True
        ).exists():
            raise ConsentError(_("This version is already signed."))
        text = latest.text_as_shown
        user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
        signature = ConsentSignature.objects.create(
            patient=patient,
            version=latest,
            text_shown=text,
            text_sha256=text_sha256(text),
            signer=signer,
            signer_name=signer_name,
            guardian_relationship=guardian_relationship if signer == Signer.GUARDIAN else "",
            agreed=True,
            drawn_signature=drawn,
            signed_at=now,
            ip_address=client_ip(request),
            user_agent=str(user_agent)[:USER_AGENT_MAX],
            channel=channel,
            signed_by_user=actor if channel == Channel.PORTAL else None,
            recorded_by=actor if channel == Channel.TABLET else None,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.CONSENT_SIGNATURE,
            object_id=signature.pk,
            patient=patient,
            request=request,
            detail={
                "version": latest.number,
                "document": latest.document_id,
                "text_sha256": signature.text_sha256,
                "signer": signer.value,
                "channel": channel.value,
                "drawn": bool(drawn),
            },
        )
        signature_id = signature.pk

        def enqueue() -> None:
            from imsclinic.consent.tasks import send_signed_copy

            send_signed_copy.enqueue(signature_id)

        # The task row commits with the signature (see queue_with_change).
        queue_with_change(enqueue)
    return signature


def consent_withdraw(
    *,
    patient: Patient,
    reason: str = "",
    request: HttpRequest | None = None,
    actor: User | None,
) -> list[ConsentSignature]:
    """Withdraw the patient's standing consent to needling: no needling until they sign again."""
    allowed = is_the_patient(actor, patient) or (
        is_clinic_staff(actor)
        and actor is not None
        and actor.has_perm("patients.view_patient", patient)
    )
    if not allowed:
        raise PermissionDenied
    reason = reason.strip()
    if len(reason) > WITHDRAWAL_REASON_MAX:
        raise ConsentError(
            errors={
                "reason": _("Keep the reason under %(max)d characters.")
                % {"max": WITHDRAWAL_REASON_MAX}
            }
        )
    with transaction.atomic(durable=True):
        Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
        standing = list(
            ConsentSignature.objects.select_for_update(of=("self",), no_key=True)
            .filter(
                patient=patient, withdrawn_at__isnull=True, version__document__for_needling=True
            )
            .order_by("pk")
        )
        if not standing:
            raise ConsentError(_("There is no signed consent to withdraw."))
        now = timezone.now()
        for signature in standing:
            signature.withdrawn_at = now
            signature.withdrawn_by = actor
            signature.withdrawal_reason = reason
            signature.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
            audit_record(
                actor=actor,
                action=Action.UPDATE,
                object_type=ObjectType.CONSENT_SIGNATURE,
                object_id=signature.pk,
                patient=patient,
                request=request,
                detail={"withdrawn": True, "version": signature.version.number},
            )
        first_id = standing[0].pk

        def enqueue() -> None:
            from imsclinic.consent.tasks import send_withdrawal_notice

            send_withdrawal_notice.enqueue(first_id)

        queue_with_change(enqueue)
    return standing
