"""In Chromium at tablet and desktop widths: a practitioner charts a visit from start to addendum.

The practitioner signs in with a code, writes and signs a Gunn assessment, opens the visit's
needling note, charts three muscles with the keyboard-friendly rows (the thoracic marker
shows as soon as a pectoral is chosen), signs it, finds no way to change it (and a crafted
POST changes nothing), adds an addendum, and reads the chart with its body chart.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import OperationalError

from imsclinic.charting.models import Addendum, Assessment, Muscle, NeedlingSession
from tests.factories.browser import staff_tab
from tests.factories.charting import ensure_catalogue, ims_visit, needle_lot, sharps_container
from tests.factories.safety import make_ready_for_needling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/test-results/screenshots"))
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}


def assert_accessible(page, what: str) -> None:
    results = Axe().run(page)
    problems = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]
    assert problems == [], f"{what} has accessibility problems"


def shoot(tab, name: str, *, element: str | None = None) -> None:
    """Save the page (or one element of it) at desktop and tablet widths."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1280", DESKTOP), ("820", TABLET)):
        tab.set_viewport_size(size)
        overflow = tab.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: the page is wider than {label} px"
        path = str(SHOTS / f"charting-{name}-{label}.png")
        if element:
            tab.locator(element).first.screenshot(path=path)
        else:
            tab.screenshot(path=path, full_page=True)
    tab.set_viewport_size(DESKTOP)


def read_db(read):
    """Read the database while the live server may be writing (SQLite locks whole tables)."""
    for _ in range(50):
        try:
            return read()
        except OperationalError:
            time.sleep(0.1)
    return read()


def choose_muscle(tab, index: int, name: str) -> None:
    select = tab.locator(f"select[name='rows-{index}-muscle']")
    label = select.locator("option", has_text=name).first.inner_text()
    select.select_option(label=label)


