"""The physiotherapy note of a visit that is not IMS: start, write, sign, addenda.

One page, one URL, like the needling note: each button is a plain form POST (`action`).
The care team reads the note; only the visit's practitioner starts, writes and signs it;
the owner and the care team add addenda once it is signed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from imsclinic.charting import services
from imsclinic.charting.errors import ChartingError
from imsclinic.charting.forms.physio import PhysioNoteForm
from imsclinic.charting.forms.session import AddendumForm
from imsclinic.charting.models import PhysioNote
from imsclinic.charting.selectors import measures_due_at
from imsclinic.charting.views.session import chart_visit
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import refuse
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.scheduling.models import Appointment


def _visit(request: SignedInRequest, appointment_id: int) -> Appointment:
    return chart_visit(request, appointment_id, object_type=ObjectType.PHYSIO_NOTE)


def _note(appointment: Appointment) -> PhysioNote | None:
    return (
        PhysioNote.objects.filter(appointment=appointment)
        .select_related("practitioner", "signed_by")
        .first()
    )


def _stored(note: PhysioNote) -> dict[str, Any]:
    return {name: getattr(note, name) for name in PhysioNoteForm.base_fields}


@login_required
@require_http_methods(["GET", "POST"])
def physio_note(request: SignedInRequest, appointment_id: int) -> HttpResponse:
    """Show, start, write or sign the physiotherapy note of one visit; add addenda once signed."""
    appointment = _visit(request, appointment_id)
    note = _note(appointment)
    here = reverse("physio_note", args=[appointment.pk])
    action = request.POST.get("action", "") if request.method == "POST" else ""

    if request.method == "GET":
        audit_view(
            request,
            ObjectType.PHYSIO_NOTE,
            patient=appointment.patient,
            object_id=note.pk if note else "",
            detail={"appointment": appointment.pk},
        )
        return _render(request, appointment, note)
    if action == "start":
        if note is not None:
            return redirect(here)
        try:
            services.physio_note_start(appointment=appointment, actor=request.user, request=request)
        except ChartingError as refusal:
            return _render(request, appointment, None, problems=[refusal.message])
        messages.success(request, _("Started the physiotherapy note."))
        return redirect(here)
    if note is None:
        return redirect(here)
    if note.is_signed:
        if action == "addendum":
            return _addendum(request, appointment, note, here)
        messages.error(request, _("This note is signed: it cannot be changed."))
        return redirect(here)
    if not request.user.has_perm("charting.edit_draft", note):
        raise refuse(
            request,
            object_type=ObjectType.PHYSIO_NOTE,
            object_id=note.pk,
            patient_id=appointment.patient_id,
            error=PermissionDenied(),
        )
    form = PhysioNoteForm(request.POST)
    if not form.is_valid():
        return _render(request, appointment, note, form=form)
    try:
        note = services.physio_note_save_draft(
            note=note, actor=request.user, data=form.cleaned_data, request=request
        )
    except ChartingError as refusal:
        refusal_to_form(form, refusal)
        return _render(request, appointment, note, form=form)
    if action != "sign":
        messages.success(request, _("Saved the draft."))
        return redirect(here)
    try:
        services.physio_note_sign(note=note, actor=request.user, request=request)
    except ChartingError as refusal:
        refusal_to_form(form, refusal)
        return _render(request, appointment, note, form=form, problems=[refusal.message])
    messages.success(request, _("Signed. The note can no longer be changed."))
    return redirect(here)


def _addendum(
    request: SignedInRequest, appointment: Appointment, note: PhysioNote, here: str
) -> HttpResponse:
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.addendum_add(
                note=note,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
                actor=request.user,
                request=request,
            )
        except ChartingError as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(request, _("Added the addendum."))
            return redirect(f"{here}#addenda")
    return _render(request, appointment, note, addendum_form=form)


def _render(
    request: SignedInRequest,
    appointment: Appointment,
    note: PhysioNote | None,
    *,
    form: PhysioNoteForm | None = None,
    addendum_form: AddendumForm | None = None,
    problems: list[str] | None = None,
) -> HttpResponse:
    patient = appointment.patient
    context: dict[str, Any] = {
        "appointment": appointment,
        "patient": patient,
        "note": note,
        "zone": clinic_zone(),
        "problems": problems,
        "is_ims": appointment.service.requires_ims_credential,
        "may_write": appointment.practitioner.user_id == request.user.pk
        and request.user.has_perm("charting.add_note", patient),
    }
    if note is None:
        return render(request, "charting/physio_start.html", context)
    if note.is_signed or not request.user.has_perm("charting.edit_draft", note):
        context.update(
            measures_due=note.measures_due if note.is_signed else measures_due_at(appointment),
            addenda=list(note.addenda.select_related("author").order_by("created_at", "pk")),
            addendum_form=(
                addendum_form or AddendumForm()
                if note.is_signed and request.user.has_perm("charting.add_addendum", patient)
                else None
            ),
        )
        return render(request, "charting/physio_signed.html", context)
    context.update(
        form=form or PhysioNoteForm(initial=_stored(note)),
        measures_due=measures_due_at(appointment),
    )
    return render(request, "charting/physio_draft.html", context)
