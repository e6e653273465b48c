"""In a phone-sized Chromium: a patient signs in, books a visit with the picker, and sees it."""

from __future__ import annotations

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from imsclinic.scheduling.models import Appointment
from tests.factories.people import PASSWORD
from tests.factories.scheduling import weekday_shifts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page) -> list[tuple[str, str, list]]:
    results = Axe().run(page)
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]


def test_a_patient_books_a_visit_with_the_picker_and_sees_it_in_my_visits(
    page, clinic, location, physio, patient, assessment
) -> None:
    weekday_shifts(location, [physio], timezone.localdate() - dt.timedelta(days=7))
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/book/")
    page.get_by_role("button", name="Sign in and choose a time").click()
    page.locator("input[name='login']").fill(patient.user.email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_url("**/portal/book/")

    # A new patient is steered to the assessment, already chosen for them.
    assert page.get_by_role("radio", name="IMS initial assessment").is_checked()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/portal/book/?service=*")
    first_time = page.locator("a.slot").first
    first_time.wait_for()
    assert axe_violations(page) == [], "the picker has accessibility problems"
    label = first_time.inner_text().strip().splitlines()[0]
    assert label.endswith(("PST", "PDT"))

    first_time.click()
    page.wait_for_url("**/portal/book/confirm/**")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url("**/portal/visits/*/booked/")
    assert page.get_by_role("heading", name="You are booked").is_visible()
    assert axe_violations(page) == [], "the confirmation has accessibility problems"

    page.get_by_role("button", name="See My visits").click()
    page.wait_for_url("**/portal/")
    visit = Appointment.objects.get(patient=patient)
    assert visit.service == assessment
    upcoming = page.locator("section[aria-labelledby='visits-heading']")
    assert "IMS initial assessment" in upcoming.inner_text()
    assert label in upcoming.inner_text().replace("\n", " ")
    assert problems == []