def test_a_practitioner_charts_signs_cannot_edit_and_adds_an_addendum(
    chromium, live_server, clinic, location, physio, patient, ims_service
) -> None:
    ensure_catalogue()  # an earlier transactional test may have emptied it
    make_ready_for_needling(patient, by=physio)
    lot = needle_lot("LOT-BROWSER-1", diameter="0.30", length=40)
    container = sharps_container(location, physio, label="KIT-BROWSER-1")
    visit = ims_visit(patient, physio, ims_service)
    tab = staff_tab(chromium, live_server, physio.email)
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))

    # The Gunn assessment: one sign present, C5 left involved, a plan.
    tab.goto(f"/staff/patients/{patient.pk}/assessments/new/")
    bands = tab.locator("tr", has_text="Shortened muscle bands").first
    bands.locator("input[value='present']").check()
    tab.get_by_label("C5 left").check()
    tab.locator("#id_goals").fill("Turn the head to check the blind spot when driving.")
    tab.locator("#id_plan_frequency").select_option("weekly")
    tab.get_by_role("button", name="Save draft").click()
    tab.wait_for_url("**/staff/assessments/*/")
    tab.get_by_role("button", name="Save and sign").click()
    tab.wait_for_load_state()
    assessment = Assessment.objects.get(patient=patient)
    assert assessment.status == "signed"

    # The visit's needling note.
    tab.goto(f"/staff/appointments/{visit.pk}/session/")
    tab.get_by_role("button", name="Start the session note").click()
    tab.wait_for_url(f"**/staff/appointments/{visit.pk}/session/")
    assert_accessible(tab, "the draft session note")
    tab.get_by_label("Pain before (0-10)").select_option("7")
    choose_muscle(tab, 0, "Upper trapezius")
    trapezius = Muscle.objects.get(code="upper_trapezius")
    assert tab.locator("select[name='rows-0-segment']").input_value() == trapezius.root_from
    tab.locator("select[name='rows-0-needle_lot']").select_option(str(lot.pk))
    tab.locator("input[name='rows-0-insertions']").fill("3")
    banner = tab.locator("[data-precaution-banner]")
    assert banner.is_hidden()

    tab.get_by_role("button", name="Add a muscle").click()
    # The new row takes the focus, and the lot of the row above.
    assert tab.evaluate("document.activeElement.name") == "rows-1-muscle"
    assert tab.locator("select[name='rows-1-needle_lot']").input_value() == str(lot.pk)
    choose_muscle(tab, 1, "Pectoralis major")
    assert banner.is_visible()
    assert tab.locator("[data-row]").nth(1).locator("[data-precaution-marker]").is_visible()
    tab.locator("input[name='rows-1-insertions']").fill("2")
    tab.locator("select[name='rows-1-side']").select_option("right")

    # Clicking the lower leg on the body chart filters the picker to its muscles.
    tab.get_by_role("button", name="Add a muscle").click()
    tab.get_by_role("link", name="Show muscles of: Lower leg, right").last.click()
    assert tab.get_by_label("Show muscles of", exact=True).input_value() == "leg"
    options = tab.locator("select[name='rows-2-muscle'] option:not([hidden])")
    assert "Gastrocnemius" in " ".join(options.all_inner_texts())
    assert "Deltoid" not in " ".join(options.all_inner_texts())
    choose_muscle(tab, 2, "Gastrocnemius")
    tab.locator("input[name='rows-2-insertions']").fill("4")
    tab.locator("input[name='rows-2-twitch']").check()
    tab.get_by_label("Pain after (0-10)").select_option("3")
    tab.get_by_label("Aftercare advice given").check()
    tab.get_by_label("Aftercare notes").fill("Heat tonight, gentle neck turns.")

    # Drafts save as you go: the background save reports its time.
    saved = tab.locator("#save-status")
    saved.filter(has_text="Saved").wait_for()
    for _ in range(50):
        session = read_db(lambda: NeedlingSession.objects.get(appointment=visit))
        if read_db(session.rows.count) == 3 and session.nprs_after == 3:
            break
        time.sleep(0.3)
    assert read_db(session.rows.count) == 3 and session.aftercare_given
    tab.wait_for_load_state("networkidle")
    # The body chart beside the form follows the saved rows: the calf is marked, with its number.
    session_chart = tab.locator("#session-chart-section")
    session_chart.locator("table").get_by_text("Gastrocnemius").wait_for()
    shoot(tab, "session-draft")

    # Infection control: every step of the clinic's protocol ticked, the container chosen.
    for box in tab.locator("input[name='infection_control']").all():
        box.check()
    tab.get_by_label("Sharps container the used needles went into").select_option(str(container.pk))
    tab.get_by_role("button", name="Sign the note").click()
    tab.wait_for_url(f"**/staff/appointments/{visit.pk}/session/")
    session.refresh_from_db()
    assert session.status == "signed" and session.thoracic_precaution
    # The note's own status (the consent under the title says "Signed" too).
    assert tab.locator(".status-line .badge-ok", has_text="Signed").is_visible()
    # No way to change it: no form fields, no save button.
    assert tab.locator("select[name='rows-0-muscle']").count() == 0
    assert tab.get_by_role("button", name="Save draft").count() == 0
    assert_accessible(tab, "the signed session note")

    # A crafted POST (with a valid CSRF token) is refused and changes nothing.
    token = next(c["value"] for c in tab.context.cookies() if c["name"] == "csrftoken")
    answer = tab.request.post(
        f"/staff/appointments/{visit.pk}/session/",
        form={
            "csrfmiddlewaretoken": token,
            "action": "save",
            "nprs_before": "0",
            "rows-TOTAL": "0",
        },
        headers={"Referer": f"{live_server.url}/staff/appointments/{visit.pk}/session/"},
    )
    assert answer.ok  # sent back to the read-only page
    session.refresh_from_db()
    assert session.nprs_before == 7 and session.rows.count() == 3

    # The addendum.
    tab.get_by_label("Reason").fill("Depth not recorded")
    tab.get_by_label("Addendum").fill("Trapezius needled at 1.5 cm.")
    tab.get_by_role("button", name="Add the addendum").click()
    tab.wait_for_url(f"**/staff/appointments/{visit.pk}/session/#addenda")
    assert tab.locator("#addenda").get_by_text("Trapezius needled at 1.5 cm.").is_visible()
    assert Addendum.objects.filter(session=session).count() == 1

    # The chart: assessment, session with rows and addendum, the body chart heat view.
    tab.goto(f"/staff/patients/{patient.pk}/chart/")
    chart = tab.locator("section.body-chart")
    assert "Gastrocnemius" in chart.locator("table").inner_text()
    assert tab.get_by_text("Trapezius needled at 1.5 cm.").is_visible()
    assert_accessible(tab, "the chart page")
    shoot(tab, "chart")
    shoot(tab, "body-chart", element="section.body-chart")
    tab.wait_for_load_state("networkidle")
    tab.context.close()  # no request may still be running when the live server stops
    assert problems == []
