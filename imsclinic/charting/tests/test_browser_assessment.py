"""In Chromium: a practitioner charts a Gunn assessment, sees what to needle, signs it, cannot
edit it any more, and adds an addendum; each page passes axe."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from imsclinic.charting.models import Assessment, NoteStatus
from tests.factories.charting import ensure_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_as(page: Any, live_server: Any, user: Any) -> None:
    page.context.clear_cookies()
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def serious_problems(page: Any) -> list[str]:
    return [
        violation["id"]
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_a_practitioner_charts_signs_and_adds_to_an_assessment(
    page: Any, live_server: Any, patient: Any, physio: Any, location: Any
) -> None:
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None
        ),
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    ensure_catalogue()
    sign_in_as(page, live_server, physio)
    page.goto(f"/staff/patients/{patient.pk}/assessments/new/")
    assert serious_problems(page) == [], "the assessment form has accessibility problems"

    page.get_by_role("group", name="Tender motor points: finding").get_by_label("Present").check()
    page.get_by_label("Side").first.select_option("left")
    page.get_by_role("group", name="Vasomotor (cool skin): finding").get_by_label("Absent").check()
    page.get_by_label("C5 left").check()
    page.get_by_label("C6 left").check()
    page.get_by_role("textbox", name="Goals:").fill("Lift the grandchildren.")
    page.get_by_role("combobox", name="How often:").select_option("weekly")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/staff/assessments/*/")

    suggested = page.locator("table.suggested-muscles")
    assert suggested.get_by_text("Biceps brachii").is_visible()
    assert suggested.get_by_text("Paraspinals C5").is_visible()
    assert page.get_by_label("C6 left").is_checked()
    assert serious_problems(page) == [], "the draft page has accessibility problems"

    page.get_by_role("button", name="Save and sign").click()
    page.wait_for_url("**/staff/assessments/*/")
    assessment = Assessment.objects.get()
    assert assessment.status == NoteStatus.SIGNED
    assert "Signed" in page.locator("hgroup .badge").inner_text()
    # Signed: no form to change it, only the addendum form.
    assert page.get_by_role("button", name="Save draft").count() == 0

    page.get_by_role("textbox", name="Reason:").fill("Side corrected")
    page.get_by_role("textbox", name="Addendum:").fill("Tenderness was on the right at C6.")
    page.get_by_role("button", name="Add addendum").click()
    page.wait_for_url("**/staff/assessments/*/")
    assert page.get_by_text("Tenderness was on the right at C6.").is_visible()
    assert serious_problems(page) == [], "the signed page has accessibility problems"
    assert assessment.addenda.count() == 1
    assert errors == []
