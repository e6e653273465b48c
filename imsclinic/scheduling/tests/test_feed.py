"""A practitioner's private iCal feed: initials only, signed, revocable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from imsclinic.clinic.models import Service
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.feed import FEED_SALT, feed_path, feed_token
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.services.feed import practitioner_feed_revoke
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


def visit(patient: Patient, practitioner_user, service: Service, start: dt.datetime, **extra):
    practitioner = practitioner_user.practitioner
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        location=practitioner.locations.get(),
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=service.duration_minutes),
        **extra,
    )


def soon(days: int = 3, hour: int = 17) -> dt.datetime:
    day = timezone.now().date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def noted_service(ims_service: Service) -> Service:
    ims_service.description = "Needling of the lumbar multifidus for radiculopathy"
    ims_service.save()
    return ims_service


class TestFeed:
    def test_it_carries_times_and_initials_but_no_name_contact_or_health_details(
        self, physio, patient, noted_service
    ):
        visit(patient, physio, noted_service, soon())
        response = Client().get(feed_path(physio.practitioner))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        body = response.content.decode()
        assert "P.I." in body
        for secret in (
            "Ient",
            patient.full_name,
            patient.phone,
            "555-0199",
            patient.email,
            "multifidus",
            "radiculopathy",
            "1980",
        ):
            assert secret not in body, secret

    def test_it_parses_and_each_start_is_the_visit_s_instant(self, physio, patient, ims_service):
        first = visit(patient, physio, ims_service, soon(2))
        second = visit(patient, physio, ims_service, soon(5, hour=20))
        calendar = Calendar.from_ical(Client().get(feed_path(physio.practitioner)).content)
        events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
        assert [e.decoded("dtstart") for e in events] == [first.start, second.start]
        assert [e.decoded("dtend") for e in events] == [first.end, second.end]
        assert str(events[0].decoded("dtstart").tzinfo) == "America/Vancouver"

    def test_it_leaves_out_cancelled_visits_other_practitioners_and_the_far_past(
        self, physio, other_physio, patient, other_patient, ims_service
    ):
        kept = visit(patient, physio, ims_service, soon(1))
        visit(patient, physio, ims_service, soon(4), status=AppointmentStatus.CANCELLED)
        visit(other_patient, other_physio, ims_service, soon(1))
        visit(patient, physio, ims_service, soon(-45))
        calendar = Calendar.from_ical(Client().get(feed_path(physio.practitioner)).content)
        assert [e.decoded("dtstart") for e in calendar.walk("VEVENT")] == [kept.start]

    def test_it_is_never_cached_and_each_fetch_is_audited(self, physio, patient, ims_service):
        visit(patient, physio, ims_service, soon())
        response = Client().get(feed_path(physio.practitioner))
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        event = AuditEvent.objects.get(object_type="calendar_feed")
        assert (event.action, event.object_id, event.role) == (
            "view",
            str(physio.practitioner.pk),
            "anonymous",
        )
        assert event.patient_id is None

    def test_it_takes_a_fixed_number_of_queries(
        self, physio, patient, ims_service, django_assert_max_num_queries
    ):
        for days in range(1, 9):
            visit(patient, physio, ims_service, soon(days))
        # The practitioner, the visits, then the audit row in a savepoint (one insert).
        with django_assert_max_num_queries(5):
            response = Client().get(feed_path(physio.practitioner))
        assert response.content.count(b"BEGIN:VEVENT") == 8

    def test_a_tampered_token_is_not_found(self, physio):
        token = feed_token(physio.practitioner)
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        url = reverse("calendar_feed", kwargs={"token": tampered})
        assert Client().get(url).status_code == 404

    def test_a_token_for_another_purpose_or_someone_else_is_not_found(self, physio, other_physio):
        practitioner = physio.practitioner
        other_salt = signing.dumps([practitioner.pk, 1], salt="something-else")
        assert Client().get(f"/calendar/feed/{other_salt}.ics").status_code == 404
        odd = signing.dumps({"id": practitioner.pk}, salt=FEED_SALT)
        assert Client().get(f"/calendar/feed/{odd}.ics").status_code == 404
        assert Client().get("/calendar/feed/nonsense.ics").status_code == 404

    def test_an_inactive_practitioner_s_feed_is_not_found(self, physio):
        url = feed_path(physio.practitioner)
        physio.practitioner.is_active = False
        physio.practitioner.save()
        assert Client().get(url).status_code == 404


class TestRevoking:
    def test_revoking_makes_the_old_address_404_and_the_new_one_work(self, physio):
        old = feed_path(physio.practitioner)
        response = signed_in(physio).post(reverse("calendar_feed_revoke"))
        assert response.status_code == 302
        physio.practitioner.refresh_from_db()
        assert physio.practitioner.calendar_feed_version == 2
        assert Client().get(old).status_code == 404
        assert Client().get(feed_path(physio.practitioner)).status_code == 200

    def test_revoking_is_audited(self, physio):
        signed_in(physio).post(reverse("calendar_feed_revoke"))
        event = AuditEvent.objects.get(object_type="calendar_feed", action="update")
        assert event.actor == physio
        assert event.detail["version"] == 2

    def test_the_owner_may_revoke_any_practitioner_s_feed(self, owner, physio):
        old = feed_path(physio.practitioner)
        signed_in(owner).post(
            reverse("calendar_feed_revoke"), {"practitioner": physio.practitioner.pk}
        )
        assert Client().get(old).status_code == 404

    def test_another_practitioner_may_not_revoke_mine(self, physio, other_physio):
        old = feed_path(physio.practitioner)
        response = signed_in(other_physio).post(
            reverse("calendar_feed_revoke"), {"practitioner": physio.practitioner.pk}
        )
        assert response.status_code == 403
        assert Client().get(old).status_code == 200
        with pytest.raises(PermissionDenied):
            practitioner_feed_revoke(practitioner=physio.practitioner, actor=other_physio)

    def test_the_front_desk_may_not_revoke_a_feed(self, front_desk, physio):
        response = signed_in(front_desk).post(
            reverse("calendar_feed_revoke"), {"practitioner": physio.practitioner.pk}
        )
        assert response.status_code == 403
        physio.practitioner.refresh_from_db()
        assert physio.practitioner.calendar_feed_version == 1


class TestFeedPage:
    def test_a_practitioner_sees_their_own_address_and_the_revoke_button(self, physio):
        client = signed_in(physio)
        # The address is signed with the second it was made: the page's may be the one before.
        before = f"http://testserver{feed_path(physio.practitioner)}"
        page = client.get(reverse("calendar_feed_settings")).content.decode()
        after = f"http://testserver{feed_path(physio.practitioner)}"
        assert before in page or after in page
        assert "Revoke and make a new address" in page

    def test_the_owner_sees_every_practitioner_but_not_their_addresses(
        self, owner, physio, other_physio
    ):
        page = signed_in(owner).get(reverse("calendar_feed_settings")).content.decode()
        assert "Tara Treating" in page and "Oscar Other" in page
        assert feed_token(physio.practitioner) not in page
