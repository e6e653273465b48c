"""In a phone-sized Chromium: every public page passes axe and breaks no CSP rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe

from imsclinic.clinic.models import Practitioner, Service
from imsclinic.web.content import DEFAULT_FAQ
from imsclinic.web.models import FaqEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/what-is-ims/",
    "/safety/",
    "/ims-and-dry-needling/",
    "/faq/",
    "/practitioners/",
    "/practitioners/carla-current/",
    "/practitioners/eli-expired/",
    "/locations/",
    "/book/",
    "/no-such-page/",
]


@pytest.fixture
def public_content(clinic, location, ims_service):
    for order, (question, answer) in enumerate(DEFAULT_FAQ):
        FaqEntry.objects.create(question=question, answer=answer, order=order)
    Service.objects.create(
        name="IMS first visit",
        slug="ims-first-visit",
        duration_minutes=60,
        price=Decimal("140.00"),
        for_new_patients=True,
        description="Assessment and first treatment.",
    )
    for slug, expires in [("carla-current", None), ("eli-expired", dt.date(2020, 1, 1))]:
        first, last = slug.split("-")
        practitioner = Practitioner.objects.create(
            first_name=first.title(),
            last_name=last.title(),
            slug=slug,
            title="MPT",
            registration_body="College of Physical Therapists of BC",
            registration_number=slug,
            ims_certification_issuer="iSTOP",
            ims_certified_on=dt.date(2012, 6, 1),
            ims_certification_expires_on=expires,
            ims_practice_since=2012,
            bio="Likes long walks.",
        )
        practitioner.locations.add(location)


@pytest.mark.parametrize("path", PAGES)
def test_each_public_page_passes_axe_on_a_phone_without_csp_errors(page, public_content, path):
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))

    page.goto(path)
    page.wait_for_load_state("load")

    results = Axe().run(page)
    serious = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert not serious, f"axe found serious or critical problems on {path}: {serious}"

    csp = [text for text in console_errors if "Content Security Policy" in text]
    assert not csp, f"CSP violations on {path}: {csp}"
    # A missing page is expected to log its own 404; anything else in the console is a fault.
    unexpected = [text for text in console_errors if path != "/no-such-page/" or "404" not in text]
    assert not unexpected, f"console errors on {path}: {unexpected}"

    # Nothing runs off the side of a phone screen.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"


def test_the_skip_link_appears_on_focus_and_moves_to_the_main_content(page, public_content):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.is_visible() and skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_faq_answers_open_when_their_question_is_chosen(page, public_content):
    page.goto("/faq/")
    question, answer = DEFAULT_FAQ[0]
    first_sentence = answer.split(".")[0]
    assert not page.get_by_text(first_sentence).is_visible()
    page.get_by_text(question).click()
    assert page.get_by_text(first_sentence).is_visible()
