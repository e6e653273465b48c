"""In a phone-sized Chromium: the owner's audit log passes axe and its table scrolls in place."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from imsclinic.core.audit import audit_record
from imsclinic.core.models import Action, Outcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_as(page, live_server, user) -> None:
    """Give the browser tab a signed-in session for this user."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_the_owner_reads_the_log_on_a_phone_without_the_page_scrolling_sideways(
    page, live_server, cast, patient
):
    for n in range(5):
        audit_record(
            actor=cast["other_physio"],
            action=Action.VIEW,
            object_type="patient",
            object_id=patient.pk,
            patient=patient,
            outcome=Outcome.DENIED if n % 2 else Outcome.ALLOWED,
        )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_as(page, live_server, cast["owner"])

    page.goto("/staff/audit/")
    page.get_by_label("Outcome").select_option("denied")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/staff/audit/?**outcome=denied**")

    table = page.get_by_role("table")
    assert table.locator("tbody tr").count() == 2
    assert table.get_by_text("Denied").count() == 2
    serious = [
        violation["id"]
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert serious == []
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert errors == []

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("audit-log-")
