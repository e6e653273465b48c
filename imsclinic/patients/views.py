"""Staff pages for patient records: list and search, summary, demographics."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from imsclinic.core.access import require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.patients.forms import DemographicsForm, PatientSearchForm
from imsclinic.patients.selectors import patient_for_user, patient_search
from imsclinic.patients.services import (
    patient_create,
    patient_search_recorded,
    patient_update_demographics,
)

PAGE_SIZE = 25


@login_required
def patient_list(request: SignedInRequest) -> HttpResponse:
    require_perm(request, "patients.list_patients", object_type=ObjectType.PATIENT_LIST)
    form = PatientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    patients = patient_search(user=request.user, query=query)
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    patient_search_recorded(
        request, user=request.user, query=query, page=page.number, shown=list(page.object_list)
    )
    template = "patients/_results.html" if request.htmx else "patients/patient_list.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page, "query": query})


@login_required
def patient_detail(request: SignedInRequest, patient_id: int) -> HttpResponse:
    patient = patient_for_user(request, user=request.user, patient_id=patient_id)
    audit_view(request, ObjectType.PATIENT, patient=patient, object_id=patient.pk)
    context = {
        "patient": patient,
        "can_edit": request.user.has_perm("patients.change_demographics", patient),
        "can_chart": request.user.has_perm("charting.view_chart", patient),
        "care_team": patient.care_team.filter(is_active=True),
    }
    return render(request, "patients/patient_detail.html", context)


@login_required
def patient_edit(request: SignedInRequest, patient_id: int) -> HttpResponse:
    patient = patient_for_user(
        request, user=request.user, patient_id=patient_id, perm="patients.change_demographics"
    )
    if request.method == "POST":
        # The form validates on a copy so the service can see what actually changed.
        form = DemographicsForm(request.POST, instance=copy.copy(patient))
        if form.is_valid():
            changed = patient_update_demographics(
                patient=patient, data=form.cleaned_data, actor=request.user, request=request
            )
            if changed:
                messages.success(request, _("Saved the patient's details."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("patient_detail", patient_id=patient.pk)
    else:
        form = DemographicsForm(instance=patient)
    # The form shows the record's details: a look at the record, like its summary page.
    audit_view(
        request, ObjectType.PATIENT, patient=patient, object_id=patient.pk, detail={"page": "edit"}
    )
    return render(request, "patients/patient_edit.html", {"patient": patient, "form": form})


@login_required
def patient_new(request: SignedInRequest) -> HttpResponse:
    if not request.user.has_perm("patients.add_patient"):
        raise PermissionDenied
    if request.method == "POST":
        form = DemographicsForm(request.POST)
        if form.is_valid():
            patient = patient_create(data=form.cleaned_data, actor=request.user, request=request)
            messages.success(request, _("Added %(name)s.") % {"name": patient.full_name})
            return redirect("patient_detail", patient_id=patient.pk)
    else:
        form = DemographicsForm()
    return render(request, "patients/patient_new.html", {"form": form})
