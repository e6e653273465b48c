"""In Chromium: the front desk signs in, opens today's calendar, checks a patient in; axe passes."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from imsclinic.core.roles import Role
from imsclinic.demo.logins import current_code
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus, Shift, ShiftBreak
from tests.factories.browser import sign_in_as
from tests.factories.people import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for a person to look at; var/ is ignored by git.
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/test-results/screenshots"))


def fresh_code(secret: str) -> str:
    """Return the current code, waiting out the last seconds of a period so it stays valid."""
    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < 4:
        time.sleep(left + 0.2)
    return current_code(secret)


def sign_in_with_code(page, email: str, secret: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    code = page.locator("input[name='code']")
    code.wait_for()
    code.fill(fresh_code(secret))
    code.press("Enter")
    page.wait_for_url("**/staff/patients/")


@pytest.fixture
def todays_clinic(location, physio, other_physio, patient, other_patient, ims_service):
    """Both physios work today 08:00-18:00 with lunch; a handful of visits in mixed states."""
    zone = location.zone
    today = timezone.now().astimezone(zone).date()
    for user in (physio, other_physio):
        shift = Shift.objects.create(
            practitioner=user.practitioner,
            location=location,
            weekday=today.weekday(),
            start_time=dt.time(8),
            end_time=dt.time(18),
            valid_from=today - dt.timedelta(days=7),
        )
        ShiftBreak.objects.create(shift=shift, start_time=dt.time(12), end_time=dt.time(13))

    def book(who, person, hour, minute=0, status=AppointmentStatus.BOOKED):
        start = dt.datetime.combine(today, dt.time(hour, minute), tzinfo=zone)
        return Appointment.objects.create(
            patient=person,
            practitioner=who.practitioner,
            location=location,
            service=ims_service,
            start=start,
            end=start + dt.timedelta(minutes=ims_service.duration_minutes),
            status=status,
        )

    extra = [
        Patient.objects.create(
            given_name=given, family_name=family, date_of_birth=dt.date(1970 + n, 1, 1)
        )
        for n, (given, family) in enumerate(
            [("Nia", "Brooks"), ("Omar", "Haddad"), ("Lena", "Park"), ("Ravi", "Singh")]
        )
    ]
    book(other_physio, extra[0], 8, 30, AppointmentStatus.COMPLETED)
    book(other_physio, extra[1], 9, 30, AppointmentStatus.IN_TREATMENT)
    book(other_physio, extra[2], 14, 0, AppointmentStatus.CANCELLED)
    book(other_physio, extra[3], 15, 0)
    book(physio, other_patient, 9, 0, AppointmentStatus.NO_SHOW)
    return book(physio, patient, 10, 0)


def test_the_front_desk_checks_a_patient_in_from_the_day_view(page, todays_clinic) -> None:
    user = make_user("desk@cedar.example", Role.FRONT_DESK, mfa=False, first="Frank", last="Desk")
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in_with_code(page, user.email, secret)
    page.get_by_role("link", name="Calendar").first.click()
    page.wait_for_url("**/staff/calendar/**")
    grid = page.get_by_role("table")
    assert grid.get_by_role("columnheader", name=re.compile("Tara Treating")).is_visible()
    assert grid.get_by_role("columnheader", name=re.compile("Oscar Other")).is_visible()

    serious = [
        (violation["id"], [node["target"] for node in violation["nodes"]][:3])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert serious == []

    page.get_by_role("button", name=re.compile(r"^Check in: Pat Ient")).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").get_by_text(re.compile("Pat Ient.*Arrived")).is_visible()
    block = grid.locator(".cal-visit", has_text="Pat Ient")
    assert block.get_by_text("Arrived").is_visible()
    assert block.get_by_role("button", name=re.compile("^Undo check-in")).is_visible()
    todays_clinic.refresh_from_db()
    assert todays_clinic.status == AppointmentStatus.ARRIVED

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "calendar-day.png"), full_page=True)
    assert problems == []


def serious_violations(page) -> list[tuple[str, list[object]]]:
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]][:3])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_a_practitioner_s_day_week_and_feed_pages_pass_axe(
    page, live_server, physio, todays_clinic
) -> None:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_as(page, live_server, physio)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto("/staff/calendar/")
    page.wait_for_url("**/staff/calendar/mine/")
    assert page.get_by_role("heading", level=1).get_by_text("My day").is_visible()
    assert page.get_by_text("Pat Ient").first.is_visible()
    assert page.get_by_role("button", name=re.compile("^Check in: Pat Ient")).is_visible()
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / "calendar-mine.png"), full_page=True)

    page.get_by_role("link", name="Week").click()
    page.wait_for_url("**/staff/calendar/week/**")
    assert page.get_by_role("table").get_by_text("Pat Ient").is_visible()
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / "calendar-week.png"), full_page=True)

    page.get_by_role("link", name="My calendar feed").click()
    page.wait_for_url("**/staff/calendar/feed/")
    address = page.get_by_label("Your feed address").input_value()
    assert re.search(r"/calendar/feed/[^/]+\.ics$", address)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Revoke and make a new address").click()
    page.wait_for_url("**/staff/calendar/feed/")
    assert page.get_by_label("Your feed address").input_value() != address
    assert problems == []
