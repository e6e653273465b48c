"""Consent pages: the owner writes and publishes; patients sign in the portal or on a tablet."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from imsclinic.clinic.selectors import clinic_date_text, clinic_zone
from imsclinic.consent.forms import DocumentForm, DraftForm, PublishForm, SignForm, WithdrawForm
from imsclinic.consent.models import (
    Channel,
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    VersionStatus,
)
from imsclinic.consent.pdf import pdf_filename, signature_pdf
from imsclinic.consent.selectors import (
    consent_state,
    latest_published_version,
    local_time_text,
    signatures_of,
    withdrawal_notice_team,
)
from imsclinic.consent.services import (
    ConsentError,
    consent_document_create,
    consent_draft_save,
    consent_publish,
    consent_sign,
    consent_withdraw,
    patient_is_minor,
)
from imsclinic.consent.text import body_html
from imsclinic.core.access import refuse
from imsclinic.core.audit import audit_record, audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.permissions import is_clinic_staff, is_owner
from imsclinic.patients.access import patient_page, patients_own
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user

# ---------------------------------------------------------------------------------------------
# Shared pieces


def _pdf_response(request: SignedInRequest, signature: ConsentSignature) -> HttpResponse:
    """Send the signed copy as a PDF download, audited and never cached."""
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        object_type=ObjectType.CONSENT_SIGNATURE,
        object_id=signature.pk,
        patient_id=signature.patient_id,
        request=request,
        detail={"format": "pdf", "version": signature.version.number},
    )
    response = HttpResponse(signature_pdf(signature), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(signature)}"'
    response["Cache-Control"] = "no-store"
    return response


def _sign_page(
    request: SignedInRequest,
    patient: Patient,
    *,
    channel: Channel,
    template: str,
    done_url: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    version = latest_published_version()
    state = consent_state(patient)
    minor = patient_is_minor(patient)
    if minor:
        guardian = "required"
    elif channel == Channel.TABLET:
        guardian = "optional"
    else:
        guardian = "none"
    context: dict[str, Any] = {
        "patient": patient,
        "version": version,
        "state": state,
        "minor": minor,
        "channel": channel,
        **(extra or {}),
    }
    if version is None or state.current is not None:
        return render(request, template, {**context, "form": None})
    if request.method == "POST":
        form = SignForm(request.POST, guardian=guardian)
        if form.is_valid():
            shown = ConsentVersion.objects.filter(pk=form.cleaned_data["version_id"]).first()
            try:
                consent_sign(
                    patient=patient,
                    version=shown or version,
                    agreed=form.cleaned_data["agreed"],
                    signer_name=form.cleaned_data["signer_name"],
                    signer=form.chosen_signer(),
                    guardian_relationship=form.cleaned_data.get("guardian_relationship") or "",
                    drawn_signature=form.cleaned_data["drawn_signature"],
                    channel=channel,
                    request=request,
                    actor=request.user,
                )
            except ConsentError as exc:
                if shown is not None and shown.pk != version.pk:
                    # A newer text was published meanwhile: show it, keep what was typed.
                    data = request.POST.copy()
                    data["version_id"] = str(version.pk)
                    form = SignForm(data, guardian=guardian)
                    form.is_valid()
                # The drawn signature is a hidden field: what is wrong with it shows at the top.
                refusal_to_form(form, exc, field_map={"drawn_signature": None})
            else:
                return redirect(done_url)
    else:
        form = SignForm(initial={"version_id": version.pk}, guardian=guardian)
    context.update(
        form=form,
        body=body_html(version.body),
        published=local_time_text(version.published_at) if version.published_at else "",
    )
    return render(request, template, context)


def _own_signature(
    request: SignedInRequest, patient: Patient, signature_id: int
) -> ConsentSignature:
    """Return the patient's signed consent; anyone else's is a 404 like a missing one, audited."""
    signatures = ConsentSignature.objects.select_related(
        "version__document", "patient", "recorded_by"
    )
    return patients_own(
        request, patient, signatures, signature_id, object_type=ObjectType.CONSENT_SIGNATURE
    )


# ---------------------------------------------------------------------------------------------
# The patient portal


@patient_page
def portal_consent(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show the patient where their consent stands and what they have signed."""
    state = consent_state(patient)
    zone = clinic_zone()
    audit_view(request, ObjectType.CONSENT, patient=patient, detail={"page": "portal"})
    context = {
        "patient": patient,
        "state": state,
        "signatures": [
            {
                "signature": signature,
                "signed_on": clinic_date_text(signature.signed_at, zone),
                "withdrawn_on": (
                    clinic_date_text(signature.withdrawn_at, zone) if signature.withdrawn_at else ""
                ),
            }
            for signature in signatures_of(patient)
        ],
        "signed_at": local_time_text(state.current.signed_at, zone) if state.current else "",
    }
    return render(request, "consent/portal_consent.html", context)


