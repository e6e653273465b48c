"""The scheduling endpoints: services, practitioners, open times, booking and cancelling."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from imsclinic.accounts.models import User
from imsclinic.clinic.models import Location, Room, Service
from imsclinic.core.models import Action, AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Shift, WaitlistEntry
from tests.factories import VANCOUVER
from tests.factories.api import CHECKS, FUZZ
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db


@pytest.fixture
def shifts(location: Location, physio: User, other_physio: User) -> list[Shift]:
    """Both physios work weekdays 09:00-17:00 with lunch 12:00-13:00, starting last month."""
    since = timezone.localdate() - dt.timedelta(days=30)
    return weekday_shifts(location, [physio, other_physio], since)


def weekday_ahead(days: int = 3) -> dt.date:
    """Return the first weekday at least `days` days from today in Vancouver."""
    day = timezone.now().astimezone(VANCOUVER).date() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def at_ten(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=VANCOUVER)


def book(client: Client, **body: object):
    return client.post("/api/v1/appointments", body, content_type="application/json")


# --- services and practitioners ---------------------------------------------------------------


def test_it_lists_services_with_price_as_a_string_and_the_clinic_currency(
    api_client, cast, clinic, ims_service
):
    response = api_client(cast["front_desk"]).get("/api/v1/services")
    assert response.status_code == 200
    [service] = response.json()
    assert service["slug"] == "ims-follow-up"
    assert service["price"] == "95.00"
    assert service["currency"] == clinic.currency
    assert service["duration_minutes"] == 30
    assert service["requires_ims_credential"] is True


def test_patients_see_only_services_they_may_book_online(api_client, patient, assessment):
    Service.objects.create(
        name="Phone only",
        slug="phone-only",
        duration_minutes=30,
        price=Decimal("80.00"),
        bookable_online=False,
    )
    slugs = {s["slug"] for s in api_client(patient.user).get("/api/v1/services").json()}
    assert slugs == {"ims-initial-assessment"}


def test_it_lists_practitioners_with_their_locations_and_credential(
    api_client, cast, location, physio
):
    response = api_client(cast["front_desk"]).get("/api/v1/practitioners")
    assert response.status_code == 200
    tara = next(p for p in response.json() if p["id"] == physio.practitioner.pk)
    assert tara["locations"] == [location.pk]
    assert tara["ims_credential_current"] is True
    assert tara["name"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/services"),
        ("get", "/api/v1/practitioners"),
        ("get", "/api/v1/availability?service=x&start=2030-01-07&days=1"),
        ("get", "/api/v1/appointments"),
        ("post", "/api/v1/appointments"),
        ("post", "/api/v1/appointments/1/cancel"),
        ("post", "/api/v1/waitlist"),
    ],
)
def test_every_scheduling_endpoint_answers_401_without_a_token(method, path):
    response = getattr(Client(), method)(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- availability ------------------------------------------------------------------------------


def test_availability_gives_times_with_the_locations_offset(
    api_client, patient, assessment, shifts
):
    day = weekday_ahead()
    response = api_client(patient.user).get(
        f"/api/v1/availability?service={assessment.slug}&start={day}&days=1"
    )
    assert response.status_code == 200
    slots = response.json()["slots"]
    assert slots
    offset = at_ten(day).strftime("%z")
    expected = f"{offset[:3]}:{offset[3:]}"  # -08:00 in winter, -07:00 in summer
    assert all(slot["start"].endswith(expected) for slot in slots)
    assert f"{day}T09:00:00{expected}" in {slot["start"] for slot in slots}


def test_availability_answers_exactly_what_its_documented_schema_would_write(
    api_client, patient, assessment, shifts
):
    from ninja.responses import NinjaJSONEncoder

    from imsclinic.api.scheduling import SlotsOut

    response = api_client(patient.user).get(
        f"/api/v1/availability?service={assessment.slug}&start={weekday_ahead()}&days=3"
    )
    assert response["Content-Type"] == "application/json; charset=utf-8"
    answer = response.json()
    assert answer["slots"]
    through_the_schema = SlotsOut.model_validate(answer).model_dump()
    assert json.loads(json.dumps(through_the_schema, cls=NinjaJSONEncoder)) == answer


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2030, 1, 7, 9, 0, tzinfo=ZoneInfo("America/Vancouver")),
        dt.datetime(2030, 7, 8, 9, 30, 15, 123456, tzinfo=ZoneInfo("America/Vancouver")),
        dt.datetime(2030, 1, 7, 17, 0, tzinfo=dt.UTC),
        dt.datetime(2030, 1, 7, 17, 0, 0, 999, tzinfo=ZoneInfo("UTC")),
        dt.datetime(2030, 1, 7, 22, 45, tzinfo=ZoneInfo("Asia/Kolkata")),
    ],
)
def test_slot_times_are_written_as_the_apis_encoder_writes_them(when):
    from ninja.responses import NinjaJSONEncoder

    from imsclinic.api.scheduling import _json_time

    assert _json_time(when) == json.loads(json.dumps(when, cls=NinjaJSONEncoder))


def test_a_patient_is_not_offered_other_practitioners_times_that_overlap_their_own_visit(
    api_client, patient, physio, other_physio, front_desk, assessment, shifts, location
):
    Room.objects.create(location=location, name="Bed 2")  # both physios can treat at once
    day = weekday_ahead()
    booked = book(
        api_client(patient.user),
        service=assessment.slug,
        practitioner=physio.practitioner.pk,
        start=at_ten(day).isoformat(),
    )
    assert booked.status_code == 201, booked.content
    url = (
        f"/api/v1/availability?service={assessment.slug}&start={day}&days=1"
        f"&practitioner={other_physio.practitioner.pk}"
    )

    def starts(user: User) -> set[dt.datetime]:
        answer = api_client(user).get(url)
        assert answer.status_code == 200
        return {dt.datetime.fromisoformat(slot["start"]) for slot in answer.json()["slots"]}

    visit_begins, visit_ends = at_ten(day), at_ten(day) + dt.timedelta(hours=1)
    length = dt.timedelta(minutes=assessment.duration_minutes)
    desk = starts(front_desk)
    assert visit_begins + dt.timedelta(minutes=30) in desk  # the other physio is free then
    assert starts(patient.user) == {
        start for start in desk if not (start < visit_ends and visit_begins < start + length)
    }


def test_availability_refuses_more_than_a_month_of_days(api_client, patient, assessment):
    response = api_client(patient.user).get(
        f"/api/v1/availability?service={assessment.slug}&start=2030-01-07&days=32"
    )
    assert response.status_code == 422


def test_availability_for_an_unknown_service_answers_404(api_client, patient):
    response = api_client(patient.user).get(
        "/api/v1/availability?service=no-such-thing&start=2030-01-07&days=1"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_availability_hides_phone_only_services_from_patients(api_client, patient, shifts):
    Service.objects.create(
        name="Phone only",
        slug="phone-only",
        duration_minutes=30,
        price=Decimal("80.00"),
        bookable_online=False,
    )
    response = api_client(patient.user).get(
        f"/api/v1/availability?service=phone-only&start={weekday_ahead()}&days=1"
    )
    assert response.status_code == 404


def test_availability_refuses_a_start_day_near_the_ends_of_the_calendar(
    api_client, patient, assessment
):
    # Found by fuzzing: year 1 used to overflow inside the search and answer 500.
    response = api_client(patient.user).get(
        f"/api/v1/availability?service={assessment.slug}&start=0001-01-01&days=1"
    )
    assert response.status_code == 422


# --- booking -----------------------------------------------------------------------------------


def test_a_patient_books_a_slot_and_the_same_slot_again_gets_409_with_alternatives(
    api_client, patient, other_patient, physio, assessment, shifts
):
    client = api_client(patient.user)
    start = at_ten(weekday_ahead())
    body = {"service": assessment.slug, "practitioner": physio.practitioner.pk}
    first = book(client, **body, start=start.isoformat())
    assert first.status_code == 201, first.content
    made = first.json()
    assert made["status"] == "booked"
    assert dt.datetime.fromisoformat(made["start"]) == start
    assert Appointment.objects.get(pk=made["id"]).patient == patient

    again = book(client, **body, start=start.isoformat())
    assert again.status_code == 409
    answer = again.json()
    assert answer["detail"] == "You already have a visit at that time."
    assert 1 <= len(answer["alternatives"]) <= 5
    assert all(dt.datetime.fromisoformat(slot["start"]) != start for slot in answer["alternatives"])
    assert Appointment.objects.count() == 1

    someone_else = book(api_client(other_patient.user), **body, start=start.isoformat())
    assert someone_else.status_code == 409
    assert someone_else.json()["detail"] == "That time was just taken."
    assert Appointment.objects.count() == 1


def test_a_first_ims_visit_must_be_the_assessment(
    api_client, patient, physio, assessment, ims_service, shifts
):
    response = book(
        api_client(patient.user),
        service=ims_service.slug,
        practitioner=physio.practitioner.pk,
        start=at_ten(weekday_ahead()).isoformat(),
    )
    assert response.status_code == 422
    assert assessment.name in response.json()["detail"]
    assert not Appointment.objects.exists()


def test_a_start_without_an_offset_is_refused(api_client, patient, physio, assessment, shifts):
    response = book(
        api_client(patient.user),
        service=assessment.slug,
        practitioner=physio.practitioner.pk,
        start=f"{weekday_ahead()}T10:00:00",
    )
    assert response.status_code == 422
    assert "offset" in response.json()["detail"]
    assert not Appointment.objects.exists()


def test_a_patient_cannot_book_for_another_patient(
    api_client, patient, other_patient, physio, assessment, shifts
):
    response = book(
        api_client(patient.user),
        service=assessment.slug,
        practitioner=physio.practitioner.pk,
        start=at_ten(weekday_ahead()).isoformat(),
        patient=other_patient.pk,
    )
    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_front_desk_books_for_a_named_patient(
    api_client, cast, other_patient, physio, assessment, shifts
):
    response = book(
        api_client(cast["front_desk"]),
        service=assessment.slug,
        practitioner=physio.practitioner.pk,
        start=at_ten(weekday_ahead()).isoformat(),
        patient=other_patient.pk,
    )
    assert response.status_code == 201
    assert Appointment.objects.get().patient == other_patient


def visit_booked_ahead(patient: Patient, user: User, service: Service, day: dt.date) -> None:
    Appointment.objects.create(
        patient=patient,
        practitioner=user.practitioner,
        location=user.practitioner.locations.get(),
        service=service,
        start=at_ten(day),
        end=at_ten(day) + dt.timedelta(minutes=service.duration_minutes),
    )


def test_the_front_desk_booking_beyond_a_claims_authorised_visits_is_warned(
    api_client, cast, patient, physio, other_physio, assessment, shifts
):
    from tests.factories.billing import claim, payer

    claim(
        patient,
        payer(name="WorkSafe", kind="workers_comp"),
        cast["front_desk"],
        number="WC-2031-9",
        visits=1,
    )
    visit_booked_ahead(patient, other_physio, assessment, weekday_ahead(15))
    body = {"service": assessment.slug, "practitioner": physio.practitioner.pk}

    response = book(
        api_client(cast["front_desk"]),
        **body,
        start=at_ten(weekday_ahead()).isoformat(),
        patient=patient.pk,
    )

    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "This visit is beyond the 1 visit authorised on claim WC-2031-9 (WorkSafe): 1 already "
        "invoiced or booked. Unless the payer authorises more visits, the patient is billed "
        "for it."
    ]
    assert Appointment.objects.filter(patient=patient).count() == 2
    own = book(api_client(patient.user), **body, start=at_ten(weekday_ahead(8)).isoformat())
    assert (own.status_code, own.json()["warnings"]) == (201, [])


def test_the_front_desk_booking_after_a_claims_authorisation_ended_is_warned(
    api_client, cast, patient, physio, assessment, shifts
):
    from tests.factories.billing import claim, payer

    day = weekday_ahead()
    until = day - dt.timedelta(days=1)
    claim(
        patient,
        payer(name="Provincial Auto", kind="auto"),
        cast["front_desk"],
        number="AUTO-31-2",
        until=until,
    )
    body = {"service": assessment.slug, "practitioner": physio.practitioner.pk}

    by_desk = book(
        api_client(cast["front_desk"]), **body, start=at_ten(day).isoformat(), patient=patient.pk
    )
    by_physio = book(
        api_client(physio), **body, start=at_ten(weekday_ahead(8)).isoformat(), patient=patient.pk
    )

    assert by_desk.json()["warnings"] == [
        f"This visit is after claim AUTO-31-2 (Provincial Auto) stopped being authorised on "
        f"{until.isoformat()}; the payer will not be billed for it."
    ]
    assert (by_physio.status_code, by_physio.json()["warnings"]) == (201, [])


def test_booking_asks_for_the_location_when_the_practitioner_works_at_several(
    api_client, patient, physio, assessment, shifts, location
):
    second = Location.objects.create(
        clinic=location.clinic,
        name="Main Street",
        slug="main-street",
        address_line1="200 Example St",
        city="Vancouver",
        region="BC",
        postal_code="V5T 1A1",
        phone="604-555-0102",
        time_zone="America/Vancouver",
    )
    physio.practitioner.locations.add(second)
    response = book(
        api_client(patient.user),
        service=assessment.slug,
        practitioner=physio.practitioner.pk,
        start=at_ten(weekday_ahead()).isoformat(),
    )
    assert response.status_code == 422
    assert "location" in response.json()["detail"]
    assert not Appointment.objects.exists()


# --- listing and cancelling --------------------------------------------------------------------


def make_visit(patient: Patient, user: User, service: Service, location: Location, start):
    return Appointment.objects.create(
        patient=patient,
        practitioner=user.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
    )


def test_patients_list_only_their_own_visits(
    api_client, patient, other_patient, physio, assessment, location
):
    start = at_ten(weekday_ahead())
    mine = make_visit(patient, physio, assessment, location, start)
    make_visit(other_patient, physio, assessment, location, start + dt.timedelta(days=7))
    response = api_client(patient.user).get("/api/v1/appointments")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [mine.pk]


def test_a_practitioner_lists_only_their_own_and_their_care_teams_upcoming_visits(
    api_client, patient, other_patient, physio, other_physio, assessment, location
):
    start = at_ten(weekday_ahead())
    theirs = make_visit(patient, physio, assessment, location, start)
    colleagues = make_visit(
        patient, other_physio, assessment, location, start + dt.timedelta(days=7)
    )
    make_visit(other_patient, other_physio, assessment, location, start + dt.timedelta(days=8))
    ids = [i["id"] for i in api_client(physio).get("/api/v1/appointments").json()["items"]]
    assert ids == [theirs.pk, colleagues.pk]


def test_each_patient_a_staff_list_shows_gets_an_audit_row(
    api_client, patient, other_patient, physio, other_physio, assessment, location
):
    start = at_ten(weekday_ahead())
    first = make_visit(patient, physio, assessment, location, start)
    again = make_visit(patient, physio, assessment, location, start + dt.timedelta(days=7))
    otto = make_visit(other_patient, other_physio, assessment, location, start)

    api_client(physio).get("/api/v1/appointments")

    [row] = AuditEvent.objects.filter(actor=physio, object_type="appointment_list")
    assert (row.action, row.patient_id) == (Action.VIEW, patient.pk)
    assert row.detail == {"via": "api", "visits": [first.pk, again.pk]}
    assert not AuditEvent.objects.filter(patient_id=other_patient.pk).exists(), otto


def test_an_empty_staff_list_is_still_audited(api_client, other_physio):
    api_client(other_physio).get("/api/v1/appointments")
    [row] = AuditEvent.objects.filter(actor=other_physio, object_type="appointment_list")
    assert row.patient_id is None


def test_the_staff_list_asks_no_more_as_visits_grow_and_writes_an_audit_row_per_patient(
    api_client, physio, other_physio, assessment, location, front_desk
):
    client = api_client(front_desk)
    client.get("/api/v1/appointments")  # the token's first use is noted once
    start = at_ten(weekday_ahead())

    def listed(count: int) -> tuple[int, int]:
        for _ in range(count):
            n = Appointment.objects.count()
            person = Patient.objects.create(
                given_name=f"Listed{n}", family_name="Person", date_of_birth=dt.date(1980, 1, 1)
            )
            who = physio if n % 2 else other_physio
            make_visit(person, who, assessment, location, start + dt.timedelta(days=n))
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/appointments").status_code == 200
        return len(queries), AuditEvent.objects.count() - before

    few = listed(1)
    many = listed(5)
    assert few[0] == many[0]
    assert (few[1], many[1]) == (1, 6)


def test_a_patient_cancels_their_own_visit(api_client, patient, physio, assessment, location):
    visit = make_visit(patient, physio, assessment, location, at_ten(weekday_ahead()))
    response = api_client(patient.user).post(
        f"/api/v1/appointments/{visit.pk}/cancel",
        {"reason": "Away that week"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"id": visit.pk, "status": "cancelled"}
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED


def test_someone_elses_visit_looks_exactly_like_a_missing_one(
    api_client, patient, other_patient, physio, assessment, location
):
    visit = make_visit(other_patient, physio, assessment, location, at_ten(weekday_ahead()))
    client = api_client(patient.user)
    hidden = client.post(f"/api/v1/appointments/{visit.pk}/cancel")
    missing = client.post(f"/api/v1/appointments/{visit.pk + 1000}/cancel")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_late_cancellation_is_refused_and_names_the_clinic_phone(
    api_client, clinic, patient, physio, assessment, location
):
    soon = timezone.now() + dt.timedelta(hours=3)
    visit = make_visit(patient, physio, assessment, location, soon)
    response = api_client(patient.user).post(f"/api/v1/appointments/{visit.pk}/cancel")
    assert response.status_code == 409
    assert clinic.phone in response.json()["detail"]
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_cancelled_visit_cannot_be_cancelled_again(
    api_client, patient, physio, assessment, location
):
    visit = make_visit(patient, physio, assessment, location, at_ten(weekday_ahead()))
    visit.status = AppointmentStatus.CANCELLED
    visit.save()
    response = api_client(patient.user).post(f"/api/v1/appointments/{visit.pk}/cancel")
    assert response.status_code == 409


# --- the schema --------------------------------------------------------------------------------


def test_openapi_lists_the_scheduling_paths_and_their_errors():
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    expected = {
        ("/api/v1/services", "get"): {"200", "401"},
        ("/api/v1/practitioners", "get"): {"200", "401"},
        ("/api/v1/availability", "get"): {"200", "401", "404", "422"},
        ("/api/v1/appointments", "post"): {"201", "401", "403", "404", "409", "422"},
        ("/api/v1/appointments", "get"): {"200", "401"},
        ("/api/v1/appointments/{appointment_id}/cancel", "post"): {
            "200",
            "401",
            "404",
            "409",
            "422",
        },
    }
    for (path, method), codes in expected.items():
        assert codes <= set(paths[path][method]["responses"]), (path, method)


@pytest.mark.parametrize("who", ["patient", "front_desk"])
def test_the_scheduling_endpoints_keep_to_their_schema(
    api_schema,
    cast,
    patient,
    assessment,
    shifts,
    token_for,
    who,
):
    """Fuzz every scheduling operation: no 500s, and every answer matches the schema."""
    user = patient.user if who == "patient" else cast[who]
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    operations = [
        api_schema[path][method]
        for path, method in (
            ("/api/v1/services", "GET"),
            ("/api/v1/practitioners", "GET"),
            ("/api/v1/availability", "GET"),
            ("/api/v1/appointments", "GET"),
            ("/api/v1/appointments", "POST"),
            ("/api/v1/appointments/{appointment_id}/cancel", "POST"),
        )
    ]
    strategy = st.one_of(
        *(
            operation.as_strategy(generation_mode=mode)
            for operation in operations
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ),
        # A real service, so the 200 shape of a slot list is checked, not only the 404.
        api_schema["/api/v1/availability"]["GET"].as_strategy(query={"service": assessment.slug}),
    )

    @FUZZ
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


# --- the waitlist ------------------------------------------------------------------------------


def wait(client: Client, **body: object):
    return client.post("/api/v1/waitlist", body, content_type="application/json")


def wish(service: Service, **extra: object) -> dict[str, object]:
    day = weekday_ahead()
    return {
        "service": service.slug,
        "earliest": day.isoformat(),
        "latest": (day + dt.timedelta(days=14)).isoformat(),
        **extra,
    }


def test_a_patient_joins_the_waitlist(api_client, patient, physio, assessment):
    response = wait(
        api_client(patient.user), **wish(assessment, practitioner=physio.practitioner.pk)
    )
    assert response.status_code == 201, response.content
    entry = WaitlistEntry.objects.get(pk=response.json()["id"])
    assert (entry.patient, entry.service, entry.practitioner) == (
        patient,
        assessment,
        physio.practitioner,
    )
    assert response.json()["status"] == "waiting"


def test_the_front_desk_names_the_patient_who_waits(api_client, cast, other_patient, assessment):
    client = api_client(cast["front_desk"])
    assert wait(client, **wish(assessment)).status_code == 422
    response = wait(client, **wish(assessment, patient=other_patient.pk))
    assert response.status_code == 201
    assert WaitlistEntry.objects.get().patient == other_patient


def test_a_practitioner_without_a_current_ims_certification_is_refused_by_field(
    api_client, patient, other_physio, assessment
):
    lapsed = other_physio.practitioner
    lapsed.ims_certification_expires_on = timezone.localdate() - dt.timedelta(days=1)
    lapsed.save(update_fields=["ims_certification_expires_on"])
    response = wait(api_client(patient.user), **wish(assessment, practitioner=lapsed.pk))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"][-1] == "practitioner"
    assert problem["msg"] == (
        "Oscar Other holds no current licence to needle for those dates, so cannot give "
        "IMS initial assessment. Choose someone else, or anyone."
    )
    assert not WaitlistEntry.objects.exists()


def test_a_second_initial_assessment_is_refused_by_field(
    api_client, patient, physio, assessment, shifts
):
    client = api_client(patient.user)
    start = at_ten(weekday_ahead())
    booked = book(
        client,
        service=assessment.slug,
        practitioner=physio.practitioner.pk,
        start=start.isoformat(),
    )
    assert booked.status_code == 201
    response = wait(client, **wish(assessment))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"][-1] == "service"
    assert "IMS initial assessment is not for you again" in problem["msg"]
    assert not WaitlistEntry.objects.exists()


def test_a_follow_up_before_any_ims_visit_is_refused(api_client, patient, ims_service):
    response = wait(api_client(patient.user), **wish(ims_service))
    assert response.status_code == 422
    assert "initial assessment" in response.json()["detail"][0]["msg"]


def test_an_unknown_practitioner_answers_404(api_client, patient, assessment):
    response = wait(api_client(patient.user), **wish(assessment, practitioner=999_999))
    assert response.status_code == 404
    assert not WaitlistEntry.objects.exists()
