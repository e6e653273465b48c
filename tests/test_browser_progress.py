"""In Chromium: the progress pages with six sessions of data draw their charts beside tables.

Screenshots go to SCREENSHOT_DIR (default /tmp/shots): the portal at 390 px, the staff page
at 1280 px, and the staff page as printed (print media).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.factories.browser import staff_tab
from tests.factories.outcomes import course
from tests.factories.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/shots"))
PHONE = {"width": 390, "height": 844}
CHARTS = ("chart-nprs", "chart-psfs", "chart-odi", "chart-nprs-sessions")


def watch(page: Any) -> list[str]:
    """Collect console errors and uncaught page errors (a CSP refusal shows up here too)."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def assert_accessible(page: Any, what: str) -> None:
    violations = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]])
        for v in Axe().run(page).response["violations"]
    ]
    assert violations == [], f"{what} has accessibility problems"


def assert_charts_drawn(page: Any) -> None:
    """Every chart is a Chart.js instance whose canvas holds more than a blank image."""
    page.wait_for_function("window.progressCharts && window.progressCharts.length === 4")
    for chart_id in CHARTS:
        drawn = page.evaluate(
            """(id) => {
                const canvas = document.getElementById(id);
                const chart = window.Chart.getChart(canvas);
                const blank = document.createElement("canvas");
                blank.width = canvas.width; blank.height = canvas.height;
                return {
                    chart: Boolean(chart),
                    width: canvas.width,
                    differs: canvas.toDataURL() !== blank.toDataURL(),
                    length: canvas.toDataURL().length,
                };
            }""",
            chart_id,
        )
        assert drawn["chart"], f"{chart_id} has no chart"
        assert drawn["width"] > 100, f"{chart_id} has no size"
        assert drawn["differs"] and drawn["length"] > 5000, f"{chart_id} is blank"


def test_the_staff_progress_page_draws_every_chart_beside_its_table(
    chromium, live_server, patient, physio, location, ims_service
) -> None:
    course(patient, physio, location, ims_service, sessions=6)
    tab = staff_tab(chromium, live_server, physio.email)
    problems = watch(tab)
    tab.goto(f"/staff/patients/{patient.pk}/progress/")
    assert_charts_drawn(tab)
    assert tab.locator("table.progress-table").count() == 5
    assert tab.get_by_text("Pain has come down from 7 to 3").first.is_visible()
    assert tab.get_by_role("button", name="Print").is_visible()
    tab.wait_for_timeout(1500)  # Chart.js's one-second drawing animation has ended
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / "progress-staff-1280.png"), full_page=True)
    assert_accessible(tab, "The staff progress page")
    tab.emulate_media(media="print")
    tab.wait_for_timeout(300)  # Chart.js redraws on the print layout's sizes
    assert tab.get_by_role("button", name="Print").is_hidden()
    assert tab.locator("header.site-header").is_hidden()
    assert_charts_drawn(tab)
    tab.screenshot(path=str(SHOTS / "progress-staff-print.png"), full_page=True)
    tab.emulate_media(media="screen")
    assert problems == []
    tab.context.close()


def test_the_portal_progress_page_fits_a_phone_and_draws_its_charts(
    chromium, live_server, patient, patient_user, physio, location, ims_service
) -> None:
    course(patient, physio, location, ims_service, sessions=6)
    context = chromium.new_context(
        base_url=live_server.url, viewport=PHONE, reduced_motion="reduce"
    )
    page = context.new_page()
    problems = watch(page)
    page.goto("/accounts/login/")
    page.locator("input[name='login']").fill(patient_user.email)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("input[name='password']").press("Enter")
    page.wait_for_url("**/portal/")
    page.get_by_role("link", name="See your progress").click()
    page.wait_for_url("**/portal/progress/")
    assert_charts_drawn(page)
    animated = page.evaluate("window.progressCharts.map((c) => c.options.animation)")
    assert animated == [False] * 4  # the phone asked for reduced motion
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, "the progress page is wider than a phone"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "progress-portal-390.png"), full_page=True)
    assert_accessible(page, "The portal progress page")
    assert problems == []
    context.close()


def test_the_outcomes_report_reads_as_tables_for_the_owner(
    chromium, live_server, patient, physio, owner, location, ims_service
) -> None:
    course(patient, physio, location, ims_service, sessions=6)
    tab = staff_tab(chromium, live_server, owner.email)
    problems = watch(tab)
    tab.get_by_role("link", name="Outcomes").click()
    tab.wait_for_url("**/staff/reports/outcomes/")
    assert tab.get_by_role("heading", name="Clinically important change by session").is_visible()
    assert tab.get_by_role("cell", name="1 of 1 (100%)").first.is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / "progress-report-1280.png"), full_page=True)
    assert_accessible(tab, "The outcomes report")
    assert problems == []
    tab.context.close()


def test_the_treating_physio_strikes_out_a_wrong_score_from_the_progress_page(
    chromium, live_server, patient, physio, location, ims_service
) -> None:
    course(patient, physio, location, ims_service, sessions=6)
    tab = staff_tab(chromium, live_server, physio.email)
    problems = watch(tab)
    tab.goto(f"/staff/patients/{patient.pk}/progress/")
    odi = tab.locator("#progress-odi-heading").locator("xpath=..")
    second = odi.locator("details.strike-out").nth(1)
    second.locator("summary").click()
    second.get_by_label("Why is the result of").fill("Typed in twice.")
    assert_accessible(tab, "The progress page with a strike-out form open")
    second.get_by_role("button", name="Strike out").click()
    tab.wait_for_url(f"**/staff/patients/{patient.pk}/progress/")
    assert tab.get_by_text("Struck out the Oswestry").is_visible()
    assert tab.get_by_role("heading", name="Struck out").is_visible()
    assert tab.get_by_role("cell", name="Typed in twice.").is_visible()
    assert tab.locator("#progress-odi-heading").locator("xpath=..").locator("tbody tr").count() == 2
    assert_accessible(tab, "The progress page with a struck-out result")
    assert problems == []
    tab.context.close()
