"""The demo clinic that `make run` loads: what it holds, and that loading it twice is harmless."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic, Location, OpeningHours, Practitioner, Room, Service
from imsclinic.core.models import AuditEvent
from imsclinic.core.roles import Role
from imsclinic.demo.logins import DEMO_PASSWORD, DEMO_TOTP_SECRET
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.web.content import DEFAULT_FAQ
from imsclinic.web.models import FaqEntry

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = (
        Clinic,
        Location,
        OpeningHours,
        Room,
        Practitioner,
        Service,
        User,
        EmailAddress,
        Authenticator,
        Patient,
        Patient.care_team.through,
        Appointment,
        FaqEntry,
    )
    return {model._meta.label: model.objects.count() for model in models}


def test_it_builds_two_locations_in_their_own_time_zones_with_three_and_two_beds() -> None:
    seed()
    locations = {loc.time_zone: loc for loc in Location.objects.all()}
    assert set(locations) == {"America/Vancouver", "America/Toronto"}
    assert locations["America/Vancouver"].rooms.count() == 3
    assert locations["America/Toronto"].rooms.count() == 2
    for location in locations.values():
        weekdays = set(location.hours.values_list("weekday", flat=True))
        assert {0, 1, 2, 3, 4} <= weekdays
    assert OpeningHours.objects.filter(weekday=5).exists(), "one location opens on Saturday"


def test_it_gives_four_practitioners_a_current_ims_credential_one_expired_and_one_none() -> None:
    seed()
    today = timezone.localdate()
    practitioners = list(Practitioner.objects.all())
    assert len(practitioners) == 6
    current = [p for p in practitioners if p.ims_credential_current_on(today)]
    expired = [
        p
        for p in practitioners
        if p.ims_certification_expires_on and p.ims_certification_expires_on <= today
    ]
    uncertified = [p for p in practitioners if p.ims_certified_on is None]
    assert len(current) == 4
    assert len(expired) == 1
    assert len(uncertified) == 1
    for practitioner in practitioners:
        assert practitioner.registration_body and practitioner.registration_number
        assert practitioner.bio
        assert practitioner.locations.exists()
    for practitioner in current:
        assert practitioner.years_of_ims_practice is not None
        assert practitioner.years_of_ims_practice >= 10


def test_it_offers_the_three_services_with_the_initial_assessment_for_new_patients() -> None:
    seed()
    services = {s.name: s for s in Service.objects.all()}
    initial = services["IMS initial assessment"]
    follow_up = services["IMS follow-up"]
    physio = services["Physiotherapy assessment"]
    assert initial.duration_minutes == 60
    assert follow_up.duration_minutes == 30
    assert physio.duration_minutes == 45
    assert initial.requires_ims_credential and follow_up.requires_ims_credential
    assert not physio.requires_ims_credential
    assert initial.for_new_patients and not follow_up.for_new_patients
    assert all(s.price > 0 and s.bookable_online for s in services.values())
    assert Clinic.objects.get().currency == "CAD"


def test_each_printed_login_signs_in_with_the_printed_password(client) -> None:
    output = seed()
    emails = re.findall(r"[\w.+-]+@[\w.-]+\.(?:test|com)", output)
    users = User.objects.filter(email__in=emails)
    assert {u.role for u in users} == {Role.OWNER, Role.FRONT_DESK, Role.PRACTITIONER, Role.PATIENT}
    assert DEMO_PASSWORD in output
    for user in users:
        assert client.login(email=user.email, password=DEMO_PASSWORD), user.email
        assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists()
        client.logout()
    physio = users.get(role=Role.PRACTITIONER)
    assert Practitioner.objects.filter(user=physio).exists()


def test_the_staff_logins_pass_two_factor_with_the_printed_secret_or_the_current_code() -> None:
    output = seed()
    assert DEMO_TOTP_SECRET in output
    codes = dict(re.findall(r"^(\S+@\S+)\s+(\d{6})$", seed("--codes"), flags=re.MULTILINE))
    staff = User.objects.exclude(role=Role.PATIENT)
    assert set(codes) == {u.email for u in staff}
    for user in staff:
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert TOTP(authenticator).validate_code(codes[user.email])
    patient_login = User.objects.get(role=Role.PATIENT)
    assert not Authenticator.objects.filter(user=patient_login).exists()


def test_it_invents_twenty_patients_with_care_teams_and_reserved_contact_details() -> None:
    seed()
    patients = list(Patient.objects.prefetch_related("care_team"))
    assert len(patients) == 20
    for patient in patients:
        assert 1 <= len(patient.care_team.all()) <= 2
        assert re.fullmatch(r"\d{3}-555-01\d\d", patient.phone), patient.phone
        assert re.fullmatch(r"\d{3}-555-01\d\d", patient.emergency_contact_phone)
        assert patient.email.endswith("@example.com")
    staff_emails = User.objects.exclude(role=Role.PATIENT).values_list("email", flat=True)
    assert all(email.endswith(".test") for email in staff_emails)


def test_the_demo_patient_has_an_upcoming_visit_with_someone_on_their_care_team() -> None:
    seed()
    patient = Patient.objects.get(user__email="patient@example.com")
    visit = Appointment.objects.get(patient=patient, status=AppointmentStatus.BOOKED)
    assert visit.start > timezone.now()
    assert visit.practitioner in patient.care_team.all()
    assert visit.end - visit.start == dt.timedelta(minutes=visit.service.duration_minutes)
    local = visit.start.astimezone(visit.location.zone)
    assert local.weekday() < 5 and 8 <= local.hour < 17
    assert Appointment.objects.filter(start__gt=timezone.now()).count() >= 5


def test_a_second_run_creates_nothing_is_quick_and_still_prints_the_logins() -> None:
    seed()
    before = row_counts()
    started = time.monotonic()
    output = seed()
    elapsed = time.monotonic() - started
    assert row_counts() == before
    assert "owner@cedarims.test" in output and DEMO_PASSWORD in output
    assert "nothing new to create" in output
    assert elapsed < 2.0


def test_it_leaves_what_the_owner_already_configured_alone() -> None:
    seed()
    clinic = Clinic.objects.get()
    clinic.name = "Harbourside Physio"
    clinic.save()
    Service.objects.filter(slug="ims-follow-up").update(price="99.00")
    FaqEntry.objects.all().delete()
    FaqEntry.objects.create(question="Only mine?", answer="Yes.")
    seed()
    assert Clinic.objects.get().name == "Harbourside Physio"
    assert str(Service.objects.get(slug="ims-follow-up").price) == "99.00"
    assert list(FaqEntry.objects.values_list("question", flat=True)) == ["Only mine?"]


def test_it_loads_the_default_faq_into_an_empty_clinic() -> None:
    seed()
    assert FaqEntry.objects.count() == len(DEFAULT_FAQ) > 0


def test_the_demo_visits_are_booked_by_the_front_desk_and_audited_like_any_booking() -> None:
    seed()
    bookings = AuditEvent.objects.filter(object_type="appointment", action="create")
    assert bookings.count() == Appointment.objects.count()
    assert set(bookings.values_list("actor_email", flat=True)) == {"frontdesk@cedarims.test"}
    assert not AuditEvent.objects.filter(action="view").exists()


def test_it_refuses_to_publish_demo_passwords_outside_local_work() -> None:
    refused = pytest.raises(CommandError, match="DEBUG=1")
    with override_settings(DEBUG=False, TESTING=False), refused:
        seed()
    assert not User.objects.exists()


def test_the_demo_shows_screening_in_every_state() -> None:
    from imsclinic.safety.readiness import needling_readiness
    from imsclinic.safety.selectors import online_ims_refusal

    seed()
    now = timezone.now()
    patients = list(Patient.objects.order_by("pk"))
    ready = [p for p in patients if needling_readiness(p, at=now).ready]
    assert patients[0].email == "patient@example.com" and patients[0] in ready
    waiting = [p for p in patients if p.intakes.exists() and not p.clearances.exists()]
    assert len(waiting) == 3, "three patients' answers wait for a practitioner's review"
    assert any(online_ims_refusal(p) for p in waiting), "one patient may not book IMS online"
    assert sum(1 for p in patients if not p.intakes.exists()) == 2
    assert len(ready) == 15
    physio = User.objects.get(role=Role.PRACTITIONER)
    theirs = [p for p in waiting if p.care_team.filter(user=physio).exists()]
    assert len(theirs) == 1, "the demo physio has one decision to make, and can chart the rest"


def test_the_demo_patient_has_a_signed_course_of_ims_to_look_at(client) -> None:
    from django.urls import reverse

    seed()
    demo = Patient.objects.get(email="patient@example.com")
    sessions = list(demo.needling_sessions.order_by("signed_at"))
    # Three visits from charting's demo, three more from outcomes' (six sessions of progress).
    assert [s.status for s in sessions] == ["signed"] * 6
    assert [(s.nprs_before, s.nprs_after) for s in sessions] == [
        (7, 5),
        (6, 3),
        (4, 2),
        (4, 2),
        (3, 2),
        (3, 1),
    ]
    assert demo.assessments.get().segments.count() == 2
    client.force_login(demo.user)
    notes = client.get(reverse("portal_notes"))
    assert notes.status_code == 200
    assert "Infraspinatus" in notes.content.decode()
