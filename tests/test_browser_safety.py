"""In a phone-sized Chromium: the safety steps before IMS, from sign-up to the staff calendar.

A new patient registers, answers the health questions, signs the consent and books; a patient
on blood thinners books and the visit waits for a practitioner's review; a patient with a
severe fear of needles is asked to call instead of booking IMS online.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.utils import timezone

from imsclinic.clinic.models import Service
from imsclinic.consent.models import ConsentSignature
from imsclinic.intake.models import Intake
from imsclinic.intake.questions import SECTIONS
from imsclinic.patients.models import Patient
from imsclinic.safety.models import Clearance, Decision
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from imsclinic.scheduling.selectors import available_slots
from tests.factories.browser import staff_tab
from tests.factories.intake import complete_answers
from tests.factories.people import PASSWORD
from tests.factories.safety import published_consent, submitted_intake
from tests.factories.scheduling import weekday_shifts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for a person to look at; var/ is ignored by git.
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/test-results/screenshots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The secret of the stand-in authenticator conftest.make_user gives every staff member.
REVIEW_NOTE = "A physiotherapist will review your health answers with you before any needling."


def axe_violations(page) -> list[tuple[str, str, list]]:
    results = Axe().run(page)
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]


def assert_accessible(page, what: str) -> None:
    assert axe_violations(page) == [], f"{what} has accessibility problems"


def watch(page) -> list[str]:
    """Collect console errors and uncaught page errors (a CSP refusal shows up here too)."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def shoot(page, name: str) -> None:
    """Save the page at phone width and at desktop width, then go back to the phone."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"safety-{name}-390.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is wider than a phone"
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / f"safety-{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)


def patient_signs_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_url("**/portal/")


def answer_health_questions(page, answers: dict[str, Any], *, check: bool) -> None:
    """From the portal home, answer every section as `answers` says and send them."""
    page.get_by_role("button", name="Start the health questions").click()
    page.wait_for_url("**/portal/intake/")
    if check:
        assert_accessible(page, "the start of the health questions")
    page.get_by_role("button", name="Start", exact=True).click()
    for part in SECTIONS:
        page.wait_for_url(f"**/portal/intake/{part.slug}/")
        if part.slug == "about":
            page.locator("input[name='emergency_contact_name']").fill("Robin Example")
            page.locator("input[name='emergency_contact_phone']").fill("604-555-0177")
        for question in part.questions:
            value = answers.get(question.key)
            if value is None:
                continue
            if question.kind == "choice":
                page.locator(f"input[name='{question.key}'][value='{value}']").check()
            elif question.kind == "multi":
                for code in value:
                    page.locator(f"input[name='{question.key}'][value='{code}']").check()
            else:
                page.locator(f"[name='{question.key}']").fill(value)
        if check:
            assert_accessible(page, f"the intake section {part.slug!r}")
        page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/portal/intake/review/")
    if check:
        assert_accessible(page, "the intake review page")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/portal/intake/done/")
    if check:
        assert_accessible(page, "the intake done page")
    page.get_by_role("button", name="Back to My visits").click()
    page.wait_for_url("**/portal/")


def book_first_time(page, *, check: bool) -> str:
    """From the portal home, book the first offered time of the preselected service."""
    page.get_by_role("button", name="Book a visit").click()
    page.wait_for_url("**/portal/book/")
    assert page.get_by_role("radio", name="IMS initial assessment").is_checked()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/portal/book/?service=*")
    first_time = page.locator("a.slot").first
    first_time.wait_for()
    if check:
        assert_accessible(page, "the picker")
    label = first_time.inner_text().strip().splitlines()[0]
    first_time.click()
    page.wait_for_url("**/portal/book/confirm/**")
    if check:
        assert_accessible(page, "the confirm page")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url("**/portal/visits/*/booked/")
    assert page.get_by_role("heading", name="You are booked").is_visible()
    if check:
        assert_accessible(page, "the booked page")
    return label


def test_a_new_patient_registers_answers_the_questions_signs_consent_and_books_an_assessment(
    page, clinic, location, physio, assessment
) -> None:
    weekday_shifts(location, [physio], timezone.localdate() - dt.timedelta(days=7))
    version = published_consent()
    problems = watch(page)

    page.goto("/book/")
    assert_accessible(page, "the public booking page")
    page.get_by_role("button", name="Create an account").click()
    page.wait_for_url("**/accounts/signup/")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Newcomer")
    page.get_by_label("Email").fill("nora@patients.example")
    page.get_by_label("Date of birth").fill("1986-05-14")
    page.get_by_label("Phone (optional)").fill("604-555-0144")
    page.locator("input[name='password1']").fill(PASSWORD)
    page.locator("input[name='password2']").fill(PASSWORD)
    assert_accessible(page, "the sign-up form")
    page.locator("input[name='password2']").press("Enter")
    page.wait_for_url("**/accounts/confirm-email/")
    assert_accessible(page, "the check-your-email page")

    # The live server runs in this process, so its mail lands in the test outbox.
    assert mail.outbox, "no confirmation email was sent"
    message = mail.outbox[-1]
    assert message.to == ["nora@patients.example"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body)
    assert link is not None, message.body
    page.goto(link.group(0))
    assert_accessible(page, "the confirm-email page")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/portal/")
    assert page.get_by_role("heading", name="Hello, Nora").is_visible()
    assert_accessible(page, "the new patient's portal")

    answer_health_questions(page, complete_answers(), check=True)

    page.get_by_role("button", name="Read and sign").click()
    page.wait_for_url("**/portal/consent/sign/")
    page.get_by_label("Your full name").fill("Nora Newcomer")
    page.get_by_label("I have read this text and I agree to it.").check()
    assert_accessible(page, "the consent page")
    page.get_by_role("button", name="Sign the consent").click()
    page.wait_for_url("**/portal/consent/")
    assert page.get_by_text("You signed version 1 on").is_visible()
    assert_accessible(page, "the signed consent page")
    page.get_by_role("link", name="Back to My visits").click()
    page.wait_for_url("**/portal/")

    book_first_time(page, check=True)

    patient = Patient.objects.get(user__email="nora@patients.example")
    assert (patient.given_name, patient.family_name) == ("Nora", "Newcomer")
    assert patient.date_of_birth == dt.date(1986, 5, 14)
    intakes = Intake.objects.filter(patient=patient)
    assert [i.status for i in intakes] == [Intake.Status.SUBMITTED]
    assert intakes[0].answers["anticoagulants"] == "no"
    signature = ConsentSignature.objects.get(patient=patient)
    assert signature.version == version
    assert signature.ip_address == "127.0.0.1"
    assert "Chrome" in signature.user_agent
    visit = Appointment.objects.get(patient=patient)
    assert visit.service == assessment
    assert visit.status == AppointmentStatus.BOOKED
    assert problems == []


def test_a_patient_on_blood_thinners_books_and_the_visit_shows_needs_review(
    page, chromium, live_server, clinic, location, physio, patient, assessment
) -> None:
    weekday_shifts(location, [physio], timezone.localdate() - dt.timedelta(days=7))
    problems = watch(page)
    patient_signs_in(page, patient.user.email)
    answer_health_questions(page, complete_answers(anticoagulants="yes"), check=False)
    book_first_time(page, check=False)

    page.get_by_role("button", name="See My visits").click()
    page.wait_for_url("**/portal/")
    upcoming = page.locator("section[aria-labelledby='visits-heading']")
    assert upcoming.get_by_text(REVIEW_NOTE).is_visible()
    assert_accessible(page, "My visits with a review note")
    visit = Appointment.objects.get(patient=patient)
    assert visit.service == assessment

    staff = staff_tab(chromium, live_server, physio.email)
    staff_problems = watch(staff)
    day = visit.start.astimezone(location.zone).date()
    calendar = f"/staff/calendar/?location={location.pk}&date={day.isoformat()}"
    staff.goto(calendar)
    block = staff.locator(".cal-visit", has_text="Pat Ient")
    assert block.get_by_text("Needs practitioner review").is_visible()
    assert_accessible(staff, "the day calendar with a review mark")
    SHOTS.mkdir(parents=True, exist_ok=True)
    staff.screenshot(path=str(SHOTS / "safety-calendar-review-1280.png"), full_page=True)

    staff.goto(f"/staff/patients/{patient.pk}/screening/")
    relative = staff.locator("section[aria-labelledby='relative-heading']")
    assert relative.get_by_text("Takes (or may take) anticoagulants").is_visible()
    staff.get_by_label("Cleared with precautions").check()
    staff.get_by_label("Reason, or the precautions to take").fill(
        "Takes apixaban: firm pressure after each needle; avoid deep sites near vessels."
    )
    staff.get_by_role("button", name="Record decision").click()
    staff.wait_for_url(f"**/staff/patients/{patient.pk}/screening/")
    assert staff.get_by_text("Recorded the decision.").is_visible()
    assert_accessible(staff, "the screening page after a decision")

    staff.goto(calendar)
    block = staff.locator(".cal-visit", has_text="Pat Ient")
    assert block.count() == 1
    assert staff.get_by_text("Needs practitioner review").count() == 0
    decision = Clearance.objects.get(patient=patient)
    assert decision.decision == Decision.CLEARED_WITH_PRECAUTIONS
    assert decision.decided_by == physio
    page.reload()
    assert page.get_by_text(REVIEW_NOTE).count() == 0
    staff.context.close()
    assert problems == []
    assert staff_problems == []


def test_a_patient_with_severe_needle_phobia_cannot_book_ims_online(
    page, chromium, live_server, clinic, location, physio, front_desk, patient, assessment
) -> None:
    weekday_shifts(location, [physio], timezone.localdate() - dt.timedelta(days=7))
    Service.objects.create(
        name="Physiotherapy visit",
        slug="physiotherapy-visit",
        duration_minutes=45,
        price=Decimal("110.00"),
    )
    # One absolute flag (the fear) and one relative flag (the blood thinner).
    submitted_intake(patient, complete_answers(needle_fear="severe", anticoagulants="yes"))
    problems = watch(page)
    patient_signs_in(page, patient.user.email)

    page.get_by_role("button", name="Book a visit").click()
    page.wait_for_url("**/portal/book/")
    refusal = page.locator("#ims-refusal")
    assert refusal.is_visible()
    assert clinic.phone in refusal.inner_text()
    assert refusal.get_by_role("button", name=f"Call {clinic.phone}").is_visible()
    assert page.get_by_role("radio", name="IMS initial assessment").count() == 0
    assert page.get_by_role("radio", name="Physiotherapy visit").count() == 1
    assert page.locator("a.slot").count() == 0
    assert_accessible(page, "the picker with the call-us message")
    shoot(page, "phobia-picker")

    # A hand-made request for an IMS time is refused by the server too.
    slot = available_slots(
        service=assessment,
        start_date=timezone.localdate() + dt.timedelta(days=1),
        days=14,
        location=location,
    )[0]
    token = page.locator("input[name='csrfmiddlewaretoken']").first.input_value()
    response = page.request.post(
        "/portal/book/confirm/",
        form={
            "csrfmiddlewaretoken": token,
            "service": assessment.slug,
            "practitioner": str(physio.practitioner.pk),
            "location": str(location.pk),
            "start": slot.start.isoformat(),
        },
        headers={"Referer": f"{live_server.url}/portal/book/"},
    )
    assert response.status == 403
    assert "a physiotherapist needs to talk with you" in response.text()
    assert not Appointment.objects.filter(patient=patient).exists()

    # The front desk can still book the assessment, on the phone with them.
    desk = staff_tab(chromium, live_server, front_desk.email)
    desk_problems = watch(desk)
    desk.goto(f"/staff/patients/{patient.pk}/")
    # The front desk is told what to do, and not shown the clinical flags.
    assert desk.get_by_text("This patient cannot book IMS online").is_visible()
    assert desk.get_by_text("fear of needles").count() == 0
    assert_accessible(desk, "the patient's page for the front desk")
    desk.get_by_role("button", name="Book a visit").first.click()
    desk.wait_for_url(f"**/staff/patients/{patient.pk}/book/**")
    assert desk.locator("#ims-refusal").count() == 0
    assert_accessible(desk, "the staff picker")
    desk.get_by_role("radio", name="IMS initial assessment").check()
    desk.get_by_role("button", name="Continue").click()
    desk.wait_for_url("**/book/?service=*")
    desk.locator("a.slot").first.click()
    desk.wait_for_url("**/book/confirm/**")
    assert_accessible(desk, "the staff confirm page")
    desk.get_by_role("button", name="Book this visit").click()
    desk.wait_for_url(f"**/staff/patients/{patient.pk}/")
    assert desk.get_by_text("Booked IMS initial assessment on").is_visible()
    visit = Appointment.objects.get(patient=patient)
    assert visit.service == assessment
    assert visit.status == AppointmentStatus.BOOKED
    desk.context.close()

    # The physio sees the patient in the review queue, with both flags.
    staff = staff_tab(chromium, live_server, physio.email)
    staff_problems = watch(staff)
    staff.goto("/staff/screening/")
    row = staff.get_by_role("row", name=re.compile("Pat Ient"))
    assert row.get_by_text("1 absolute").is_visible()
    assert row.get_by_text("1 relative").is_visible()
    assert_accessible(staff, "the review queue")
    shoot(staff, "queue")
    row.get_by_role("link", name="Pat Ient").click()
    staff.wait_for_url(f"**/staff/patients/{patient.pk}/screening/")
    assert_accessible(staff, "the patient's screening page")
    shoot(staff, "patient-screening")
    staff.context.close()
    assert problems == []
    assert desk_problems == []
    assert staff_problems == []
