"""In Chromium: a busy day of visits waiting for screening review stays readable on the calendar.

Every badge (the visit's status, "Needs practitioner review") stays inside its visit and its
day's column, and nothing runs off the side of the page, on a laptop (1366 px) and on
tablets (768 and 820 px).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from imsclinic.intake.services import intake_submit
from imsclinic.patients.models import Patient
from imsclinic.safety.selectors import patients_needing_review
from imsclinic.scheduling.selectors import available_slots
from imsclinic.scheduling.services.booking import appointment_book
from tests.factories.browser import sign_in_as
from tests.factories.intake import complete_answers
from tests.factories.scheduling import weekday_shifts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/test-results/screenshots"))
BADGE = ".cal-badge"
SCREENS = {
    "laptop": {"width": 1366, "height": 768},
    "tablet-portrait": {"width": 820, "height": 1180},
    "small-tablet": {"width": 768, "height": 1024},
}
NAMES = [
    ("Nia", "Brooks-Fairweather"),
    ("Omar", "Haddad"),
    ("Lena", "Park"),
    ("Ravi", "Singh"),
    ("Maximiliana", "Vandenberghe-Oyelaran"),
]

# Each badge's box against the boxes it must stay inside (page coordinates, 1 px of slack
# for rounding), and every element of the calendar whose content is wider than its box.
MEASURE = """
({badge, holders}) => {
  const box = (el) => el.getBoundingClientRect();
  // Text kept for screen readers only (clipped to nothing) takes no room on the screen.
  const hidden = (el) => {
    for (let e = el; e; e = e.parentElement) {
      if (getComputedStyle(e).clip === "rect(0px, 0px, 0px, 0px)") return true;
    }
    return false;
  };
  const escapes = [];
  for (const el of document.querySelectorAll(badge)) {
    const b = box(el);
    for (const selector of holders) {
      const holder = el.closest(selector);
      if (!holder) { escapes.push([el.textContent.trim(), selector, "no such holder"]); continue; }
      const h = box(holder);
      const outside = b.left < h.left - 1 || b.right > h.right + 1
        || b.top < h.top - 1 || b.bottom > h.bottom + 1;
      if (outside) {
        escapes.push([el.textContent.trim(), selector, [b.left, b.right, h.left, h.right]]);
      }
    }
  }
  // Inside the calendar (its table, its list), no element reaches past its parent's sides
  // and none has content wider than itself.
  const overflowing = [];
  for (const el of document.querySelectorAll(".calendar-scroll *, .cal-list *")) {
    if (hidden(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      overflowing.push(`${el.tagName}.${el.className} is wider inside than its box`);
    }
    const b = box(el);
    const p = box(el.parentElement);
    if (b.width > 0 && (b.right > p.right + 1 || b.left < p.left - 1)) {
      overflowing.push(`${el.tagName}.${el.className} reaches past ${el.parentElement.tagName}`);
    }
  }
  const page = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  return {
    count: document.querySelectorAll(badge).length,
    escapes,
    overflowing,
    page,
  };
}
"""


@pytest.fixture
def busy_day(location, physio, other_physio, front_desk, assessment):
    """Five new patients booked with the physio on one day, every one on blood thinners.

    Each answers the health questions (anticoagulants: yes) and the front desk books their
    IMS assessment: no practitioner has decided on their answers, so each visit needs review.
    """
    today = timezone.localdate()
    weekday_shifts(location, [physio, other_physio], today - dt.timedelta(days=7))
    # A weekday at least two days ahead, so every slot of that day is still open.
    day = today + dt.timedelta(days=2)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    slots = [
        slot
        for slot in available_slots(service=assessment, start_date=day, days=1, location=location)
        if slot.practitioner_id == physio.practitioner.pk
    ]
    starts: list[dt.datetime] = []
    for slot in slots:
        if not starts or slot.start >= starts[-1] + dt.timedelta(minutes=70):
            starts.append(slot.start)
    assert len(starts) >= len(NAMES)
    booked = []
    for n, ((given, family), start) in enumerate(zip(NAMES, starts, strict=False)):
        person = Patient.objects.create(
            given_name=given, family_name=family, date_of_birth=dt.date(1960 + n, 3, 1)
        )
        intake_submit(
            patient=person, actor=front_desk, answers=complete_answers(anticoagulants="yes")
        )
        booked.append(
            appointment_book(
                patient=person,
                practitioner=physio.practitioner,
                service=assessment,
                location=location,
                start=start,
                actor=front_desk,
                notify=False,
            )
        )
    waiting = patients_needing_review({v.patient_id for v in booked}, at=timezone.now())
    assert waiting == {v.patient_id for v in booked}
    return day


def serious(page) -> list[tuple[str, list[object]]]:
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]][:3])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_review_badges_stay_inside_their_day_on_the_week_and_day_views(
    page, live_server, location, physio, busy_day
) -> None:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    sign_in_as(page, live_server, physio)
    SHOTS.mkdir(parents=True, exist_ok=True)
    where = f"location={location.pk}&date={busy_day.isoformat()}"

    for name, size in SCREENS.items():
        page.set_viewport_size(size)

        page.goto(f"/staff/calendar/week/?{where}")
        # The week's narrow days show the short word; the whole words stay for screen
        # readers and as the badge's tooltip.
        review = page.locator(".week-visits .cal-review")
        assert review.count() == len(NAMES)
        for n in range(len(NAMES)):
            short = review.nth(n).locator(".cal-badge-short")
            assert short.is_visible() and short.inner_text() == "Review"
            whole = review.nth(n).locator(".cal-badge-long").bounding_box()
            assert whole is not None and whole["width"] <= 1
            assert review.nth(n).get_attribute("title") == "Needs practitioner review"
        assert page.get_by_text("Needs practitioner review").count() == len(NAMES)
        week = page.evaluate(MEASURE, {"badge": BADGE, "holders": ["li", "td.week-cell"]})
        # Five visits, each with its status and its review badge.
        assert week["count"] == 2 * len(NAMES), name
        assert week["escapes"] == [], name
        assert week["overflowing"] == [], name
        assert week["page"] <= 0, name
        assert serious(page) == [], name
        page.screenshot(path=str(SHOTS / f"calendar-week-badges-{name}.png"), full_page=True)

        page.goto(f"/staff/calendar/?{where}")
        blocks = page.locator(".cal-visit", has_text="Needs practitioner review")
        assert blocks.count() == len(NAMES)
        assert blocks.first.get_by_text("Needs practitioner review").is_visible()
        grid = page.evaluate(
            MEASURE, {"badge": f".calendar-day {BADGE}", "holders": [".cal-visit", "td"]}
        )
        assert grid["count"] == 2 * len(NAMES), name
        assert grid["escapes"] == [], name
        # The same visits as a list below the grid.
        listed = page.evaluate(MEASURE, {"badge": f".cal-list {BADGE}", "holders": ["li"]})
        assert listed["count"] == 2 * len(NAMES), name
        assert listed["escapes"] == [], name
        assert grid["overflowing"] == [], name
        assert grid["page"] <= 0, name
        assert serious(page) == [], name
        page.screenshot(path=str(SHOTS / f"calendar-day-badges-{name}.png"), full_page=True)
    assert problems == []
