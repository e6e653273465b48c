"""In Chromium: a physio chooses the course's outcome measures from the patient's chart."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from imsclinic.outcomes.selectors import current_plan
from tests.factories.browser import staff_tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page) -> list[tuple[str, str, list]]:
    results = Axe().run(page)
    return [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]


def test_a_physio_sets_the_measures_from_the_chart_after_fixing_the_activities(
    chromium, live_server, physio, patient
):
    tab = staff_tab(chromium, live_server, physio.email, viewport={"width": 390, "height": 844})
    tab.goto(f"/staff/patients/{patient.pk}/chart/")
    tab.get_by_role("link", name="Outcome measures for this course").click()
    tab.wait_for_url(f"**/staff/patients/{patient.pk}/measures/plan/")
    assert axe_violations(tab) == [], "the plan page has accessibility problems"

    tab.get_by_label("NDI: neck (Neck Disability Index)").check()
    tab.get_by_label("Activity 1").fill("Turn my head to reverse the car")
    tab.get_by_label("Activity 2").fill("Sleep through the night")
    tab.get_by_role("button", name="Save the outcome measures").click()
    assert tab.get_by_text("Name 3 to 5 activities").is_visible()
    assert axe_violations(tab) == [], "the plan page with an error has accessibility problems"

    tab.get_by_label("Activity 3").fill("Carry the shopping home")
    tab.get_by_role("button", name="Save the outcome measures").click()
    assert tab.get_by_text("Saved the outcome measures for this course.").is_visible()
    plan = current_plan(patient)
    assert plan is not None
    assert plan.region_instrument == "NDI"
    assert plan.psfs_activities == [
        "Turn my head to reverse the car",
        "Sleep through the night",
        "Carry the shopping home",
    ]
