"""The bench server's URLs: the whole app's, plus a bare insert to compare booking with.

Never part of the real app: only bench/http_settings.py names this module.
"""

from __future__ import annotations

import datetime as dt
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from imsclinic.clinic.models import Service
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.urls import urlpatterns as app_urlpatterns


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> HttpResponse:
    """Insert the row a booking would, from the same JSON body: no auth, lock, check or audit.

    The body is the one POST /api/v1/appointments takes, plus `room` and `location` (the bench
    names the bed the API would choose itself), so the row is the same row.
    """
    body = json.loads(request.body)
    service = Service.objects.get(slug=body["service"])
    start = dt.datetime.fromisoformat(body["start"]).astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=service.duration_minutes)
    visit = Appointment.objects.create(
        patient_id=body["patient"],
        practitioner_id=body["practitioner"],
        location_id=body["location"],
        room_id=body["room"],
        service=service,
        start=start,
        end=end,
        busy_until=end + dt.timedelta(minutes=service.buffer_minutes),
        status=AppointmentStatus.BOOKED,
    )
    return JsonResponse(
        {"id": visit.pk, "status": visit.status, "start": start, "end": end}, status=201
    )


urlpatterns = [path("bench/bare-insert/", bare_insert), *app_urlpatterns]
