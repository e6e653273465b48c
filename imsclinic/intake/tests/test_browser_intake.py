"""In a phone-sized Chromium: a patient answers the health questions section by section."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from imsclinic.intake.selectors import current_intake
from tests.factories.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for a person to look at; var/ is ignored by git.
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/test-results/screenshots"))


def axe_violations(page) -> list[tuple[str, str, list]]:
    results = Axe().run(page)
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]


def shoot(page, name: str) -> None:
    """Save the page at phone width and at desktop width, then go back to the phone."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"intake-{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / f"intake-{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})


def choose(page, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check()


def save_and_continue(page, then: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**{then}")


def test_a_patient_answers_the_health_questions_on_a_phone(page, clinic, patient) -> None:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(patient.user.email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_url("**/portal/")
    assert axe_violations(page) == [], "the portal home's intake card has accessibility problems"
    shoot(page, "home")
    page.get_by_role("button", name="Start the health questions").click()
    page.wait_for_url("**/portal/intake/")
    page.get_by_role("button", name="Start", exact=True).click()

    # About you: a missing emergency contact is explained at the top and next to the field.
    page.wait_for_url("**/portal/intake/about/")
    assert axe_violations(page) == [], "the first section has accessibility problems"
    choose(page, "consent_capacity", "self")
    page.get_by_role("button", name="Save and continue").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert summary.evaluate("el => el === document.activeElement")
    assert axe_violations(page) == [], "the error state has accessibility problems"
    page.locator("input[name='emergency_contact_name']").fill("Robin Ient")
    page.locator("input[name='emergency_contact_phone']").fill("604-555-0177")
    shoot(page, "about")
    save_and_continue(page, "/portal/intake/reason/")

    # Why you are coming: tapping the figure ticks the region's box.
    page.get_by_label("What would you like help with?").fill("Aching low back when sitting.")
    page.locator("[data-region='lower_back']").click()
    assert page.get_by_role("checkbox", name="Lower back").is_checked()
    page.get_by_role("checkbox", name="Right shoulder", exact=True).check()
    assert "is-chosen" in (
        page.locator("[data-region='right_shoulder']").get_attribute("class") or ""
    )
    choose(page, "pain_started", "gt_3_months")
    assert axe_violations(page) == [], "the body map has accessibility problems"
    shoot(page, "body-map")
    save_and_continue(page, "/portal/intake/health/")

    for name in (
        "diabetes",
        "vascular_disease",
        "epilepsy",
        "frailty",
        "anxiety",
        "acute_illness",
        "infection_or_skin_lesion",
    ):
        choose(page, name, "no")
    choose(page, "immune_compromise", "no")
    assert not page.get_by_label("If yes, where is it, and what is it?").is_visible()
    assert axe_violations(page) == [], "the health section has accessibility problems"
    save_and_continue(page, "/portal/intake/chest/")

    # The chest and lungs: which lung condition is asked only after a "yes".
    kinds = page.locator("input[name='lung_disease_kinds']").first
    assert not kinds.is_visible()
    choose(page, "lung_disease", "yes")
    assert kinds.is_visible()
    page.get_by_role("checkbox", name="COPD or emphysema").check()
    for name in ("collapsed_lung", "chest_surgery", "breast_implants", "short_of_breath"):
        choose(page, name, "no")
    assert axe_violations(page) == [], "the chest section has accessibility problems"
    save_and_continue(page, "/portal/intake/medicines/")

    choose(page, "anticoagulants", "yes")
    choose(page, "antiplatelets", "unsure")
    choose(page, "bleeding_disorder", "no")
    choose(page, "allergy_metal", "no")
    choose(page, "allergy_latex", "no")
    assert axe_violations(page) == [], "the medicines section has accessibility problems"
    save_and_continue(page, "/portal/intake/body/")

    choose(page, "pregnant", "not_applicable")
    choose(page, "lymphoedema", "yes")
    page.get_by_role("checkbox", name="Left arm").first.check()
    choose(page, "lymph_node_removal", "no")
    assert axe_violations(page) == [], "the lymph section has accessibility problems"
    save_and_continue(page, "/portal/intake/needles/")

    choose(page, "faint_with_needles", "no")
    choose(page, "needle_fear", "mild")
    choose(page, "willing_to_be_needled", "yes")
    choose(page, "previous_needling", "none")
    assert axe_violations(page) == [], "the needles section has accessibility problems"
    save_and_continue(page, "/portal/intake/review/")

    assert (
        page.get_by_text("Lower back, Right shoulder").is_visible()
        or page.get_by_text("Right shoulder, Lower back").is_visible()
    )
    assert axe_violations(page) == [], "the review page has accessibility problems"
    shoot(page, "review")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/portal/intake/done/")
    assert axe_violations(page) == [], "the done page has accessibility problems"
    shoot(page, "done")
    intake = current_intake(patient)
    assert intake is not None
    assert intake.answers["anticoagulants"] == "yes"
    assert intake.answers["lymphoedema_limbs"] == ["left_arm"]
    assert set(intake.answers["pain_areas"]) == {"lower_back", "right_shoulder"}
    assert problems == []


def test_a_physio_types_in_a_paper_form_and_reads_it_back(page, location, patient) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from imsclinic.core.roles import Role
    from imsclinic.demo.logins import current_code
    from imsclinic.intake.questions import QUESTIONS
    from tests.factories.intake import complete_answers
    from tests.factories.people import make_practitioner, make_user

    user = make_user("paper.physio@cedar.example", Role.PRACTITIONER, mfa=False, first="Pia")
    patient.care_team.add(make_practitioner(user, location, "pia-paper", "PT-2001"))
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(user.email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    code = page.locator("input[name='code']")
    code.wait_for()
    code.fill(current_code(secret))
    code.press("Enter")
    page.wait_for_url("**/staff/patients/")

    page.goto(f"/staff/patients/{patient.pk}/")
    page.get_by_role("button", name="Type in a paper form").click()
    page.wait_for_url("**/intake/paper/")
    assert axe_violations(page) == [], "the paper form has accessibility problems"
    answers = complete_answers(anticoagulants="unsure", lymph_node_removal="yes")
    for key, value in answers.items():
        question = QUESTIONS[key]
        if question.kind == "choice":
            choose(page, key, value)
        elif question.kind == "multi":
            for code_value in value:
                page.locator(f"input[name='{key}'][value='{code_value}']").check()
        else:
            page.locator(f"[name='{key}']").fill(value)
    page.get_by_role("button", name="Save the paper form").click()
    page.locator("#error-summary").wait_for()  # the side of the lymph nodes is missing
    assert axe_violations(page) == [], "the paper form's errors have accessibility problems"
    shoot(page, "paper-errors")
    page.locator("input[name='lymph_node_removal_limbs'][value='left_arm']").check()
    page.get_by_role("button", name="Save the paper form").click()
    page.wait_for_url(f"**/staff/patients/{patient.pk}/intake/")
    assert page.get_by_text("paper form entered by staff").is_visible()
    assert axe_violations(page) == [], "the staff intake page has accessibility problems"
    shoot(page, "staff")
    intake = current_intake(patient)
    assert intake is not None and intake.entered_by == user
    assert problems == []
