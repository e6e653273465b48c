"""Which visits a person may act on, answered with queries (the rules are in core.permissions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from imsclinic.core.models import ObjectType
from imsclinic.core.permissions import is_clinic_staff, is_practitioner, sees_every_patient
from imsclinic.patients.access import patients_own
from imsclinic.scheduling.models import Appointment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet
    from django.http import HttpRequest

    from imsclinic.accounts.models import User
    from imsclinic.patients.models import Patient


def visits_actionable_by(user: User | AnonymousUser) -> QuerySet[Appointment]:
    """Return the visits this staff user may act on (`scheduling.act_on_visit`, as a query)."""
    if not is_clinic_staff(user):
        return Appointment.objects.none()
    if sees_every_patient(user):
        return Appointment.objects.all()
    if not is_practitioner(user):
        return Appointment.objects.none()
    on_team = Q(patient__care_team__user=user, patient__care_team__is_active=True)
    return Appointment.objects.filter(Q(practitioner__user=user) | on_team).distinct()


def own_visit(request: HttpRequest, patient: Patient, appointment_id: int) -> Appointment:
    """Return one of this patient's visits; anyone else's is a 404 like a missing one, audited."""
    visits = Appointment.objects.select_related("service", "practitioner", "location__clinic")
    return patients_own(
        request, patient, visits, appointment_id, object_type=ObjectType.APPOINTMENT
    )
