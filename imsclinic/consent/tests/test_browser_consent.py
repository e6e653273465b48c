"""In a phone-sized Chromium: a patient reads the consent, draws a signature and signs."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from imsclinic.accounts.models import User
from imsclinic.consent.models import ConsentSignature, ConsentVersion
from imsclinic.patients.models import Patient
from tests.factories.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "test-results" / "screenshots"


def axe_violations(page) -> list[tuple[str, str, list]]:
    results = Axe().run(page)
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]


def test_a_patient_signs_the_consent_on_a_phone(
    page, patient: Patient, version: ConsentVersion
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(patient.user.email)  # type: ignore[union-attr]
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_url("**/portal/")
    page.get_by_role("button", name="Read and sign").click()
    page.wait_for_url("**/portal/consent/sign/")
    assert page.get_by_role("heading", name="What IMS is").is_visible()

    # Signing without ticking the box says so next to the box and keeps the typed name.
    page.get_by_label("Your full name").fill("Pat Ient")
    page.get_by_role("button", name="Sign the consent").click()
    page.wait_for_load_state()
    assert page.get_by_text("Tick the box").is_visible()
    assert page.get_by_label("Your full name").input_value() == "Pat Ient"
    assert axe_violations(page) == [], "the signing page (with an error) has accessibility problems"

    # The drawing pad appears with the script; draw a stroke on it.
    canvas = page.locator("canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 20, box["y"] + 40 + (step % 3) * 15)
    page.mouse.up()
    page.get_by_label("I have read this text and I agree to it.").check()
    page.screenshot(path=str(SHOTS / "consent-sign-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "consent-sign-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(page) == [], "the signing page has accessibility problems"

    page.get_by_role("button", name="Sign the consent").click()
    page.wait_for_url("**/portal/consent/")
    assert page.get_by_text("You signed version 1 on").is_visible()
    page.screenshot(path=str(SHOTS / "consent-signed-390.png"), full_page=True)
    assert axe_violations(page) == [], "the consent summary has accessibility problems"

    signature = ConsentSignature.objects.get(patient=patient)
    assert signature.drawn_signature.startswith("M ")
    assert " L " in signature.drawn_signature
    assert "Chrome" in signature.user_agent
    assert problems == []


def sign_in_as(page, live_server, user: User) -> None:
    """Give the tab a signed-in session for this staff member (sign-in is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_the_front_desk_hands_the_tablet_to_the_patient(
    page, live_server, patient: Patient, version: ConsentVersion, front_desk: User
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1024, "height": 1366})  # a tablet, upright
    sign_in_as(page, live_server, front_desk)
    page.goto(f"/staff/patients/{patient.pk}/")
    page.get_by_role("button", name="Sign on the clinic tablet").click()
    page.wait_for_url("**/consent/tablet/")
    assert page.get_by_role("link", name="Patients").count() == 0  # no staff menu to wander
    page.get_by_label("The patient", exact=True).check()
    page.get_by_label("Your full name").fill("Pat Ient")
    page.get_by_label("I have read this text and I agree to it.").check()
    page.screenshot(path=str(SHOTS / "consent-tablet-1024.png"), full_page=True)
    assert axe_violations(page) == [], "the tablet page has accessibility problems"
    page.get_by_role("button", name="Sign the consent").click()
    page.wait_for_url("**/consent/tablet/done/")
    assert page.get_by_text("Please hand the tablet back").is_visible()
    assert axe_violations(page) == [], "the thank-you page has accessibility problems"
    signature = ConsentSignature.objects.get(patient=patient)
    assert signature.channel == "tablet"
    assert signature.recorded_by == front_desk
    page.get_by_role("link", name="Staff: back to the patient").click()
    page.wait_for_url(f"**/staff/patients/{patient.pk}/")
    page.screenshot(path=str(SHOTS / "consent-staff-card-1024.png"), full_page=True)
