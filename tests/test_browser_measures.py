"""In a phone-sized Chromium: a patient fills in the ODI before a visit, leaving a section blank."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from imsclinic.accounts.models import User
from imsclinic.outcomes.models import OutcomeResult, ResultSource
from imsclinic.patients.models import Patient
from tests.factories.outcomes import book, plan
from tests.factories.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/test-results/screenshots"))


def assert_accessible(page, what: str) -> None:  # type: ignore[no-untyped-def]
    violations = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in Axe().run(page).response["violations"]
    ]
    assert violations == [], f"{what} has accessibility problems"


def assert_fits_a_phone(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"measures-{name}-390.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is wider than a phone"


def test_a_patient_fills_in_the_odi_leaving_a_section_blank_and_sees_it_saved(
    page,  # type: ignore[no-untyped-def]
    patient_user: User,
    patient: Patient,
    physio: User,
) -> None:
    plan(patient, physio)
    visit = book(patient, physio)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(patient_user.email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_url("**/portal/")

    page.goto("/portal/measures/")
    assert_accessible(page, "the questionnaire list")
    assert_fits_a_phone(page, "list")
    page.get_by_role("link", name="Fill in: Oswestry Disability Index (low back)").click()
    page.wait_for_url(f"**/portal/measures/{visit.pk}/ODI/")
    assert page.get_by_text("You may leave an item blank").is_visible()
    assert_accessible(page, "the ODI questionnaire")
    assert_fits_a_phone(page, "odi")

    answers = {1: 3, 2: 1, 3: 2, 4: 1, 5: 2, 6: 2, 7: 1, 9: 2, 10: 1}  # section 8 left blank
    for number, value in answers.items():
        page.get_by_role("group", name=f"Item {number}:", exact=False).get_by_label(
            str(value), exact=True
        ).check()
    page.get_by_role("button", name="Send my answers").click()

    page.wait_for_url("**/portal/measures/")
    assert page.get_by_text("Your answers to the Oswestry").is_visible()
    result = OutcomeResult.objects.get()
    assert result.source == ResultSource.PORTAL
    assert result.answers == [3, 1, 2, 1, 2, 2, 1, None, 2, 1]
    assert float(result.score) == pytest.approx(15 / 45 * 100, abs=0.01)  # type: ignore[arg-type]
    assert_accessible(page, "the list after saving")
    assert problems == []
