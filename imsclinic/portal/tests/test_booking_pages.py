"""The patient's booking journey through the pages: pick, confirm, see it; move and cancel it."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from imsclinic.billing.models import FeeEvent
from imsclinic.clinic.models import Service
from imsclinic.scheduling.availability import Slot
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Course, Shift, TimeOff
from imsclinic.scheduling.picker import Flow, time_label
from imsclinic.scheduling.selectors import available_slots
from imsclinic.scheduling.services.booking import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from imsclinic.scheduling.views.picker import picker_context
from tests.factories import VANCOUVER
from tests.factories.billing import fee_policy
from tests.factories.clients import signed_in
from tests.factories.scheduling import weekday_shifts

pytestmark = pytest.mark.django_db


def hrefs(response, css_class: str) -> list[str]:
    """Return the links with this class on a page, unescaped, in page order."""
    text = response.content.decode()
    return [
        html.unescape(match)
        for match in re.findall(rf'<a href="([^"]+)"[^>]*class="{css_class}"', text)
    ]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def confirm_url(service: Service, slot: Slot, **extra: str) -> str:
    query = {
        "service": service.slug,
        "practitioner": str(slot.practitioner_id),
        "location": str(slot.location_id),
        "start": slot.start.astimezone(dt.UTC).isoformat(),
        **extra,
    }
    return (
        reverse("portal_book_confirm")
        + "?"
        + "&".join(f"{key}={value.replace('+', '%2B')}" for key, value in query.items())
    )


def form_values(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def schedule(location, physio, other_physio):
    """Both physios work weekdays 09:00-17:00 (lunch 12-13), from last week on."""
    return weekday_shifts(location, [physio, other_physio], timezone.localdate() - dt.timedelta(7))


@pytest.fixture
def had_assessment(patient, physio, location, assessment):
    """The patient's IMS assessment, done last month: follow-ups are open to them."""
    start = timezone.now() - dt.timedelta(days=30)
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=assessment,
        start=start,
        end=start + dt.timedelta(hours=1),
        status=AppointmentStatus.COMPLETED,
    )


def free_slots(service, practitioner, location, *, from_days: int = 3, days: int = 7):
    return available_slots(
        service=service,
        start_date=timezone.localdate() + dt.timedelta(days=from_days),
        days=days,
        practitioner=practitioner,
        location=location,
    )


