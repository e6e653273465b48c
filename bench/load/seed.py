"""The load test's clinic: the scheduling bench's five years, plus the people who use it.

Runs in the orchestrator's process once Django is set up on the load database. The history
(about LOAD_APPOINTMENTS visits of 20 IMS practitioners at two locations) is bulk-inserted by
bench/scheduling.py, as the other benches do. Everything the simulated people need is then
made through the app's own services, as the clinic would have made it: staff logins with a
TOTP authenticator each (allauth's own activation), patient logins with an API token each,
their health questions answered, cleared and consented, a few long charts of signed needling
notes (the longest LOAD_CHART_SESSIONS sessions), and the last LOAD_INVOICES visits invoiced and
mostly paid at the desk so the owner's reports have rows. Returns the plan the simulated
people read (bench/load/locustfile.py): who signs in with what, and which pages to open.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from decimal import Decimal
from typing import Any

APPOINTMENTS = int(os.environ.get("LOAD_APPOINTMENTS", "250000"))
CHART_SESSIONS = int(os.environ.get("LOAD_CHART_SESSIONS", "60"))
INVOICES = int(os.environ.get("LOAD_INVOICES", "300"))
PASSWORD = "load-test-password-" + "x" * 8
# A long chart, and two shorter ones: sessions of each, as shares of CHART_SESSIONS.
CHART_SHARES = (1.0, 1 / 3, 1 / 6)
CHART_MUSCLES = ("paraspinal_c5", "paraspinal_c6", "infraspinatus", "supraspinatus", "deltoid")
EMAIL_DOMAIN = "load.example.com"
# Patients book these many days ahead at the earliest, well outside the late-cancel window.
BOOK_FROM_DAYS = 3


def totp_secret(email: str) -> str:
    """Return the account's own TOTP secret, known to the seed and the simulated person."""
    digest = hashlib.sha256(f"imsclinic-load:{email}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def staff_login(email: str, role: str, first: str, last: str) -> Any:
    """Create a staff login with a verified address and its own TOTP authenticator."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP

    from imsclinic.accounts.models import User

    user = User.objects.create_user(email, PASSWORD, role=role, first_name=first, last_name=last)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    TOTP.activate(user, totp_secret(email))
    return user


def counts(users: int) -> dict[str, int]:
    """Split the simulated people between the kinds (the mix in docs/PERFORMANCE.md)."""
    shares = {"visitor": 0.28, "patient": 0.36, "desk": 0.12, "physio": 0.18, "owner": 0.06}
    made = {kind: max(1, round(users * share)) for kind, share in shares.items()}
    made["physio"] = min(made["physio"], 20)
    # Whatever rounding left over (or took too many) is settled with the patients.
    made["patient"] = max(1, users - sum(v for k, v in made.items() if k != "patient"))
    return made


def build(users: int, console: Any) -> dict[str, Any]:
    """Fill the load database; return the plan of the run."""
    import time

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from bench import scheduling

    began = time.perf_counter()
    with console.status("Building the load database…"):
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
    now = timezone.now()
    today = now.date()
    clinic = scheduling.build_clinic(today)
    per_day = scheduling.places_per_day()
    days_back = max(int((APPOINTMENTS - per_day * scheduling.FUTURE_DAYS) / per_day), 10)
    days = [today + dt.timedelta(days=n) for n in range(-days_back, scheduling.FUTURE_DAYS)]
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Seeding the history…", total=APPOINTMENTS)
        seeded = scheduling.seed_days(clinic, days, "Seeding the history…", progress, task)
    kinds = counts(users)
    with console.status("Staff, patients, charts and bills through the app's services…"):
        plan = people(clinic, kinds, now)
        plan["appointments_seeded"] = seeded
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    plan["seed_s"] = round(time.perf_counter() - began, 1)
    return plan


def people(clinic: Any, kinds: dict[str, int], now: dt.datetime) -> dict[str, Any]:
    """Make the staff, the patients and what they will open; return the plan."""
    from django.db.models import Max

    from imsclinic.accounts.tokens import api_token_issue
    from imsclinic.core.roles import Role
    from imsclinic.patients.models import Patient
    from imsclinic.scheduling.models import Appointment

    owners = [
        staff_login(f"owner{n}@{EMAIL_DOMAIN}", Role.OWNER, "Owen", f"Owner{n}")
        for n in range(kinds["owner"])
    ]
    desks = [
        staff_login(f"desk{n}@{EMAIL_DOMAIN}", Role.FRONT_DESK, "Dana", f"Desk{n}")
        for n in range(kinds["desk"])
    ]
    physios = []
    for number, practitioner in enumerate(clinic.practitioners[: kinds["physio"]]):
        user = staff_login(
            f"physio{number}@{EMAIL_DOMAIN}", Role.PRACTITIONER, "Pat", f"Physio{number}"
        )
        practitioner.user = user
        practitioner.save(update_fields=["user"])
        physios.append(user)
    owner, desk = owners[0], desks[0]

    # Everyone has seen the practitioners they saw: their care team (as returning patients).
    pairs = Appointment.objects.values_list("patient_id", "practitioner_id").distinct()
    through = Patient.care_team.through
    through.objects.bulk_create(
        [through(patient_id=p, practitioner_id=q) for p, q in pairs], ignore_conflicts=True
    )

    version = publish_consent(owner, now - dt.timedelta(days=400))
    # The notes find the sharps container open at their visit's location.
    lot = stock(physios[0], clinic, now - dt.timedelta(days=400))

    # The simulated patients: returning patients of the history who made an account.
    patients = []
    for number, patient in enumerate(clinic.patients[: kinds["patient"]]):
        email = f"patient{number}@{EMAIL_DOMAIN}"
        user = patient_login(patient, email)
        _token, raw = api_token_issue(user=user, name="load test", actor=user)
        screen(patient, user, physios[0], owner, version, now - dt.timedelta(days=30))
        patients.append({"email": email, "token": raw, "patient": patient.pk})

    charts = []
    for share, physio in zip(CHART_SHARES, physios, strict=False):
        sessions = max(2, round(CHART_SESSIONS * share))
        charts.append(long_chart(clinic, physio, sessions, version, lot, desk, now))
    invoiced = bill(clinic, desk, now)

    practitioner_of = {p.user_id: p.pk for p in clinic.practitioners if p.user_id}
    last_visit = Appointment.objects.aggregate(last=Max("start"))["last"]
    sample = list(Patient.objects.order_by("pk").values_list("pk", flat=True)[:400])
    return {
        "password": PASSWORD,
        "service": clinic.service.slug,
        "locations": sorted({loc.pk for loc in clinic.locations.values()}),
        "practitioners": [p.pk for p in clinic.practitioners],
        "today": now.date().isoformat(),
        "book_from_days": BOOK_FROM_DAYS,
        "horizon_days": clinic.service.horizon_days,
        "last_visit": last_visit.isoformat() if last_visit else None,
        "counts": kinds,
        "owners": [{"email": u.email, "secret": totp_secret(u.email)} for u in owners],
        "desks": [{"email": u.email, "secret": totp_secret(u.email)} for u in desks],
        "physios": [
            {
                "email": u.email,
                "secret": totp_secret(u.email),
                "practitioner": practitioner_of[u.pk],
                "patients": list(
                    through.objects.filter(practitioner_id=practitioner_of[u.pk])
                    .order_by("patient_id")
                    .values_list("patient_id", flat=True)[:200]
                ),
                "charts": [c for c in charts if c["physio"] == u.email],
            }
            for u in physios
        ],
        "patients": patients,
        "desk_patients": sample,
        "invoices": invoiced,
        "chart_sessions": [c["sessions"] for c in charts],
    }


def patient_login(patient: Any, email: str) -> Any:
    """Give a returning patient a login of their own with a verified address."""
    from allauth.account.models import EmailAddress

    from imsclinic.accounts.models import User
    from imsclinic.core.roles import Role
    from imsclinic.patients.models import Patient

    user = User.objects.create_user(
        email, PASSWORD, role=Role.PATIENT, first_name=patient.given_name
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Patient.objects.filter(pk=patient.pk).update(user=user, email=email)
    patient.user, patient.email = user, email
    return user


def publish_consent(owner: Any, at: dt.datetime) -> Any:
    """Publish the clinic's consent to IMS (the demo's text), dated `at`."""
    from imsclinic.consent.services import (
        consent_document_create,
        consent_draft_save,
        consent_publish,
    )
    from imsclinic.demo.consent import (
        NEEDLING_CONSENT_BODY,
        NEEDLING_CONSENT_SLUG,
        NEEDLING_CONSENT_TITLE,
    )

    document = consent_document_create(
        slug=NEEDLING_CONSENT_SLUG, title=NEEDLING_CONSENT_TITLE, for_needling=True, actor=owner
    )
    draft = consent_draft_save(
        document=document, title=NEEDLING_CONSENT_TITLE, body=NEEDLING_CONSENT_BODY, actor=owner
    )
    return consent_publish(draft=draft, actor=owner, now=at)


def stock(physio: Any, clinic: Any, at: dt.datetime) -> Any:
    """Receive a lot of needles and open a sharps container at each location, at `at`."""
    from imsclinic.clinic.services import needle_lot_add, sharps_container_open

    lot = needle_lot_add(
        lot_number="LOAD-1",
        manufacturer="Load Needle Co (synthetic)",
        diameter_mm=Decimal("0.30"),
        length_mm=40,
        expires_on=at.date() + dt.timedelta(days=1500),
        quantity_received=100_000,
        received_on=at.date(),
        actor=physio,
        now=at,
    )
    locations = {location.pk: location for location in clinic.locations.values()}
    for n, location in enumerate(locations.values()):
        sharps_container_open(label=f"LOAD-{n}", location=location, actor=physio, now=at)
    return lot


def screen(patient: Any, user: Any, physio: Any, owner: Any, version: Any, at: dt.datetime) -> None:
    """The patient answers the health questions, is cleared and signs the consent to IMS."""
    from imsclinic.consent.models import Channel
    from imsclinic.demo.safety import HEALTHY
    from imsclinic.intake.services import intake_submit

    intake = intake_submit(patient=patient, actor=user, answers=HEALTHY, now=at)
    decider = physio if patient.care_team.filter(user=physio).exists() else owner
    clear_and_consent(
        patient,
        intake,
        decider=decider,
        signed_by=user,
        channel=Channel.PORTAL,
        version=version,
        at=at,
    )


def clear_and_consent(
    patient: Any,
    intake: Any,
    *,
    decider: Any,
    signed_by: Any,
    channel: Any,
    version: Any,
    at: dt.datetime,
) -> None:
    """A practitioner clears the intake an hour after `at`; the patient signs an hour later."""
    from imsclinic.consent.models import Signer
    from imsclinic.consent.services import consent_sign
    from imsclinic.safety.models import Decision
    from imsclinic.safety.services import clearance_record

    clearance_record(
        patient=patient,
        intake=intake,
        decision=Decision.CLEARED,
        reason="History reviewed with the patient; nothing against IMS.",
        actor=decider,
        now=at + dt.timedelta(hours=1),
    )
    consent_sign(
        patient=patient,
        version=version,
        agreed=True,
        signer_name=patient.full_name,
        signer=Signer.SELF,
        channel=channel,
        actor=signed_by,
        now=at + dt.timedelta(hours=2),
    )


def long_chart(
    clinic: Any,
    physio: Any,
    sessions: int,
    version: Any,
    lot: Any,
    desk: Any,
    now: dt.datetime,
) -> dict[str, Any]:
    """A new patient's course with one practitioner: `sessions` visits, each charted and signed.

    Booked through the booking rules three times a week up to last week (the demo's
    helpers), the first visit with a signed Gunn assessment, every visit with a signed
    needling note written through the charting services.
    """
    from imsclinic.charting.models import Muscle
    from imsclinic.charting.services import RowInput
    from imsclinic.consent.models import Channel
    from imsclinic.demo.charting import demo_assessment, demo_needling_note
    from imsclinic.demo.safety import HEALTHY
    from imsclinic.demo.scheduling import demo_attended, demo_book_near
    from imsclinic.intake.services import intake_enter_from_paper
    from imsclinic.patients.services import patient_care_team_add, patient_create
    from imsclinic.scheduling.models import AppointmentStatus

    practitioner = physio.practitioner
    location = clinic.locations[practitioner.pk]
    number = practitioner.pk
    patient = patient_create(
        data={
            "given_name": "Chart",
            "family_name": f"Course{number}",
            "date_of_birth": dt.date(1968, 3, 1 + number % 28),
            "email": f"chart{number}@{EMAIL_DOMAIN}",
            "phone": f"604-555-{1000 + number:04d}",
        },
        actor=desk,
    )
    patient_care_team_add(patient=patient, practitioner=practitioner, actor=desk)
    today = now.astimezone(location.zone).date()
    # Three visits a week, so the whole course lies within the intake's months of validity.
    first_day = today - dt.timedelta(days=7 + 7 * (sessions // 3 + 1))
    first_day -= dt.timedelta(days=first_day.weekday())  # a Monday
    screened = dt.datetime.combine(first_day - dt.timedelta(days=7), dt.time(9), tzinfo=dt.UTC)
    intake = intake_enter_from_paper(patient=patient, answers=HEALTHY, actor=desk, now=screened)
    clear_and_consent(
        patient,
        intake,
        decider=physio,
        signed_by=desk,
        channel=Channel.TABLET,
        version=version,
        at=screened,
    )
    muscles = {m.code: m for m in Muscle.objects.filter(code__in=CHART_MUSCLES)}
    assessment_service = initial_assessment(clinic.service)
    notes: list[int] = []
    visits: list[int] = []
    day = first_day
    while len(notes) < sessions and day < today:
        visit = demo_book_near(
            days=[day, day + dt.timedelta(days=1)],
            patient=patient,
            practitioner=practitioner,
            service=clinic.service if notes else assessment_service,
            location=location,
            actor=desk,
        )
        day += dt.timedelta(days=3 if day.weekday() == 4 else 2)  # Mon, Wed, Fri
        if visit is None:
            continue
        demo_attended(
            visit, AppointmentStatus.COMPLETED, arrived=visit.start - dt.timedelta(minutes=5)
        )
        signed_at = visit.end + dt.timedelta(minutes=10)
        if not notes:
            demo_assessment(patient=patient, visit=visit, physio=physio, signed_at=signed_at)
            signed_at += dt.timedelta(minutes=5)
        index = len(notes)
        codes = [CHART_MUSCLES[(index + k) % len(CHART_MUSCLES)] for k in range(3)]
        note = demo_needling_note(
            visit=visit,
            physio=physio,
            before=6 - index % 3,
            after=3 - index % 3,
            rows=[
                RowInput(
                    muscle_id=muscles[code].pk,
                    side="right" if k % 2 else "left",
                    segment=muscles[code].root_from,
                    insertions=2 + k,
                    needles_used=1,
                    needle_lot_id=lot.pk,
                    grasp="moderate",
                    release=True,
                    twitch=k == 0,
                )
                for k, code in enumerate(codes)
            ],
            signed_at=signed_at,
        )
        notes.append(note.pk)
        visits.append(visit.pk)
    return {
        "physio": physio.email,
        "patient": patient.pk,
        "sessions": len(notes),
        "visits": visits,
    }


def initial_assessment(follow_up: Any) -> Any:
    """Return the clinic's IMS initial assessment, offered to new patients; add it if missing."""
    from imsclinic.clinic.models import Service

    service, _created = Service.objects.get_or_create(
        slug="load-ims-initial-assessment",
        defaults={
            "name": "IMS initial assessment",
            "duration_minutes": follow_up.duration_minutes,
            "buffer_minutes": follow_up.buffer_minutes,
            "price": Decimal("150.00"),
            "requires_ims_credential": True,
            "for_new_patients": True,
        },
    )
    return service


