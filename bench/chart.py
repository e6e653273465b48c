"""Time the chart page of a patient with a long course of care (100 signed sessions).

Called from `python -m bench` after Django is set up on the bench's throwaway database.
`seed_course` lays the sessions down directly (rows inserted in bulk, as the demo does), so
the figure is the page's cost, not the seeding's; the tests use it too, to pin the page's
query count. Prints `chart_100_sessions_ms` (median of BENCH_CHART_REQUESTS requests) and
`chart_100_sessions_queries`.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from decimal import Decimal
from typing import Any

SESSIONS = 100
REQUESTS = int(os.environ.get("BENCH_CHART_REQUESTS", "15"))
ROWS_PER_SESSION = 4
# A chart the practitioner opens on a tablet at the start of a visit should be quick.
CHART_MS_GOAL = 500.0


def seed_course(
    patient: Any,
    user: Any,
    service: Any,
    lot: Any,
    *,
    sessions: int,
    rows: int = ROWS_PER_SESSION,
    first_week: int = 0,
) -> list[Any]:
    """Give the patient `sessions` signed weekly needling sessions with `rows` muscles each.

    The visits go back one week at a time from `first_week` weeks before the day before
    yesterday, so two courses seeded with different `first_week` never overlap.
    """
    from django.utils import timezone

    from imsclinic.charting.models import (
        Addendum,
        Muscle,
        NeedlingRow,
        NeedlingSession,
        NoteStatus,
    )
    from imsclinic.scheduling.models import Appointment, AppointmentStatus

    muscles = list(Muscle.objects.filter(is_active=True).order_by("order", "name")[:24])
    practitioner = user.practitioner
    location = practitioner.locations.order_by("pk").first()
    first = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
    visits = []
    for index in range(sessions):
        start = first - dt.timedelta(days=7 * (first_week + index + 1))
        end = start + dt.timedelta(minutes=service.duration_minutes)
        visits.append(
            Appointment(
                patient=patient,
                practitioner=practitioner,
                location=location,
                service=service,
                start=start,
                end=end,
                busy_until=end,
                status=AppointmentStatus.COMPLETED,
            )
        )
    Appointment.objects.bulk_create(visits)
    notes = [
        NeedlingSession(
            patient=patient,
            appointment=visit,
            practitioner=user,
            created_at=visit.start,
            nprs_before=6 - index % 3,
            nprs_after=3 - index % 3,
            aftercare_given=True,
            aftercare_notes="Heat and gentle movement.",
        )
        for index, visit in enumerate(visits)
    ]
    NeedlingSession.objects.bulk_create(notes)
    NeedlingRow.objects.bulk_create(
        NeedlingRow(
            session=note,
            position=position + 1,
            muscle=muscles[(index + position) % len(muscles)],
            side="left" if (index + position) % 2 else "right",
            segment=muscles[(index + position) % len(muscles)].root_from,
            insertions=2 + position,
            needle_lot=lot,
            grasp="moderate",
            release=True,
            twitch=position % 2 == 0,
            tolerance="good",
        )
        for index, note in enumerate(notes)
        for position in range(rows)
    )
    # Signed only once the rows are in: on PostgreSQL a trigger refuses rows for a signed note.
    NeedlingSession.objects.filter(pk__in=[note.pk for note in notes]).update(
        status=NoteStatus.SIGNED, signed_at=timezone.now(), signed_by=user
    )
    Addendum.objects.bulk_create(
        Addendum(session=note, author=user, reason="Clarification", text="Side confirmed.")
        for note in notes[::10]
    )
    return notes


def run_chart(console: Any) -> list[tuple[str, str]]:
    """Seed a patient with SESSIONS sessions and time their chart page; return figure lines."""
    from allauth.mfa.models import Authenticator
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from imsclinic.accounts.middleware import SESSION_MFA_PROVEN
    from imsclinic.accounts.models import User
    from imsclinic.clinic.models import Clinic, Location, NeedleLot, Practitioner, Service
    from imsclinic.core.roles import Role
    from imsclinic.patients.models import Patient

    with console.status(f"Charting {SESSIONS} sessions for one patient…"):
        user = User.objects.create_user(
            "bench.chart@example.com",
            None,
            role=Role.PRACTITIONER,
            first_name="Bea",
            last_name="Chart",
        )
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
        )
        location = Location.objects.order_by("pk").first() or Location.objects.create(
            clinic=Clinic.current() or Clinic.objects.create(name="Bench clinic"),
            name="Chart bench",
            slug="chart-bench",
            time_zone="America/Vancouver",
        )
        practitioner = Practitioner.objects.create(
            user=user,
            first_name="Bea",
            last_name="Chart",
            slug="bench-chart",
            ims_certified_on=dt.date(2012, 1, 1),
        )
        practitioner.locations.add(location)
        service = Service.objects.create(
            name="Chart bench IMS",
            slug="chart-bench-ims",
            duration_minutes=30,
            price=Decimal("95.00"),
            requires_ims_credential=True,
        )
        patient = Patient.objects.create(
            given_name="Cora", family_name="Course", date_of_birth=dt.date(1970, 5, 5)
        )
        patient.care_team.add(practitioner)
        today = timezone.localdate()
        lot = NeedleLot.objects.create(
            lot_number="BENCH-1",
            manufacturer="Bench Needles",
            diameter_mm=Decimal("0.30"),
            length_mm=40,
            expires_on=today + dt.timedelta(days=700),
            quantity_received=1000,
            received_on=today,
        )
        seed_course(patient, user, service, lot, sessions=SESSIONS)

    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_MFA_PROVEN] = True
    session.save()
    url = f"/staff/patients/{patient.pk}/chart/"
    client.get(url)  # warm up templates and connections
    millis: list[float] = []
    queries: list[int] = []
    with console.status("Timing the chart page…"):
        for _ in range(REQUESTS):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url)
                millis.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"bench: the chart page answered {response.status_code}")
            queries.append(len(captured))
    median = statistics.median(millis)
    return [
        ("chart_100_sessions_ms", f"{median:.2f}"),
        ("chart_100_sessions_queries", str(max(queries))),
        ("chart_100_sessions_goal", "met" if median <= CHART_MS_GOAL else "missed"),
    ]
