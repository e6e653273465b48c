"""In Chromium: a patient answers a check-in with a red flag on a phone and is told to seek
urgent care, while the treating practitioner's pages show the red-flag banner; axe-clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.followup.models import CheckIn, CheckInStatus, RedFlagAlert
from imsclinic.followup.services import CheckInAnswers, checkin_answer
from imsclinic.followup.tokens import checkin_token
from imsclinic.safety.models import AdverseEvent
from tests.factories.browser import staff_tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


def serious_problems(page: Any, context: str | None = None) -> list[str]:
    return [
        violation["id"]
        for violation in Axe().run(page, context=context).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def sent_checkin(patient: Any, physio: Any) -> CheckIn:
    """A check-in sent this morning after a session near the chest wall."""
    session = needling_session(patient, physio, lots=[make_lot("FU-1")])
    now = timezone.now()
    return CheckIn.objects.create(
        session=session,
        patient=patient,
        practitioner=physio,
        thoracic_precaution=True,
        due_at=now,
        sent_at=now,
        status=CheckInStatus.SENT,
    )


def test_a_patient_reports_breathlessness_and_the_physio_sees_the_red_flag(
    chromium: Any, page: Any, live_server: Any, cast: dict[str, Any], patient: Any, clinic: Any
) -> None:
    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    # A refused form answers 400 (410 for an expired link, 404 for a bad one) on purpose;
    # Chromium logs that status, nothing else may appear.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None
        ),
    )
    checkin = sent_checkin(patient, cast["physio"])

    # The patient's phone (390 px wide, the `page` fixture), no sign-in: the emailed link.
    page.goto(f"/check-in/{checkin_token(checkin.pk)}/")
    assert page.get_by_role("heading", name="How are you after your visit?").is_visible()
    assert serious_problems(page) == []
    page.screenshot(path=str(SHOTS / "followup-form.png"), full_page=True)

    # Sent with nothing answered: a summary at the top takes focus and links to each
    # question, each question says what is missing, and the page stays accessible.
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()  # waits for app.js, which runs after the page loads
    assert page.get_by_text("Answer yes or no.", exact=True).first.is_visible()
    assert page.get_by_text("Choose a number from 0 to 10.", exact=True).is_visible()
    assert serious_problems(page) == []
    summary.get_by_role("link", name="How sore are you now?").click()
    expect(page.locator("#id_soreness_0")).to_be_focused()

    breathless = page.get_by_role("group", name="Are you short of breath")
    breathless.get_by_label("Yes").check()
    page.get_by_role("group", name="How sore are you now?").get_by_label("4").check()
    for question in (
        "Do you have a fever",
        "Is there swelling or pus",
        "Do you have new numbness",
        "Have you fainted",
    ):
        page.get_by_role("group", name=question).get_by_label("No").check()
    page.get_by_role("button", name="Send my answers").click()

    urgent = page.get_by_role("alert")
    assert urgent.get_by_role("heading", name="Please get medical help now").is_visible()
    assert urgent.get_by_text("call 911 now").is_visible()
    assert urgent.get_by_role("link", name="604-555-0100").get_attribute("href") == (
        "tel:604-555-0100"
    )
    assert serious_problems(page) == []
    page.screenshot(path=str(SHOTS / "followup-urgent.png"), full_page=True)

    alert = RedFlagAlert.objects.get(checkin=checkin)
    assert AdverseEvent.objects.get().status == "draft"

    # The treating practitioner, signed in on their own browser, sees the banner at once.
    staff = staff_tab(chromium, live_server, cast["physio"].email)
    banner = staff.get_by_role("region", name="Follow-up red flag")
    assert banner.get_by_text("Follow-up red flag: Pat").is_visible()
    assert serious_problems(staff) == []
    staff.screenshot(path=str(SHOTS / "followup-banner.png"), full_page=True)
    banner.get_by_role("link", name="Review").click()
    staff.wait_for_url(f"**/staff/follow-up/alerts/{alert.pk}/")
    assert staff.get_by_text("Draft from a follow-up check-in — complete it").is_visible()
    assert serious_problems(staff) == []
    staff.screenshot(path=str(SHOTS / "followup-alert.png"), full_page=True)
    staff.get_by_role("button", name="Acknowledge").click()
    staff.wait_for_url(f"**/staff/follow-up/alerts/{alert.pk}/")
    assert staff.get_by_role("region", name="Follow-up red flag").count() == 0
    staff.get_by_role("link", name="Follow-up", exact=True).click()
    staff.wait_for_url("**/staff/follow-up/")
    assert serious_problems(staff) == []
    staff.screenshot(path=str(SHOTS / "followup-list.png"), full_page=True)

    page.goto("/check-in/not-a-real-token/")
    assert page.get_by_role("heading", name="We could not open this check-in").is_visible()
    assert serious_problems(page) == []
    staff.context.close()
    assert errors == []


def test_the_answered_check_in_reads_well_on_the_chart_and_the_follow_up_list(
    chromium: Any, live_server: Any, cast: dict[str, Any], patient: Any, clinic: Any
) -> None:
    SHOTS.mkdir(exist_ok=True)
    checkin = checkin_answer(
        checkin=sent_checkin(patient, cast["physio"]),
        answers=CheckInAnswers(
            soreness=3,
            bruising=True,
            breathless_or_chest_pain=False,
            site_infection_signs=True,
            site_swelling_or_pus=False,
            numbness_or_weakness=False,
            fainted=False,
            other_symptoms="A warm red patch by the shoulder blade.",
            notes="Can I still go swimming?",
        ),
    )
    staff = staff_tab(chromium, live_server, cast["physio"].email)

    # The chart: the session's follow-up check-in, answered, with its warning sign in words.
    staff.goto(f"/staff/patients/{patient.pk}/chart/")
    section = staff.get_by_role("region", name="Follow-up check-in")
    assert section.get_by_role("heading", name="Follow-up check-in").is_visible()
    assert section.get_by_text("fever, spreading redness or heat").is_visible()
    assert section.get_by_text("Can I still go swimming?").is_visible()
    assert serious_problems(staff, "section.chart-checkin") == []
    assert serious_problems(staff) == []
    staff.screenshot(path=str(SHOTS / "followup-chart-checkin.png"), full_page=True)

    # The follow-up list: the answered table, with the red flag said in words.
    staff.goto("/staff/follow-up/")
    assert staff.get_by_role("heading", name="Answered in the last 7 days").is_visible()
    answered = staff.get_by_role("table", name="Check-ins your patients answered")
    row = answered.get_by_role("row").filter(has_text=patient.display_name)
    assert row.get_by_text("Yes: red flag").is_visible()
    assert row.get_by_text("Yes: read it on the chart").is_visible()
    assert row.get_by_role("link", name=f"Chart {patient.display_name}").get_attribute("href") == (
        f"/staff/patients/{patient.pk}/chart/"
    )
    assert serious_problems(staff, "table") == []
    assert serious_problems(staff) == []
    staff.screenshot(path=str(SHOTS / "followup-answered.png"), full_page=True)
    assert checkin.red_flag
    staff.context.close()