def bill(clinic: Any, desk: Any, now: dt.datetime) -> int:
    """Invoice the last INVOICES completed visits at checkout; most are paid there."""
    from imsclinic.billing.models import PaymentMethod
    from imsclinic.billing.services.invoices import invoice_for_visit, invoice_issue
    from imsclinic.billing.services.payments import Apply, payment_record
    from imsclinic.scheduling.models import Appointment, AppointmentStatus

    latest = (
        Appointment.objects.filter(status=AppointmentStatus.COMPLETED, start__lt=now)
        .select_related("patient", "location", "practitioner", "service")
        .order_by("-start")[:INVOICES]
    )
    visits = sorted(latest, key=lambda visit: visit.start)
    methods = (PaymentMethod.DEBIT, PaymentMethod.CREDIT_CARD, PaymentMethod.CASH)
    made = 0
    for number, visit in enumerate(visits):
        at = visit.end + dt.timedelta(minutes=8)
        invoice = invoice_for_visit(appointment=visit, actor=desk, now=at)
        invoice = invoice_issue(invoice=invoice, actor=desk, now=at)
        made += 1
        if number % 6 == 5:
            continue  # left owing: the receivables have rows
        payment_record(
            method=methods[number % len(methods)],
            amount=invoice.total,
            received_on=at.astimezone(visit.location.zone).date(),
            patient=visit.patient,
            allocations=[Apply(invoice=invoice, amount=invoice.total)],
            location=visit.location,
            actor=desk,
            now=at,
        )
    return made