class TestChoosing:
    def test_a_new_patient_is_steered_to_the_initial_assessment_before_choosing(
        self, cast, patient, assessment, ims_service, schedule
    ):
        response = signed_in(cast["patient"]).get(reverse("portal_book"))
        assert response.status_code == 200
        text = text_of(response)
        assert "Your first IMS visit is the IMS initial assessment" in text
        assert 'value="ims-initial-assessment"' in response.content.decode()
        assert 'value="ims-follow-up"' not in response.content.decode()

    def test_a_follow_up_asked_for_directly_explains_the_first_visit_rule_and_offers_no_times(
        self, cast, patient, assessment, ims_service, schedule
    ):
        response = signed_in(cast["patient"]).get(
            reverse("portal_book"), {"service": "ims-follow-up"}
        )
        assert "must be IMS initial assessment" in text_of(response)
        assert hrefs(response, "slot") == []

    def test_a_returning_patient_sees_follow_ups_but_not_what_only_staff_book(
        self, cast, patient, ims_service, had_assessment, schedule
    ):
        Service.objects.create(
            name="Phone review",
            slug="phone-review",
            duration_minutes=15,
            price=0,
            bookable_online=False,
        )
        page = signed_in(cast["patient"]).get(reverse("portal_book")).content.decode()
        assert 'value="ims-follow-up"' in page
        assert "phone-review" not in page

    def test_the_week_shows_days_with_free_times_and_times_in_the_clinics_zone(
        self, cast, patient, physio, location, assessment, schedule
    ):
        expected = free_slots(assessment, physio.practitioner, location)[0]
        week = expected.start.date()
        response = signed_in(cast["patient"]).get(
            reverse("portal_book"),
            {
                "service": assessment.slug,
                "practitioner": physio.practitioner.pk,
                "week": week.isoformat(),
            },
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert 'aria-current="date"' in page
        label = time_label(expected.start, VANCOUVER)
        assert re.fullmatch(r"\d{1,2}:\d\d (AM|PM) P[SD]T", label)
        assert label in text_of(response)
        first = form_values(hrefs(response, "slot")[0])
        assert first["start"] == expected.start.astimezone(dt.UTC).isoformat()
        assert first["practitioner"] == str(physio.practitioner.pk)

    def test_the_named_practitioner_is_shown_with_their_ims_credential(
        self, cast, patient, physio, assessment, schedule
    ):
        response = signed_in(cast["patient"]).get(
            reverse("portal_book"), {"service": assessment.slug}
        )
        assert "Tara Treating · IMS certified (iSTOP)" in text_of(response)

    def test_htmx_gets_only_the_picker(self, cast, patient, assessment, schedule):
        response = signed_in(cast["patient"]).get(
            reverse("portal_book"), {"service": assessment.slug}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert b'<div id="picker"' in response.content
        assert b"<html" not in response.content
        # The back button after a swap asks again for the whole page.
        restored = signed_in(cast["patient"]).get(
            reverse("portal_book"),
            {"service": assessment.slug},
            HTTP_HX_REQUEST="true",
            HTTP_HX_HISTORY_RESTORE_REQUEST="true",
        )
        assert b"<html" in restored.content

    def test_labels_carry_the_right_zone_name_on_both_dst_change_days(self):
        # 2026-11-01: 01:30 happens twice in Vancouver, first as PDT then as PST.
        first = dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)
        second = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
        assert time_label(first, VANCOUVER) == "1:30 AM PDT"
        assert time_label(second, VANCOUVER) == "1:30 AM PST"
        # 2026-03-08: 02:00 PST is followed by 03:00 PDT.
        assert time_label(dt.datetime(2026, 3, 8, 9, 45, tzinfo=dt.UTC), VANCOUVER) == "1:45 AM PST"
        assert (
            time_label(dt.datetime(2026, 3, 8, 10, 15, tzinfo=dt.UTC), VANCOUVER) == "3:15 AM PDT"
        )
        assert (
            time_label(dt.datetime(2026, 11, 30, 17, 15, tzinfo=dt.UTC), VANCOUVER) == "9:15 AM PST"
        )


class TestBooking:
    def test_a_patient_books_a_visit_and_is_told_what_happens_next(
        self, cast, patient, physio, location, assessment, clinic, schedule
    ):
        client = signed_in(cast["patient"])
        picker = client.get(
            reverse("portal_book"),
            {
                "service": assessment.slug,
                "practitioner": physio.practitioner.pk,
                # Days ahead, so the visit is outside the reminder and late-change windows.
                "week": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            },
        )
        chosen = hrefs(picker, "slot")[0]
        confirm = client.get(chosen)
        assert confirm.status_code == 200
        assert "Book this time" in text_of(confirm)
        response = client.post(chosen.split("?")[0], form_values(chosen))
        visit = Appointment.objects.get(patient=patient)
        assert response.status_code == 302
        assert response["Location"] == reverse("portal_booked", args=[visit.pk])
        assert visit.start.astimezone(dt.UTC).isoformat() == form_values(chosen)["start"]
        assert visit.created_by == cast["patient"]
        done = text_of(client.get(response["Location"]))
        assert "You are booked" in done
        assert "calendar file" in done
        assert "reminder 24 hours before" in done
        assert "up to 24 hours before the visit" in done
        assert location.phone in done

    def test_a_visit_booked_for_the_next_hours_gets_no_reminder_promise_and_says_to_call(
        self, cast, patient, physio, location, assessment, clinic
    ):
        soon = timezone.now() + dt.timedelta(hours=3)
        visit = Appointment.objects.create(
            patient=patient,
            practitioner=physio.practitioner,
            location=location,
            service=assessment,
            start=soon,
            end=soon + dt.timedelta(hours=1),
        )
        done = text_of(signed_in(cast["patient"]).get(reverse("portal_booked", args=[visit.pk])))
        assert "You are booked" in done
        assert "reminder" not in done
        assert "too close to change online" in done
        assert location.phone in done

    def test_sending_the_same_booking_twice_books_it_once_and_shows_it(
        self, cast, patient, physio, location, assessment, schedule
    ):
        client = signed_in(cast["patient"])
        slot = free_slots(assessment, physio.practitioner, location)[0]
        url = confirm_url(assessment, slot)
        first = client.post(reverse("portal_book_confirm"), form_values(url))
        second = client.post(reverse("portal_book_confirm"), form_values(url))
        assert Appointment.objects.filter(patient=patient).count() == 1
        assert first.status_code == second.status_code == 302
        assert first["Location"] == second["Location"]

    def test_a_time_taken_meanwhile_says_so_and_offers_the_nearest_others(
        self, cast, patient, other_patient, physio, location, assessment, schedule
    ):
        slot = free_slots(assessment, physio.practitioner, location)[0]
        appointment_book(
            patient=other_patient,
            practitioner=physio.practitioner,
            service=assessment,
            location=location,
            start=slot.start,
            actor=cast["front_desk"],
        )
        response = signed_in(cast["patient"]).post(
            reverse("portal_book_confirm"), form_values(confirm_url(assessment, slot))
        )
        assert response.status_code == 409
        page = response.content.decode()
        assert re.search(r'role="alert"[^>]*>\s*<h2>That time was just taken.</h2>', page)
        alternatives = hrefs(response, "slot")
        assert alternatives, "fresh alternatives are offered"
        offered = {form_values(url)["start"] for url in alternatives}
        assert slot.start.astimezone(dt.UTC).isoformat() not in offered
        # The choices made are kept: the same service and practitioner are still picked.
        assert 'name="service" value="ims-initial-assessment"' in page
        assert f'<option value="{physio.practitioner.pk}" selected>' in page
        assert not Appointment.objects.filter(patient=patient).exists()

    def test_opening_a_confirm_page_for_a_taken_time_shows_the_picker_at_once(
        self, cast, patient, other_patient, physio, location, assessment, schedule
    ):
        slot = free_slots(assessment, physio.practitioner, location)[0]
        appointment_book(
            patient=other_patient,
            practitioner=physio.practitioner,
            service=assessment,
            location=location,
            start=slot.start,
            actor=cast["front_desk"],
        )
        response = signed_in(cast["patient"]).get(confirm_url(assessment, slot))
        assert response.status_code == 409
        assert "That time was just taken." in text_of(response)

    @pytest.mark.parametrize(
        "change",
        [
            {"start": "not-a-time"},
            {"start": "2030-01-07T10:00:00"},  # no offset
            {"practitioner": "999999"},
            {"location": "abc"},
            {"service": "no-such-service"},
        ],
    )
    def test_a_tampered_choice_is_refused_clearly_and_books_nothing(
        self, cast, patient, physio, location, assessment, schedule, change
    ):
        slot = free_slots(assessment, physio.practitioner, location)[0]
        data = {**form_values(confirm_url(assessment, slot)), **change}
        response = signed_in(cast["patient"]).post(reverse("portal_book_confirm"), data)
        assert response.status_code == 400
        assert "That time could not be read. Please choose a time from the list." in text_of(
            response
        )
        assert not Appointment.objects.exists()

    def test_a_time_in_the_past_is_refused_clearly_and_books_nothing(
        self, cast, patient, physio, location, assessment, schedule
    ):
        slot = free_slots(assessment, physio.practitioner, location)[0]
        data = {
            **form_values(confirm_url(assessment, slot)),
            "start": (timezone.now() - dt.timedelta(days=1)).isoformat(),
        }
        response = signed_in(cast["patient"]).post(reverse("portal_book_confirm"), data)
        assert response.status_code == 400
        assert "That time has already passed." in text_of(response)
        assert not Appointment.objects.exists()

    def test_a_service_only_staff_book_cannot_be_booked_by_a_patient(
        self, cast, patient, physio, location, schedule
    ):
        phone_only = Service.objects.create(
            name="Phone review",
            slug="phone-review",
            duration_minutes=15,
            price=0,
            bookable_online=False,
        )
        slot = free_slots(phone_only, physio.practitioner, location)[0]
        response = signed_in(cast["patient"]).post(
            reverse("portal_book_confirm"), form_values(confirm_url(phone_only, slot))
        )
        assert response.status_code == 400
        assert not Appointment.objects.exists()


def visit_in(patient, physio, location, service, delta: dt.timedelta) -> Appointment:
    start = (timezone.now() + delta).replace(second=0, microsecond=0)
    return Appointment.objects.create(
        patient=patient,
        practitioner=physio.practitioner,
        location=location,
        service=service,
        start=start,
        end=start + dt.timedelta(minutes=30),
    )


class TestMyVisits:
    def test_upcoming_visits_offer_reschedule_and_cancel_and_past_ones_show_their_status(
        self, cast, patient, physio, location, ims_service, had_assessment
    ):
        upcoming = visit_in(patient, physio, location, ims_service, dt.timedelta(days=4))
        cancelled = visit_in(patient, physio, location, ims_service, dt.timedelta(days=5))
        cancelled.status = AppointmentStatus.CANCELLED
        cancelled.save()
        page = signed_in(cast["patient"]).get(reverse("portal_home"))
        content = page.content.decode()
        assert reverse("portal_reschedule", args=[upcoming.pk]) in content
        assert reverse("portal_cancel", args=[upcoming.pk]) in content
        assert reverse("portal_cancel", args=[cancelled.pk]) not in content
        text = text_of(page)
        assert "Recent and cancelled visits" in text
        assert "Cancelled" in text and "Completed" in text

    def test_a_visit_inside_the_late_window_says_to_call_instead_of_offering_buttons(
        self, cast, patient, physio, location, ims_service, had_assessment
    ):
        soon = visit_in(patient, physio, location, ims_service, dt.timedelta(hours=5))
        page = signed_in(cast["patient"]).get(reverse("portal_home"))
        assert reverse("portal_cancel", args=[soon.pk]) not in page.content.decode()
        assert "too close to change online" in text_of(page)

    def test_another_patients_visit_pages_do_not_exist_for_them(
        self, cast, patient, physio, location, ims_service
    ):
        visit = visit_in(patient, physio, location, ims_service, dt.timedelta(days=4))
        client = signed_in(cast["other_patient"])
        for name in ("portal_booked", "portal_cancel", "portal_reschedule"):
            assert client.get(reverse(name, args=[visit.pk])).status_code == 404
        assert client.post(reverse("portal_cancel", args=[visit.pk])).status_code == 404
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.BOOKED


class TestCancelling:
    def test_a_patient_cancels_a_visit_after_confirming(
        self, cast, patient, physio, location, ims_service
    ):
        visit = visit_in(patient, physio, location, ims_service, dt.timedelta(days=4))
        client = signed_in(cast["patient"])
        confirm = client.get(reverse("portal_cancel", args=[visit.pk]))
        assert "Cancel this visit" in text_of(confirm)
        response = client.post(reverse("portal_cancel", args=[visit.pk]), {"reason": "Away"})
        assert response.status_code == 302
        assert response["Location"] == reverse("portal_home")
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.CANCELLED
        assert visit.cancellation_reason == "Away"
        assert "is cancelled" in text_of(client.get(reverse("portal_home")))

    def test_inside_the_late_window_the_page_says_to_call_and_has_no_button(
        self, cast, patient, physio, location, ims_service
    ):
        visit = visit_in(patient, physio, location, ims_service, dt.timedelta(hours=3))
        client = signed_in(cast["patient"])
        page = client.get(reverse("portal_cancel", args=[visit.pk]))
        text = text_of(page)
        assert "you can no longer cancel it online" in text
        assert 'href="tel:604-555-0101"' in page.content.decode()
        assert "<button" not in page.content.decode().split("<main", 1)[1]
        refused = client.post(reverse("portal_cancel", args=[visit.pk]))
        assert refused.status_code == 409
        assert "Please call the clinic" in text_of(refused)
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.BOOKED


class TestRescheduling:
    def test_a_patient_moves_a_visit_to_another_time_through_the_pages(
        self, cast, patient, physio, location, ims_service, had_assessment, schedule
    ):
        slots = free_slots(ims_service, physio.practitioner, location, from_days=4)
        old = appointment_book(
            patient=patient,
            practitioner=physio.practitioner,
            service=ims_service,
            location=location,
            start=slots[0].start,
            actor=cast["patient"],
        )
        client = signed_in(cast["patient"])
        picker = client.get(reverse("portal_reschedule", args=[old.pk]))
        assert picker.status_code == 200
        assert "Your current time stays booked until you confirm a new one." in text_of(picker)
        choices = hrefs(picker, "slot")
        assert choices and all("/reschedule/confirm/" in url for url in choices)
        # The first day shown may offer a single time (early in the morning, today's last
        # bookable one): any time but the current one will do.
        current = old.start.astimezone(dt.UTC).isoformat()
        chosen = next(url for url in choices if form_values(url)["start"] != current)
        confirm = client.get(chosen)
        assert "Move my visit to this time" in text_of(confirm)
        response = client.post(chosen.split("?")[0], form_values(chosen))
        old.refresh_from_db()
        new = old.rescheduled_to
        assert response.status_code == 302
        assert response["Location"] == reverse("portal_booked", args=[new.pk])
        assert old.status == AppointmentStatus.CANCELLED
        assert new.start.astimezone(dt.UTC).isoformat() == form_values(chosen)["start"]
        assert "Your visit has been moved" in text_of(client.get(response["Location"]))
        # Sent again: the visit is not moved twice, and the page shows where it went.
        again = client.post(chosen.split("?")[0], form_values(chosen))
        assert again["Location"] == reverse("portal_booked", args=[new.pk])
        assert Appointment.objects.filter(patient=patient, status="booked").count() == 1

    def test_a_moved_visit_reads_moved_to_its_new_time_in_the_visit_list(
        self, cast, patient, physio, location, ims_service, had_assessment, schedule
    ):
        slots = free_slots(ims_service, physio.practitioner, location, from_days=4)
        old = appointment_book(
            patient=patient,
            practitioner=physio.practitioner,
            service=ims_service,
            location=location,
            start=slots[0].start,
            actor=cast["patient"],
        )
        new = appointment_reschedule(appointment=old, start=slots[3].start, actor=cast["patient"])
        cancelled = visit_in(patient, physio, location, ims_service, dt.timedelta(days=9))
        appointment_cancel(appointment=cancelled, actor=cast["patient"])

        text = text_of(signed_in(cast["patient"]).get(reverse("portal_home")))

        local = new.start.astimezone(VANCOUVER)
        when = f"{local:%a} {local.day} {local:%b %Y}, {time_label(new.start, VANCOUVER)}"
        assert f"Moved to {when}" in text
        assert text.count("Moved to") == 1
        # A visit cancelled outright still says so.
        assert text.count("Cancelled") == 1

    def test_inside_the_late_window_moving_online_is_refused_with_a_phone_number(
        self, cast, patient, physio, location, ims_service
    ):
        visit = visit_in(patient, physio, location, ims_service, dt.timedelta(hours=3))
        page = signed_in(cast["patient"]).get(reverse("portal_reschedule", args=[visit.pk]))
        assert "you can no longer move it online" in text_of(page)
        assert hrefs(page, "slot") == []


class TestCourse:
    def test_the_course_plan_states_the_fee_policy_before_it_is_booked(
        self, cast, physio, location, ims_service, had_assessment, schedule
    ):
        fee_policy(ims_service, FeeEvent.LATE_CANCEL, amount="40")
        fee_policy(ims_service, FeeEvent.NO_SHOW, amount="40")
        first = free_slots(ims_service, physio.practitioner, location, from_days=7)[0]
        client = signed_in(cast["patient"])
        picker = client.get(
            reverse("portal_book"),
            {
                "course": "1",
                "service": ims_service.slug,
                "practitioner": physio.practitioner.pk,
                "sessions": "3",
                "week": first.start.date().isoformat(),
            },
        )
        plan = text_of(client.get(hrefs(picker, "slot")[0]))
        assert "Book all 3 visits" in plan
        assert "Cancelling less than 24 hours before, or missing the visit, costs $40." in plan

    def test_a_course_with_a_week_off_lists_the_failed_date_and_books_the_rest(
        self, cast, patient, physio, location, ims_service, had_assessment, schedule
    ):
        first = free_slots(ims_service, physio.practitioner, location, from_days=7)[0]
        week_two = first.start + dt.timedelta(weeks=1)
        TimeOff.objects.create(
            practitioner=physio.practitioner,
            start=week_two - dt.timedelta(hours=12),
            end=week_two + dt.timedelta(hours=12),
            reason="Course",
        )
        client = signed_in(cast["patient"])
        picker = client.get(
            reverse("portal_book"),
            {
                "course": "1",
                "service": ims_service.slug,
                "practitioner": physio.practitioner.pk,
                "sessions": "4",
                "week": first.start.date().isoformat(),
            },
        )
        chosen = hrefs(picker, "slot")[0]
        assert "/book/course/" in chosen and form_values(chosen)["sessions"] == "4"
        plan = client.get(chosen)
        assert plan.status_code == 200
        text = text_of(plan)
        assert "3 dates are free" in text and "1 is not" in text
        assert text.count("Not available") == 1
        assert "Nearest free times:" in text
        assert "Book the 3 available visits" in text
        response = client.post(chosen.split("?")[0], {**form_values(chosen), "book": "available"})
        assert response.status_code == 302
        booked = Appointment.objects.filter(patient=patient, status="booked").order_by("start")
        assert booked.count() == 3
        assert Course.objects.get(patient=patient).sessions_planned == 4
        assert "Booked 3 weekly visits" in text_of(client.get(reverse("portal_home")))
        # Sent again (a double click): nothing more is booked.
        again = client.post(chosen.split("?")[0], {**form_values(chosen), "book": "available"})
        assert again.status_code == 302
        assert Appointment.objects.filter(patient=patient, status="booked").count() == 3
        assert Course.objects.count() == 1

    def test_book_none_books_nothing(
        self, cast, patient, physio, location, ims_service, had_assessment, schedule
    ):
        first = free_slots(ims_service, physio.practitioner, location, from_days=7)[0]
        url = confirm_url(ims_service, first, sessions="3").replace(
            reverse("portal_book_confirm"), reverse("portal_course_plan")
        )
        client = signed_in(cast["patient"])
        response = client.post(reverse("portal_course_plan"), {**form_values(url), "book": "none"})
        assert response.status_code == 302
        assert not Course.objects.exists()
        assert Appointment.objects.filter(patient=patient, status="booked").count() == 0

    def test_a_patient_may_not_plan_more_than_twelve_weeks(
        self, cast, patient, physio, location, ims_service, had_assessment, schedule
    ):
        first = free_slots(ims_service, physio.practitioner, location, from_days=7)[0]
        url = confirm_url(ims_service, first, sessions="20").replace(
            reverse("portal_book_confirm"), reverse("portal_course_plan")
        )
        response = signed_in(cast["patient"]).get(url)
        assert response.status_code == 400
        assert "Choose between 2 and 12 weekly visits." in text_of(response)


def test_a_follow_up_posted_by_a_new_patient_is_refused_with_the_first_visit_rule(
    cast, patient, physio, location, ims_service, assessment, schedule
):
    slot = free_slots(ims_service, physio.practitioner, location)[0]
    response = signed_in(cast["patient"]).post(
        reverse("portal_book_confirm"), form_values(confirm_url(ims_service, slot))
    )
    assert response.status_code == 409
    assert "Your first IMS visit must be IMS initial assessment." in text_of(response)
    assert not Appointment.objects.exists()


def test_the_picker_labels_each_time_with_its_own_zone_name_on_the_autumn_dst_day(
    patient, physio, location
):
    """On 7 November 2027 Vancouver's 01:00-02:00 happens twice; each label says which."""
    Service.objects.create(
        name="Night check",
        slug="night-check",
        duration_minutes=30,
        price=0,
        room_kind=Service.RoomKind.NONE,
    )
    Shift.objects.create(
        practitioner=physio.practitioner,
        location=location,
        weekday=6,
        start_time=dt.time(0),
        end_time=dt.time(4),
        valid_from=dt.date(2027, 11, 1),
    )
    flow = Flow(patient=patient, picker_url="/p/", next_url="/n/", for_staff=True)
    context = picker_context(
        {"service": "night-check", "week": "2027-11-07"},
        flow=flow,
        now=dt.datetime(2027, 11, 1, 12, tzinfo=dt.UTC),
    )
    labels = [choice.label for choice in context["day_slots"]]
    # The repeated hour is offered once, as its first (PDT) pass; then PST from 2:00 on.
    after = labels.index("1:45 AM PDT") + 1
    assert labels[after] == "2:00 AM PST"
    assert labels[0] == "12:00 AM PDT"
    assert not any(label.startswith("1:") and label.endswith("PST") for label in labels)
    assert labels[-1] == "3:30 AM PST"
    assert context["chosen_day_label"] == "Sunday 7 November"


def test_the_picker_and_my_visits_take_a_fixed_number_of_queries(
    cast,
    patient,
    physio,
    location,
    ims_service,
    had_assessment,
    schedule,
    django_assert_max_num_queries,
):
    client = signed_in(cast["patient"])
    for days in range(3, 9):
        visit_in(patient, physio, location, ims_service, dt.timedelta(days=days, hours=days))
    with django_assert_max_num_queries(14):  # one for the screening gate (intake)
        client.get(reverse("portal_book"), {"service": ims_service.slug})
    # Six for the page itself, then the health-questions, consent and screening notes
    # (a fixed few each, however many visits).
    with django_assert_max_num_queries(12):
        page = client.get(reverse("portal_home"))
    assert page.content.decode().count("/reschedule/") == 6