@patient_page
@require_http_methods(["GET", "POST"])
def portal_consent_sign(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show the exact consent text and let the patient (or guardian) sign it."""
    return _sign_page(
        request,
        patient,
        channel=Channel.PORTAL,
        template="consent/portal_sign.html",
        done_url=reverse("portal_consent"),
    )


@patient_page
@require_http_methods(["GET", "POST"])
def portal_consent_withdraw(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Explain what withdrawing means, then withdraw when the patient confirms."""
    state = consent_state(patient)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            consent_withdraw(
                patient=patient,
                reason=form.cleaned_data["reason"],
                request=request,
                actor=request.user,
            )
        except ConsentError as exc:
            messages.error(request, str(exc))
        else:
            text = _("Your consent is withdrawn. You will not be needled unless you sign again.")
            if patient.contact_email:
                text += " " + _("A confirmation is on its way to %(email)s.") % {
                    "email": patient.contact_email
                }
            messages.success(request, text)
        return redirect("portal_consent")
    context = {"patient": patient, "state": state, "form": form}
    return render(request, "consent/portal_withdraw.html", context)


@patient_page
def portal_consent_pdf(
    request: SignedInRequest, patient: Patient, signature_id: int
) -> HttpResponse:
    """Download one of the patient's own signed consents as a PDF."""
    return _pdf_response(request, _own_signature(request, patient, signature_id))


# ---------------------------------------------------------------------------------------------
# Staff: the tablet, downloads, withdrawals on the patient's behalf


def _staff_patient(request: SignedInRequest, patient_id: int, *, asked_for: ObjectType) -> Patient:
    """Return a patient this staff member may open; patients and outsiders get a 404."""
    return patient_for_user(request, user=request.user, patient_id=patient_id, asked_for=asked_for)


@login_required
@require_http_methods(["GET", "POST"])
def staff_consent_tablet(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Show the signing form in a hand-the-tablet-to-the-patient layout."""
    patient = _staff_patient(request, patient_id, asked_for=ObjectType.CONSENT_TABLET)
    if request.method == "GET":
        audit_view(request, ObjectType.CONSENT_TABLET, patient=patient, object_id=patient.pk)
    return _sign_page(
        request,
        patient,
        channel=Channel.TABLET,
        template="consent/tablet_sign.html",
        done_url=reverse("staff_consent_tablet_done", args=[patient.pk]),
    )


@login_required
def staff_consent_tablet_done(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Thank the signer and ask for the tablet back, showing nothing about anyone."""
    patient = _staff_patient(request, patient_id, asked_for=ObjectType.CONSENT_TABLET)
    return render(request, "consent/tablet_done.html", {"patient_id": patient.pk})


@login_required
def staff_consent_pdf(request: SignedInRequest, patient_id: int, signature_id: int) -> HttpResponse:
    """Download a patient's signed consent as a PDF."""
    patient = _staff_patient(request, patient_id, asked_for=ObjectType.CONSENT_SIGNATURE)
    return _pdf_response(request, _own_signature(request, patient, signature_id))


@login_required
@require_GET
def staff_consent_withdrawal(request: SignedInRequest, signature_id: int) -> HttpResponse:
    """Open the patient whose consent this withdrawal ended, for staff who may see them.

    The care team's email links here rather than to the patient, so that the email holds
    neither the patient's record number nor anything else about them.
    """
    patient_id = (
        ConsentSignature.objects.filter(pk=signature_id, withdrawn_at__isnull=False)
        .values_list("patient_id", flat=True)
        .first()
    )
    if patient_id is None:
        raise refuse(
            request,
            object_type=ObjectType.CONSENT_WITHDRAWAL,
            object_id=signature_id,
            reason="no such withdrawal",
        )
    patient = _staff_patient(request, patient_id, asked_for=ObjectType.CONSENT_WITHDRAWAL)
    return redirect("patient_detail", patient_id=patient.pk)


@login_required
@require_http_methods(["GET", "POST"])
def staff_consent_withdraw(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """Record that the patient withdrew consent (said so at the clinic or by phone)."""
    patient = _staff_patient(request, patient_id, asked_for=ObjectType.CONSENT_WITHDRAWAL)
    state = consent_state(patient)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    form.fields["reason"].label = _("What the patient said (optional)")
    form.fields["reason"].help_text = ""
    if request.method == "POST" and form.is_valid():
        try:
            consent_withdraw(
                patient=patient,
                reason=form.cleaned_data["reason"],
                request=request,
                actor=request.user,
            )
        except ConsentError as exc:
            messages.error(request, str(exc))
        else:
            parts = [_("Recorded the withdrawal of consent.")]
            if withdrawal_notice_team(patient):
                parts.append(_("The care team is told by email."))
            else:
                parts.append(
                    _(
                        "No one on the care team can be told by email: tell whoever treats "
                        "the patient next."
                    )
                )
            if patient.contact_email:
                parts.append(
                    _("The patient is sent a confirmation at %(email)s.")
                    % {"email": patient.contact_email}
                )
            messages.success(request, " ".join(parts))
        return redirect("patient_detail", patient_id=patient.pk)
    context = {"patient": patient, "state": state, "form": form}
    return render(request, "consent/staff_withdraw.html", context)


# ---------------------------------------------------------------------------------------------
# The owner: documents, drafts, publishing


def _staff_only(request: SignedInRequest) -> None:
    if not is_clinic_staff(request.user):
        raise refuse(request, object_type=ObjectType.CONSENT_DOCUMENT, error=PermissionDenied())


def _owner_only(request: SignedInRequest) -> None:
    if not is_owner(request.user):
        raise refuse(request, object_type=ObjectType.CONSENT_DOCUMENT, error=PermissionDenied())


@login_required
def consent_admin(request: SignedInRequest) -> HttpResponse:
    """List the clinic's consent documents and their versions."""
    _staff_only(request)
    documents = ConsentDocument.objects.prefetch_related("versions")
    context = {"documents": documents, "can_write": is_owner(request.user)}
    return render(request, "consent/admin_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consent_document_new(request: SignedInRequest) -> HttpResponse:
    """Start a new consent document."""
    _owner_only(request)
    has_needling = ConsentDocument.objects.filter(for_needling=True).exists()
    initial = {} if has_needling else {"for_needling": True, "slug": "needling-consent"}
    form = DocumentForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            document = consent_document_create(
                slug=form.cleaned_data["slug"],
                title=form.cleaned_data["title"],
                for_needling=form.cleaned_data["for_needling"],
                actor=request.user,
            )
        except ConsentError as exc:
            refusal_to_form(form, exc)
        else:
            return redirect("consent_draft_edit", document_id=document.pk)
    return render(request, "consent/admin_document_new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def consent_draft_edit(request: SignedInRequest, document_id: int) -> HttpResponse:
    """Write or change the document's draft; a new draft starts from the latest version."""
    _owner_only(request)
    document = get_object_or_404(ConsentDocument, pk=document_id)
    draft = document.versions.filter(status=VersionStatus.DRAFT).first()
    latest = latest_published_version(document)
    if draft is not None:
        initial = {"title": draft.title, "body": draft.body}
    elif latest is not None:
        initial = {"title": latest.title, "body": latest.body}
    else:
        initial = {"title": document.title, "body": ""}
    form = DraftForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = consent_draft_save(
                document=document,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                actor=request.user,
            )
        except ConsentError as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, _("Saved the draft. Patients do not see it yet."))
            return redirect("consent_version_detail", version_id=saved.pk)
    context = {"document": document, "draft": draft, "latest": latest, "form": form}
    return render(request, "consent/admin_draft.html", context)


@login_required
def consent_version_detail(request: SignedInRequest, version_id: int) -> HttpResponse:
    """Preview a draft or read a published version as patients see it."""
    _staff_only(request)
    version = get_object_or_404(ConsentVersion.objects.select_related("document"), pk=version_id)
    if version.status == VersionStatus.DRAFT and not is_owner(request.user):
        raise Http404
    context = {
        "version": version,
        "body": body_html(version.body),
        "can_write": is_owner(request.user),
        "published": local_time_text(version.published_at) if version.published_at else "",
        "signature_count": version.signatures.count(),
    }
    return render(request, "consent/admin_version.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consent_publish_page(request: SignedInRequest, version_id: int) -> HttpResponse:
    """Ask the owner to confirm, then publish the draft as the next version."""
    _owner_only(request)
    draft = get_object_or_404(
        ConsentVersion.objects.select_related("document"),
        pk=version_id,
        status=VersionStatus.DRAFT,
    )
    latest = latest_published_version(draft.document)
    next_number = (latest.number or 0) + 1 if latest is not None else 1
    form = PublishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            version = consent_publish(draft=draft, actor=request.user)
        except ConsentError as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(
                request, _("Published version %(number)d.") % {"number": version.number}
            )
            return redirect("consent_version_detail", version_id=version.pk)
    context = {
        "draft": draft,
        "latest": latest,
        "next_number": next_number,
        "form": form,
        "body": body_html(draft.body),
    }
    return render(request, "consent/admin_publish.html", context)
