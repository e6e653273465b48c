"""Pages for signed-in patients: their own visits and details."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from imsclinic.patients.models import Patient
from imsclinic.scheduling.selectors import upcoming_appointments_for_patient


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    """Show a patient their upcoming visits and the details the clinic holds."""
    if request.user.is_clinic_staff:  # type: ignore[union-attr]
        return redirect("patient_list")
    patient = Patient.objects.filter(user=request.user).first()  # type: ignore[misc]
    if patient is not None and not request.user.has_perm("patients.view_own_record", patient):
        patient = None
    context = {
        "patient": patient,
        "upcoming": upcoming_appointments_for_patient(patient) if patient else [],
    }
    return render(request, "portal/home.html", context)
