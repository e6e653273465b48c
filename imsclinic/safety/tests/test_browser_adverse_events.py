"""In Chromium: an adverse event recorded, the owner alerted on the patient list, the report,
and a lot recalled and traced to its patients; each page passes axe."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.utils import timezone

from imsclinic.clinic.tests.needling import make_lot, needling_session
from imsclinic.safety.models import AdverseEvent
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


def test_a_physio_records_an_event_and_the_owner_acknowledges_it(
    page: Any, live_server: Any, cast: dict[str, Any], patient: Any
) -> None:
    errors: list[str] = []
    # A refused form answers 400 on purpose; Chromium logs that status, nothing else may appear.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 400" not in m.text else None
        ),
    )
    page.set_viewport_size({"width": 1024, "height": 900})
    lot = make_lot("BR-1")
    session = needling_session(patient, cast["physio"], lots=[lot])

    sign_in_as(page, live_server, cast["physio"])
    page.goto(f"/staff/patients/{patient.pk}/adverse-events/new/?session={session.pk}")
    page.get_by_label("Type").select_option("fainting")
    page.get_by_label("Significant: needed medical intervention").check()
    page.get_by_role("button", name="Record the event").click()
    # Nothing said about what was done: the form says so next to the field and keeps the rest.
    assert page.get_by_text("Say what was done").first.is_visible()
    assert page.get_by_label("Type").input_value() == "fainting"
    assert serious_problems(page) == []
    page.get_by_label("Action taken").fill("Lay flat, legs raised; recovered in 5 minutes.")
    page.get_by_role("button", name="Record the event").click()
    page.wait_for_url("**/staff/adverse-events/*/")
    assert page.get_by_text("The clinic owner is alerted").is_visible()
    assert serious_problems(page) == []

    sign_in_as(page, live_server, cast["owner"])
    page.goto("/staff/patients/")
    banner = page.get_by_role("region", name="1 adverse event needs your review")
    assert banner.is_visible()
    assert serious_problems(page) == []
    banner.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url("**/staff/patients/")
    assert page.get_by_text("needs your review").count() == 0
    assert AdverseEvent.objects.get().acknowledged_at is not None

    page.goto("/staff/reports/adverse-events/")
    assert page.get_by_role("table").count() == 2
    assert serious_problems(page) == []
    assert errors == []


def test_a_physio_recalls_a_lot_and_finds_its_patients(
    page: Any, live_server: Any, cast: dict[str, Any], patient: Any
) -> None:
    page.set_viewport_size({"width": 1024, "height": 900})
    lot = make_lot("RC-9")
    needling_session(patient, cast["physio"], lots=[lot])
    sign_in_as(page, live_server, cast["physio"])
    page.goto("/staff/stock/")
    assert serious_problems(page) == []
    page.get_by_role("link", name="Recall").click()
    page.get_by_label("Why is the lot recalled?").fill("Maker's notice 2026-17")
    page.get_by_role("button", name="Recall the lot").click()
    page.wait_for_url(f"**/staff/stock/lots/{lot.pk}/patients/")
    assert page.get_by_role("row", name="Pat Ient").is_visible()
    assert serious_problems(page) == []
    lot.refresh_from_db()
    assert lot.recalled_at is not None and lot.recalled_at <= timezone.now()
    page.goto("/staff/stock/sharps/")
    assert serious_problems(page) == []


def test_a_physio_adds_follow_up_updates_and_a_worse_severity(
    page: Any, live_server: Any, cast: dict[str, Any], patient: Any
) -> None:
    from imsclinic.safety.services import adverse_event_record

    page.set_viewport_size({"width": 390, "height": 844})
    event = adverse_event_record(
        patient=patient,
        event_type="infection",
        severity="mild",
        onset=timezone.now(),
        action_taken="Cleaned the site.",
        outcome="Red at the needle site.",
        actor=cast["physio"],
    )
    sign_in_as(page, live_server, cast["physio"])
    page.goto(f"/staff/adverse-events/{event.pk}/")
    updates = page.get_by_role("region", name="Follow-up updates")
    assert updates.get_by_text("No updates yet.").is_visible()
    assert updates.get_by_label("Unchanged: Mild: no treatment needed").is_checked()
    # Nothing written: the form says so beside the field, keeps the choice, stays accessible.
    updates.get_by_label("Significant: needed medical intervention").check()
    page.get_by_role("button", name="Add the update").click()
    assert page.get_by_text("Write how it has gone since.").first.is_visible()
    assert page.get_by_label("Significant: needed medical intervention").is_checked()
    assert serious_problems(page) == []
    page.get_by_label("How it has gone since").fill("GP prescribed antibiotics.")
    page.get_by_role("button", name="Add the update").click()
    page.wait_for_url(f"**/staff/adverse-events/{event.pk}/#updates")
    assert page.get_by_text("The clinic owner is alerted").is_visible()
    assert page.get_by_text("Severity raised from").is_visible()
    assert page.get_by_text("GP prescribed antibiotics.", exact=True).is_visible()
    assert serious_problems(page) == []
    page.goto(f"/staff/patients/{patient.pk}/adverse-events/")
    assert page.get_by_text("GP prescribed antibiotics.").is_visible()
    assert serious_problems(page) == []


def test_the_muscle_search_box_narrows_the_list_and_the_choice_is_recorded(
    page: Any, live_server: Any, cast: dict[str, Any], patient: Any
) -> None:
    ensure_catalogue()  # an earlier transactional test empties the tables migrations filled
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, live_server, cast["physio"])
    page.goto(f"/staff/patients/{patient.pk}/adverse-events/new/")
    muscles = page.get_by_label("Muscle:", exact=True)
    everything = muscles.locator("option").count()
    assert everything > 70
    page.get_by_label("Find a muscle").fill("t10")
    assert muscles.evaluate("list => Array.from(list.options, o => o.text)") == [
        "Not known or not one muscle",
        "Paraspinals T10",
    ]
    muscles.select_option(label="Paraspinals T10")
    page.get_by_label("Find a muscle").fill("no such muscle")
    # The chosen muscle stays; the box says nothing else matches.
    assert muscles.locator("option").count() == 2
    assert page.get_by_text("No muscle matches").is_visible()
    assert serious_problems(page) == []
    page.get_by_label("Find a muscle").fill("")
    assert muscles.locator("option").count() == everything
    assert muscles.input_value() != ""
    page.get_by_label("Type").select_option("bruising")
    page.get_by_label("Mild: no treatment needed").check()
    page.get_by_label("Action taken").fill("Ice and advice.")
    page.get_by_role("button", name="Record the event").click()
    page.wait_for_url("**/staff/adverse-events/*/")
    recorded = AdverseEvent.objects.get().muscle
    assert recorded is not None and recorded.code == "paraspinal_t10"
