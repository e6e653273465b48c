"""Load the demo clinic: two locations, six practitioners, one login per role, twenty patients.

Idempotent: every row is found by a natural key (slug, email, registration number) and
created only when missing; nothing that exists is changed. Every visit is booked through the
booking service by the demo front desk (imsclinic/demo/scheduling.py), so the demo loads on any date
and its bookings are in the audit log like any other.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Clinic, Location, OpeningHours, Practitioner, Room, Service
from imsclinic.core.roles import Role
from imsclinic.demo.logins import (
    DEMO_PASSWORD,
    DEMO_PATIENT_EMAIL,
    DEMO_TOTP_SECRET,
    current_code,
)
from imsclinic.demo.scheduling import (
    demo_attended,
    demo_book,
    demo_book_near,
    demo_cancel,
    demo_no_show,
)
from imsclinic.patients.models import Patient
from imsclinic.patients.services import patient_care_team_add, patient_create
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Shift, ShiftBreak
from imsclinic.scheduling.services.booking import has_had_ims_visit, needs_assessment_first
from imsclinic.web.models import FaqEntry

FAKER_SEED = 2718
PATIENT_COUNT = 20
PATIENTS_WITH_VISITS = 6
# Demo shifts follow each location's opening hours from this day on, with a lunch break.
SHIFTS_FROM = dt.date(2024, 1, 1)
LUNCH = (dt.time(12), dt.time(13))

BC_COLLEGE = "College of Health and Care Professions of British Columbia"
ON_COLLEGE = "College of Physiotherapists of Ontario"
ISTOP = "iSTOP (Institute for the Study and Treatment of Pain)"


@dataclass(frozen=True)
class LocationSpec:
    slug: str
    name: str
    address: str
    city: str
    region: str
    postal_code: str
    phone: str
    time_zone: str
    directions: str
    beds: int
    # (weekday, opens, closes) in the location's own time zone.
    hours: tuple[tuple[int, dt.time, dt.time], ...]
    area_codes: tuple[str, ...]


def _weekdays(opens: dt.time, closes: dt.time) -> tuple[tuple[int, dt.time, dt.time], ...]:
    return tuple((day, opens, closes) for day in range(5))


LOCATIONS = (
    LocationSpec(
        slug="kitsilano",
        name="Kitsilano",
        address="2150 Cedar Mews, Suite 200",
        city="Vancouver",
        region="BC",
        postal_code="V6K 1N7",
        phone="604-555-0110",
        time_zone="America/Vancouver",
        directions=(
            "Second floor, above the bakery. Street parking on the side roads; "
            "bus 4 stops out front."
        ),
        beds=3,
        hours=(*_weekdays(dt.time(8), dt.time(19)), (5, dt.time(9), dt.time(13))),
        area_codes=("604", "778"),
    ),
    LocationSpec(
        slug="leslieville",
        name="Leslieville",
        address="880 Maple Yard",
        city="Toronto",
        region="ON",
        postal_code="M4M 2G4",
        phone="416-555-0120",
        time_zone="America/Toronto",
        directions="Ground floor with a step-free entrance. The 501 streetcar stops at the corner.",
        beds=2,
        hours=(
            *((day, dt.time(7, 30), dt.time(18)) for day in range(4)),
            (4, dt.time(7, 30), dt.time(16)),
        ),
        area_codes=("416", "647"),
    ),
)


@dataclass(frozen=True)
class PractitionerSpec:
    first: str
    last: str
    title: str
    college: str
    registration: str
    locations: tuple[str, ...]
    bio: str = ""
    certified_on: dt.date | None = None
    expires_on: dt.date | None = None
    practising_since: int | None = None
    login_email: str = ""
    # The registration runs this many days past the day the demo is loaded (renewed yearly).
    registration_days: int = 300


# fmt: off
# Four with a current IMS credential, one whose credential has lapsed, one who does not do IMS.
PRACTITIONERS = (
    PractitionerSpec(
        "Maya", "Okafor", "MPT", BC_COLLEGE, "BC-PT-20417", ("kitsilano",),
        bio="Maya came to physiotherapy after years of rowing and its sore shoulders. She "
        "looks for the nerve root behind a stubborn tendon problem, and she explains each "
        "step before the needle goes in.",
        certified_on=dt.date(2011, 5, 14), practising_since=2011,
        login_email="physio@cedarims.test",
    ),
    PractitionerSpec(
        "Daniel", "Fraser", "BScPT", BC_COLLEGE, "BC-PT-11872", ("kitsilano",),
        bio="Daniel works mostly with low-back pain and sciatica in people who sit all day. "
        "Outside the clinic he coaches youth soccer and cycles to work in every weather.",
        certified_on=dt.date(2009, 10, 3), practising_since=2009,
        # Renewal due within 60 days: the owners' expiry reminder has something to say.
        registration_days=45,
    ),
    PractitionerSpec(
        "Priya", "Raman", "MScPT", ON_COLLEGE, "ON-PT-38215", ("leslieville",),
        bio="Priya treats neck and arm pain, including the tingling hands that keyboard work "
        "can bring. She pairs each IMS session with a short home exercise plan.",
        certified_on=dt.date(2013, 3, 9), expires_on=dt.date(2031, 3, 9), practising_since=2013,
    ),
    PractitionerSpec(
        "Jonah", "Weiss", "MPT", ON_COLLEGE, "ON-PT-29904", ("leslieville",),
        bio="Jonah has a soft spot for runners and their Achilles and knee complaints. He "
        "favours small, steady goals and checks progress at every visit.",
        certified_on=dt.date(2010, 6, 20), practising_since=2010,
    ),
    PractitionerSpec(
        "Claire", "Beaulieu", "MPT", BC_COLLEGE, "BC-PT-30561", ("kitsilano",),
        bio="Claire offers manual therapy and exercise programmes. Her IMS certificate has "
        "lapsed, so for now she is not booked for IMS visits.",
        certified_on=dt.date(2014, 4, 1), expires_on=dt.date(2024, 4, 1), practising_since=2014,
    ),
    PractitionerSpec(
        "Sam", "Chaudhry", "MScPT", ON_COLLEGE, "ON-PT-41190", ("leslieville",),
        bio="Sam is a physiotherapist focused on strength and return to sport after injury. "
        "Sam does not give IMS and sees patients for physiotherapy assessments.",
    ),
)
# fmt: on


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    name: str
    minutes: int
    buffer: int
    price: str
    ims: bool
    new_patients: bool
    description: str


# fmt: off
SERVICES = (
    ServiceSpec(
        "ims-initial-assessment", "IMS initial assessment", minutes=60, buffer=10,
        price="150.00", ims=True, new_patients=True,
        description="Your first visit: a full history and an examination for signs of nerve "
        "irritation, then a first IMS treatment if it suits you.",
    ),
    ServiceSpec(
        "ims-follow-up", "IMS follow-up", minutes=30, buffer=5,
        price="95.00", ims=True, new_patients=False,
        description="A treatment visit for patients already assessed: a quick check of how "
        "you are doing, then needling of the muscles that still need it.",
    ),
    ServiceSpec(
        "physiotherapy-assessment", "Physiotherapy assessment", minutes=45, buffer=10,
        price="120.00", ims=False, new_patients=True,
        description="An assessment with exercise advice and manual therapy, without needling.",
    ),
)
# fmt: on


@dataclass(frozen=True)
class StaffSpec:
    email: str
    role: Role
    first: str
    last: str


STAFF = (
    StaffSpec("owner@cedarims.test", Role.OWNER, "Olivia", "Marsh"),
    StaffSpec("frontdesk@cedarims.test", Role.FRONT_DESK, "Felix", "Ortega"),
    StaffSpec("physio@cedarims.test", Role.PRACTITIONER, "Maya", "Okafor"),
)


@dataclass
class Tally:
    """Counts of what one run created, by kind."""

    created: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, was_created: bool) -> None:
        if was_created:
            self.created[kind] += 1


@dataclass(frozen=True)
class PatientSpec:
    given: str
    family: str
    born: dt.date
    email: str
    phone: str
    address: str
    city: str
    region: str
    postal_code: str
    emergency_name: str
    emergency_phone: str
    location_slug: str
    care_team_size: int


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _postal(code: str) -> str:
    code = code.replace(" ", "").upper()
    return f"{code[:3]} {code[3:]}"


def synthetic_patients() -> list[PatientSpec]:
    """Return the same twenty invented patients on every run (Faker with a fixed seed)."""
    from faker import Faker  # Imported here: loading its locales is slow, and only this needs it.

    fake = Faker("en_CA")
    fake.seed_instance(FAKER_SEED)
    people: list[PatientSpec] = []
    seen: set[str] = set()
    for index in range(PATIENT_COUNT):
        spot = LOCATIONS[index % len(LOCATIONS)]
        given, family = fake.first_name(), fake.last_name()
        born = fake.date_between_dates(dt.date(1946, 1, 1), dt.date(2006, 12, 31))
        street = fake.street_address()
        postal = fake.postalcode_in_province(spot.region)
        emergency = f"{fake.first_name()} {family}"
        team_size = 1 + fake.random.randint(0, 1)
        email = f"{_ascii(given)}.{_ascii(family)}@example.com"
        if index == 0:
            email = DEMO_PATIENT_EMAIL
        if email in seen:
            email = email.replace("@", f".{index}@")
        seen.add(email)
        area = spot.area_codes[index % len(spot.area_codes)]
        people.append(
            PatientSpec(
                given=given,
                family=family,
                born=born,
                email=email,
                # The fictional 555-01xx range: 0130-0149 for patients, 0160-0179 for contacts.
                phone=f"{area}-555-{130 + index:04d}",
                address=street,
                city=spot.city,
                region=spot.region,
                postal_code=_postal(postal),
                emergency_name=emergency,
                emergency_phone=f"{area}-555-{160 + index:04d}",
                location_slug=spot.slug,
                care_team_size=team_size,
            )
        )
    return people


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent) and print its logins."
    # `make run` has just run migrate, which ran the checks; skipping them keeps a rerun quick.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--codes",
            action="store_true",
            help="Only print the current two-factor codes of the demo staff logins.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEBUG or getattr(settings, "TESTING", False)):
            raise CommandError(
                "seed_demo creates logins with a published password and two-factor secret, "
                "so it runs only for local work: set DEBUG=1."
            )
        # A terminal sets its own width; in a log or a test, keep the table on one line each.
        width = None if self.stdout.isatty() else 110
        console = Console(file=self.stdout, width=width, highlight=False)  # type: ignore[arg-type]
        if options["codes"]:
            self.print_codes(console)
            return
        started = time.monotonic()
        tally = Tally()
        # No transaction around the whole: the services each commit their own change, as
        # for a real user, and a run that stops halfway is finished by the next (idempotent).
        clinic = self.seed_clinic(tally)
        locations = self.seed_locations(clinic, tally)
        practitioners = self.seed_practitioners(locations, tally)
        services = self.seed_services(tally)
        self.seed_shifts(practitioners, tally)
        users = self.seed_staff(practitioners, tally)
        desk = next(user for user in users if user.role == Role.FRONT_DESK)
        patients = self.seed_patients(locations, practitioners, desk, tally)
        faq_note = self.seed_faq(tally)
        self.seed_consent(users, patients, tally)
        self.seed_screening(users, patients, tally)
        self.seed_stock(users, list(locations.values()), tally)
        # The past courses first, then the calendar around them, then what lies ahead:
        # each is booked by the rules, so each sees the visits placed before it.
        self.seed_charting(users, patients, tally)
        # The owner's fee policies first: the calendar's no-shows and late cancellations are
        # charged through the desk's services as they would be for real.
        self.seed_fee_policies(tally)
        self.seed_calendar(patients, services, desk, tally)
        self.seed_visits(patients, services, desk, tally)
        self.seed_billing(users, patients, tally)
        self.print_logins(console, clinic, users)
        if faq_note:
            console.print(faq_note)
        made = sum(tally.created.values())
        what = ", ".join(f"{count} {kind}" for kind, count in sorted(tally.created.items()))
        console.print(
            f"seed_demo: {clinic.name} ready with {len(locations)} locations, "
            f"{Room.objects.count()} beds, {len(practitioners)} practitioners, "
            f"{len(services)} services, {len(patients)} demo patients; "
            + (f"created {what}" if made else "nothing new to create")
            + f" in {time.monotonic() - started:.1f} s."
        )

    # -- the clinic and what it offers -------------------------------------------------

    def seed_clinic(self, tally: Tally) -> Clinic:
        clinic = Clinic.current()
        if clinic is None:
            clinic = Clinic.objects.create(
                name="Cedar IMS Physiotherapy",
                tagline="Gunn IMS and physiotherapy in Vancouver and Toronto",
                email="hello@cedarims.test",
                phone="604-555-0100",
                currency="CAD",
                about=(
                    "A small physiotherapy practice where every IMS therapist has more than "
                    "ten years of Gunn IMS experience. This is demo data: the clinic, its "
                    "people and its patients are invented."
                ),
            )
            tally.add("clinic", True)
        return clinic

    def seed_locations(self, clinic: Clinic, tally: Tally) -> dict[str, Location]:
        found: dict[str, Location] = {}
        for order, spec in enumerate(LOCATIONS):
            location, created = Location.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "clinic": clinic,
                    "name": spec.name,
                    "address_line1": spec.address,
                    "city": spec.city,
                    "region": spec.region,
                    "postal_code": spec.postal_code,
                    "phone": spec.phone,
                    "time_zone": spec.time_zone,
                    "directions": spec.directions,
                    "order": order,
                },
            )
            tally.add("locations", created)
            if created:
                OpeningHours.objects.bulk_create(
                    OpeningHours(location=location, weekday=day, opens=opens, closes=closes)
                    for day, opens, closes in spec.hours
                )
                tally.created["opening hours"] += len(spec.hours)
            for number in range(1, spec.beds + 1):
                _, bed_created = Room.objects.get_or_create(
                    location=location, name=f"Bed {number}", defaults={"kind": Room.Kind.BED}
                )
                tally.add("beds", bed_created)
            found[spec.slug] = location
        return found

    def seed_practitioners(
        self, locations: dict[str, Location], tally: Tally
    ) -> dict[str, Practitioner]:
        found: dict[str, Practitioner] = {}
        for order, spec in enumerate(PRACTITIONERS):
            practitioner, created = Practitioner.objects.get_or_create(
                registration_body=spec.college,
                registration_number=spec.registration,
                defaults={
                    "first_name": spec.first,
                    "last_name": spec.last,
                    "slug": f"{spec.first}-{spec.last}".lower(),
                    "title": spec.title,
                    "ims_certification_issuer": ISTOP if spec.certified_on else "",
                    "ims_certified_on": spec.certified_on,
                    "ims_certification_expires_on": spec.expires_on,
                    "ims_practice_since": spec.practising_since,
                    "registration_expires_on": timezone.localdate()
                    + dt.timedelta(days=spec.registration_days),
                    "bio": spec.bio,
                    "order": order,
                },
            )
            tally.add("practitioners", created)
            if created:
                practitioner.locations.set([locations[slug] for slug in spec.locations])
            found[spec.registration] = practitioner
        return found

    def seed_services(self, tally: Tally) -> dict[str, Service]:
        found: dict[str, Service] = {}
        for order, spec in enumerate(SERVICES):
            service, created = Service.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "name": spec.name,
                    "description": spec.description,
                    "duration_minutes": spec.minutes,
                    "buffer_minutes": spec.buffer,
                    "price": Decimal(spec.price),
                    "requires_ims_credential": spec.ims,
                    "bookable_online": True,
                    "for_new_patients": spec.new_patients,
                    "order": order,
                },
            )
            tally.add("services", created)
            found[spec.slug] = service
        return found

    def seed_shifts(self, practitioners: dict[str, Practitioner], tally: Tally) -> None:
        """Give every practitioner a weekly shift in each opening period of their locations."""
        for practitioner in practitioners.values():
            for location in practitioner.locations.prefetch_related("hours"):
                seen: set[int] = set()
                for period in location.hours.all():
                    if period.weekday in seen:
                        continue  # one shift a day is the natural key; split days use the first
                    seen.add(period.weekday)
                    shift, created = Shift.objects.get_or_create(
                        practitioner=practitioner,
                        location=location,
                        weekday=period.weekday,
                        valid_from=SHIFTS_FROM,
                        defaults={"start_time": period.opens, "end_time": period.closes},
                    )
                    tally.add("weekly shifts", created)
                    if created and period.opens < LUNCH[0] and LUNCH[1] < period.closes:
                        ShiftBreak.objects.create(
                            shift=shift, start_time=LUNCH[0], end_time=LUNCH[1]
                        )

    # -- people ------------------------------------------------------------------------

    def login(self, email: str, role: Role, first: str, last: str, tally: Tally) -> User:
        """Return the demo login for this email, creating it with a verified address."""
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, role=role, first_name=first, last_name=last
            )
            tally.add("logins", True)
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if (
            role != Role.PATIENT
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            TOTP.activate(user, DEMO_TOTP_SECRET)
            tally.add("authenticators", True)
        return user

    def seed_staff(self, practitioners: dict[str, Practitioner], tally: Tally) -> list[User]:
        users = [self.login(s.email, s.role, s.first, s.last, tally) for s in STAFF]
        for spec in PRACTITIONERS:
            if not spec.login_email:
                continue
            practitioner = practitioners[spec.registration]
            if practitioner.user_id is None:
                practitioner.user = User.objects.get(email=spec.login_email)
                practitioner.save(update_fields=["user"])
        return users

    def seed_patients(
        self,
        locations: dict[str, Location],
        practitioners: dict[str, Practitioner],
        desk: User,
        tally: Tally,
    ) -> list[Patient]:
        """Register the demo patients at the front desk, each with a care team."""
        specs = synthetic_patients()
        existing = {p.email: p for p in Patient.objects.filter(email__in=[s.email for s in specs])}
        by_location: dict[str, list[Practitioner]] = {slug: [] for slug in locations}
        for known in PRACTITIONERS:
            for slug in known.locations:
                by_location[slug].append(practitioners[known.registration])
        patients: list[Patient] = []
        for index, spec in enumerate(specs):
            patient = existing.get(spec.email)
            if patient is None:
                user = None
                if spec.email == DEMO_PATIENT_EMAIL:
                    user = self.login(spec.email, Role.PATIENT, spec.given, spec.family, tally)
                patient = patient_create(
                    data={
                        "given_name": spec.given,
                        "family_name": spec.family,
                        "date_of_birth": spec.born,
                        "email": spec.email,
                        "phone": spec.phone,
                        "address_line1": spec.address,
                        "city": spec.city,
                        "region": spec.region,
                        "postal_code": spec.postal_code,
                        "emergency_contact_name": spec.emergency_name,
                        "emergency_contact_phone": spec.emergency_phone,
                    },
                    actor=desk,
                    user=user,
                )
                tally.add("patients", True)
                team = by_location[spec.location_slug]
                # Rotate through the location's practitioners so each has a caseload.
                start = (index // len(locations)) % len(team)
                for k in range(spec.care_team_size):
                    patient_care_team_add(
                        patient=patient, practitioner=team[(start + k) % len(team)], actor=desk
                    )
            patients.append(patient)
        return patients

    def seed_visits(
        self, patients: list[Patient], services: dict[str, Service], desk: User, tally: Tally
    ) -> None:
        """Book an upcoming visit for the first few patients who have none ahead."""
        now = timezone.now()
        for index, patient in enumerate(patients[:PATIENTS_WITH_VISITS]):
            upcoming = Appointment.objects.filter(
                patient=patient, status=AppointmentStatus.BOOKED, start__gte=now
            )
            if upcoming.exists():
                continue
            team = list(patient.care_team.prefetch_related("locations").order_by("pk"))
            if not team:
                continue
            practitioner = next((p for p in team if p.ims_credential_current), team[0])
            location = practitioner.locations.order_by("order").first()
            if location is None:
                continue
            service = services["physiotherapy-assessment"]
            if practitioner.ims_credential_current:
                service = services["ims-follow-up"]
                if needs_assessment_first(patient, service):
                    service = services["ims-initial-assessment"]
            today = now.astimezone(location.zone).date()
            visit = demo_book_near(
                days=[
                    day
                    for day in (today + dt.timedelta(days=1 + index // 3 + n) for n in range(14))
                    if day.weekday() < 5
                ],
                patient=patient,
                practitioner=practitioner,
                service=service,
                location=location,
                actor=desk,
                earliest=dt.time(9 + 2 * (index % 3)),
            )
            tally.add("upcoming visits", visit is not None)

    def seed_calendar(
        self, patients: list[Patient], services: dict[str, Service], desk: User, tally: Tally
    ) -> None:
        """Fill this week and next with visits in mixed states, so the staff calendar looks real.

        Each practitioner's day follows a fixed plan from the shift's start: which patient,
        which service, and a gap before each. Every planned visit is booked through the booking
        rules at the first time offered within half an hour of its planned time, day by day
        in order, so the first-visit rule sees each patient's earlier visits. A planned visit
        is skipped when its patient already comes that day or no time is offered, so a rerun
        finds every planned patient there and creates nothing. Statuses follow the clock at
        the time of seeding: earlier today and before, completed (a few no-shows and
        cancellations); now, in treatment or arrived; later, booked.
        """
        now = timezone.now()
        demo_patient_ids = {p.pk for p in patients if p.email == DEMO_PATIENT_EMAIL}
        by_pk = {p.pk: p for p in patients if p.pk not in demo_patient_ids}
        caseload: dict[int, list[Patient]] = {}
        for patient_id, practitioner_id in (
            Patient.care_team.through.objects.filter(patient_id__in=list(by_pk))
            .order_by("patient_id", "practitioner_id")
            .values_list("patient_id", "practitioner_id")
        ):
            caseload.setdefault(practitioner_id, []).append(by_pk[patient_id])
        shifts = list(
            Shift.objects.filter(valid_from__lte=now.date() + dt.timedelta(days=15))
            .select_related("practitioner", "location")
            .prefetch_related("breaks")
            .order_by("location__order", "practitioner__order", "weekday", "start_time")
        )
        plan: list[tuple[dt.date, int, Shift]] = []
        for order, shift in enumerate(shifts):
            if not caseload.get(shift.practitioner.pk):
                continue
            today = now.astimezone(shift.location.zone).date()
            monday = today - dt.timedelta(days=today.weekday())
            for offset in range(14):
                day = monday + dt.timedelta(days=offset)
                if day.weekday() != shift.weekday or day < shift.valid_from:
                    continue
                if shift.valid_until is not None and day > shift.valid_until:
                    continue
                plan.append((day, order, shift))
        plan.sort(key=lambda item: item[:2])

        # Who already comes which local day (a rerun finds every planned patient here), read
        # once: a patient comes at most once a day.
        comes: set[tuple[int, dt.date]] = set()
        if plan:
            first = min(day for day, _order, _shift in plan) - dt.timedelta(days=1)
            last = max(day for day, _order, _shift in plan) + dt.timedelta(days=2)
            for patient_id, start, zone_name in Appointment.objects.filter(
                start__date__gte=first, start__date__lt=last
            ).values_list("patient_id", "start", "location__time_zone"):
                comes.add((patient_id, start.astimezone(ZoneInfo(zone_name)).date()))
        pattern = ("ims-follow-up", "ims-follow-up", "ims-initial-assessment", "ims-follow-up")
        gaps = (0, 15, 30, 0, 45, 15)
        for day, _order, shift in plan:
            location, practitioner = shift.location, shift.practitioner
            people = caseload[practitioner.pk]
            ims = practitioner.ims_credential_current_on(day)
            planned = dt.datetime.combine(day, shift.start_time) + dt.timedelta(
                minutes=15 * (practitioner.pk % 3)
            )
            for index in range(7):
                key = day.toordinal() + 5 * index + 3 * practitioner.pk
                service = services[
                    pattern[key % len(pattern)] if ims else "physiotherapy-assessment"
                ]
                planned += dt.timedelta(minutes=gaps[key % len(gaps)])
                earliest = planned
                planned += dt.timedelta(minutes=service.duration_minutes + service.buffer_minutes)
                if earliest.time() >= shift.end_time or planned.date() != day:
                    break
                patient = people[key % len(people)]
                if (patient.pk, day) in comes:
                    continue
                start = dt.datetime.combine(day, earliest.time(), tzinfo=location.zone)
                if service.requires_ims_credential:
                    # The initial assessment only for a patient with no IMS visit before it.
                    had_ims_visit = has_had_ims_visit(patient, start)
                    if service.for_new_patients and had_ims_visit:
                        service = services["ims-follow-up"]
                    elif needs_assessment_first(patient, service, had_ims_visit=had_ims_visit):
                        service = services["ims-initial-assessment"]
                visit = demo_book(
                    patient=patient,
                    practitioner=practitioner,
                    service=service,
                    location=location,
                    day=day,
                    actor=desk,
                    earliest=earliest.time(),
                    latest=(earliest + dt.timedelta(minutes=30)).time(),
                )
                if visit is None:
                    continue
                comes.add((patient.pk, day))
                self.demo_status(visit, now, key, desk)
                tally.created["calendar visits"] += 1

    @staticmethod
    def demo_status(visit: Appointment, now: dt.datetime, key: int, desk: User) -> None:
        """Give a demo visit the status the clock says it would have by now."""
        if visit.end <= now:
            if key % 9 == 0:
                demo_no_show(visit, actor=desk, now=now)
            elif key % 11 == 0:
                demo_cancel(visit, actor=desk, now=now)
            else:
                demo_attended(
                    visit,
                    AppointmentStatus.COMPLETED,
                    arrived=visit.start - dt.timedelta(minutes=7),
                )
        elif visit.start <= now:
            demo_attended(
                visit, AppointmentStatus.IN_TREATMENT, arrived=visit.start - dt.timedelta(minutes=5)
            )
        elif visit.start - dt.timedelta(minutes=20) <= now:
            demo_attended(visit, AppointmentStatus.ARRIVED, arrived=now)
        elif key % 13 == 0:
            demo_cancel(visit, actor=desk, now=now)

    def seed_consent(self, staff: list[User], patients: list[Patient], tally: Tally) -> None:
        """Publish the demo consent to IMS and have the demo patient sign it."""
        from imsclinic.demo.consent import seed_needling_consent

        owner = next(user for user in staff if user.role == Role.OWNER)
        demo_patient = next((p for p in patients if p.email == DEMO_PATIENT_EMAIL), None)
        for kind, was_created in seed_needling_consent(
            owner=owner, demo_patient=demo_patient
        ).items():
            tally.add(kind, was_created)

    def seed_screening(self, staff: list[User], patients: list[Patient], tally: Tally) -> None:
        """Give the demo patients health questions, decisions and consents in every state."""
        from imsclinic.demo.safety import seed_screening

        physio = next(user for user in staff if user.role == Role.PRACTITIONER)
        owner = next(user for user in staff if user.role == Role.OWNER)
        desk = next(user for user in staff if user.role == Role.FRONT_DESK)
        made = seed_screening(patients=patients, physio=physio, owner=owner, desk=desk)
        for kind, count in made.items():
            tally.created[kind] += count

    def seed_stock(self, staff: list[User], locations: list[Location], tally: Tally) -> None:
        """Stock needle lots in every state and start a sharps log at each location."""
        from imsclinic.demo.clinic import seed_needle_stock

        physio = next(user for user in staff if user.role == Role.PRACTITIONER)
        owner = next(user for user in staff if user.role == Role.OWNER)
        made = seed_needle_stock(staff=physio, locations=locations, owner=owner)
        for kind, count in made.items():
            tally.created[kind] += count

    def seed_charting(self, staff: list[User], patients: list[Patient], tally: Tally) -> None:
        """Chart a short, signed course of IMS for the demo patient with the demo physio."""
        from imsclinic.demo.charting import seed_demo_course

        physio = next(user for user in staff if user.role == Role.PRACTITIONER)
        desk = next(user for user in staff if user.role == Role.FRONT_DESK)
        demo_patient = next((p for p in patients if p.email == DEMO_PATIENT_EMAIL), None)
        for kind, count in seed_demo_course(patient=demo_patient, physio=physio, desk=desk).items():
            tally.created[kind] += count
        # Outcome measures: six sessions of progress and a few other courses.
        from imsclinic.demo.outcomes import seed_outcomes

        made = seed_outcomes(patient=demo_patient, physio=physio, desk=desk, others=patients)
        for kind, count in made.items():
            tally.created[kind] += count
        # Follow-up: answered, unanswered and red-flag check-ins.
        from imsclinic.demo.followup import seed_followup

        for kind, count in seed_followup(physio=physio).items():
            tally.created[kind] += count
        # A physiotherapy note: one past visit that is not IMS, signed.
        from imsclinic.demo.physio import seed_physio_note

        made = seed_physio_note(patient=demo_patient, physio=physio, desk=desk)
        for kind, count in made.items():
            tally.created[kind] += count

    def seed_fee_policies(self, tally: Tally) -> None:
        """Set the owner's late-cancellation and no-show fees for the IMS services."""
        from imsclinic.demo.billing import seed_fee_policies

        tally.created["cancellation fees"] += seed_fee_policies()

    def seed_billing(self, staff: list[User], patients: list[Patient], tally: Tally) -> None:
        """Set billing up and invoice the last month's completed visits, paid in every way."""
        from imsclinic.demo.billing import seed_billing

        owner = next(user for user in staff if user.role == Role.OWNER)
        desk = next(user for user in staff if user.role == Role.FRONT_DESK)
        demo_patient = next((p for p in patients if p.email == DEMO_PATIENT_EMAIL), None)
        made = seed_billing(owner=owner, desk=desk, demo_patient=demo_patient)
        for kind, count in made.items():
            tally.created[kind] += count

    def seed_faq(self, tally: Tally) -> str:
        """Load the default FAQ if the clinic has none; return a note if it could not."""
        if FaqEntry.objects.exists():
            return ""
        try:
            from imsclinic.web.content import DEFAULT_FAQ  # type: ignore[import-not-found]
        except ImportError:
            return "FAQ: imsclinic.web.content.DEFAULT_FAQ is not available yet; no FAQ loaded."
        for order, item in enumerate(DEFAULT_FAQ):
            if isinstance(item, dict):
                question, answer = item["question"], item["answer"]
            else:
                question, answer = item[0], item[1]
            FaqEntry.objects.create(question=str(question), answer=str(answer), order=order)
            tally.add("FAQ entries", True)
        return ""

    # -- output ------------------------------------------------------------------------

    def print_logins(self, console: Console, clinic: Clinic, staff: list[User]) -> None:
        table = Table(title=f"Demo logins for {clinic.name}", title_justify="left")
        table.add_column("Role")
        table.add_column("Email")
        table.add_column("Password")
        table.add_column("Two-factor")
        for user in staff:
            table.add_row(user.get_role_display(), user.email, DEMO_PASSWORD, "code from the app")
        table.add_row("Patient", DEMO_PATIENT_EMAIL, DEMO_PASSWORD, "none")
        console.print(table)
        console.print(
            "Staff sign-in asks for a six-digit code. Add this secret to an authenticator app "
            f"(one entry serves all three staff logins): [bold]{DEMO_TOTP_SECRET}[/bold]\n"
            "No app at hand? `make demo-codes` prints the current codes."
        )

    def print_codes(self, console: Console) -> None:
        from allauth.mfa import app_settings

        left = app_settings.TOTP_PERIOD - int(time.time()) % app_settings.TOTP_PERIOD
        try:
            authenticators = list(
                Authenticator.objects.filter(
                    user__email__in=[s.email for s in STAFF], type=Authenticator.Type.TOTP
                ).select_related("user")
            )
        except DatabaseError:
            authenticators = []  # no tables yet: the database was never migrated
        if not authenticators:
            raise CommandError("No demo staff logins found: run `make run` (or seed_demo) first.")
        for authenticator in authenticators:
            code = current_code(decrypt(authenticator.data["secret"]))
            console.print(f"{authenticator.user.email:<28} {code}")
        console.print(f"These codes are good for about {left} more seconds.")
