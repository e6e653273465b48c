"""The chart page, its PDF summary, and the patient's own notes in the portal."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.chart import seed_course
from imsclinic.charting.pdf import chart_summary_html, portal_summary_html
from imsclinic.charting.selectors import chart_for
from imsclinic.charting.services import addendum_add, session_start
from imsclinic.charting.views.chart import plain_notes
from imsclinic.core.models import AuditEvent
from tests.factories import VANCOUVER
from tests.factories.charting import (
    ensure_catalogue,
    ims_visit,
    row,
    signed_assessment,
    signed_session,
)
from tests.factories.clients import signed_in
from tests.factories.safety import make_ready_for_needling

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    """A browser test that ran earlier in this process may have emptied the catalogue."""
    ensure_catalogue()


# Session and user, the patient and the care-team check, the audit row (one INSERT), the
# chart's own queries (selectors.CHART_QUERIES at most), the clinic's zone: none grows with
# the chart.
# +1: the follow-up red-flag banner every staff page shows to practitioners and owners.
# +1: adverse-event drafts opened by red-flag follow-up check-ins, waiting to be completed.
# +1: every session's follow-up check-in, in one query (followup.selectors.checkins_by_session).
# +1: how long an assessment stays current (Clinic.assessment_valid_months), for the line
# saying which assessment the needling rests on.
# +3: the assessment on file's signs, segments and addenda (prefetched: none with no
# assessment at all, the same three however many assessments).
# +6: the flags and consent under the title (safety_tags.clinical_header): may this user see
# the flags, the current intake, how long it stays current, the decision on it, the
# published consent version and the patient's signatures (two fewer with no intake).
# +1: the physiotherapy notes (their addenda are one more query when there are any).
CHART_PAGE_QUERIES = 28


def chart_page_queries() -> int:
    return CHART_PAGE_QUERIES


def chart_url(patient: Any) -> str:
    return reverse("patient_chart", args=[patient.pk])


@pytest.fixture
def two_sessions(ready_patient, physio, ims_service, lot):
    """A signed session last week (two muscles) and one today (trapezius again, and a pectoral)."""
    last_week = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=7)
    )
    first = signed_session(
        last_week,
        physio,
        [row("upper_trapezius", lot), row("gastrocnemius", lot, side="right")],
        nprs_before=7,
        nprs_after=4,
    )
    today = ims_visit(ready_patient, physio, ims_service)
    second = signed_session(
        today, physio, [row("upper_trapezius", lot), row("pectoralis_major", lot)]
    )
    addendum_add(note=second, reason="Wrong depth noted", text="Depth was 2 cm.", actor=physio)
    return first, second


def test_the_chart_shows_sessions_with_their_rows_addenda_and_the_course_heat_view(
    ready_patient, physio, two_sessions
):
    response = signed_in(physio).get(chart_url(ready_patient))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Needling sessions" in text and "Gastrocnemius" in text
    assert "Depth was 2 cm." in text
    assert "thoracic precaution" in text
    # The trapezius (left) was needled twice: darkest shade, and the number written on it.
    assert "<td>Upper trapezius</td><td>Left</td><td>2</td>" in text
    assert "Neck, left: 2" in text
    assert 'class="chart-count heat-text-2"' in text


def test_the_chart_sends_no_store_and_is_audited(ready_patient, physio, two_sessions):
    response = signed_in(physio).get(chart_url(ready_patient))
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(object_type="chart").get()
    assert (event.actor, event.patient_id, event.action) == (physio, ready_patient.pk, "view")


@pytest.mark.parametrize(
    ("who", "status"),
    [("front_desk", 403), ("other_physio", 404), ("other_patient", 404), ("owner", 200)],
)
def test_only_the_care_team_and_the_owner_open_the_chart(ready_patient, cast, who, status):
    assert signed_in(cast[who]).get(chart_url(ready_patient)).status_code == status


def _count_chart_queries(client: Any, patient: Any) -> int:
    client.get(chart_url(patient))  # the session and permission caches warm up
    with CaptureQueriesContext(connection) as captured:
        response = client.get(chart_url(patient))
    assert response.status_code == 200
    return len(captured)


def test_the_chart_makes_the_same_number_of_queries_for_10_and_100_sessions(
    ready_patient, other_patient, physio, ims_service, lot, django_assert_num_queries
):
    other_patient.care_team.add(physio.practitioner)
    make_ready_for_needling(other_patient, by=physio)  # screened and consented, as ready_patient
    signed_assessment(other_patient, physio)  # each chart has one assessment, as ready_patient
    seed_course(ready_patient, physio, ims_service, lot, sessions=10)
    # The other patient's hundred weekly visits start where the first ten end.
    seed_course(other_patient, physio, ims_service, lot, sessions=100, first_week=10)
    client = signed_in(physio)
    ten = _count_chart_queries(client, ready_patient)
    hundred = _count_chart_queries(client, other_patient)
    assert ten == hundred
    with django_assert_num_queries(chart_page_queries()):
        page = client.get(chart_url(other_patient))
    assert page.content.decode().count('class="chart-session"') == 100


def test_the_referral_summary_lists_sessions_muscles_and_pain_and_is_audited(
    ready_patient, physio, two_sessions
):
    html = chart_summary_html(chart_for(ready_patient), author=physio, zone=VANCOUVER)
    assert "IMS treatment summary" in html
    assert "Gastrocnemius (right, S1)" in html
    assert "7/10" in html and "4/10" in html
    response = signed_in(physio).get(reverse("patient_chart_summary_pdf", args=[ready_patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(object_type="chart_summary")
    assert (event.action, event.patient_id) == ("export", ready_patient.pk)


def test_the_front_desk_cannot_download_the_summary(ready_patient, front_desk):
    url = reverse("patient_chart_summary_pdf", args=[ready_patient.pk])
    assert signed_in(front_desk).get(url).status_code == 403


def test_the_patient_reads_only_signed_notes_in_plain_words(
    ready_patient, patient_user, physio, ims_service, lot, two_sessions
):
    draft_visit = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() + dt.timedelta(hours=2)
    )
    session_start(appointment=draft_visit, actor=physio, now=timezone.now())
    response = signed_in(patient_user).get(reverse("portal_notes"))
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count('class="note portal-note"') == 2
    assert "Upper trapezius (left)" in text
    assert "Your pain was 7 out of 10 before the treatment and 4 out of 10 after it." in text
    main = text[text.index("<main") : text.index("</main>")]
    for code in ("LOT-OK-1", "S1", "C3", "upper_trapezius", "moderate"):
        assert not re.search(rf"\b{code}\b", main), code


def test_the_patient_downloads_a_pdf_of_their_notes(ready_patient, patient_user, two_sessions):
    html = portal_summary_html(ready_patient, plain_notes(chart_for(ready_patient)), zone=VANCOUVER)
    assert "Gastrocnemius (right)" in html and "LOT-OK-1" not in html
    response = signed_in(patient_user).get(reverse("portal_notes_pdf"))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(object_type="portal_notes", action="export").exists()


def test_another_patient_sees_none_of_these_notes(other_patient, other_patient_user, two_sessions):
    text = signed_in(other_patient_user).get(reverse("portal_notes")).content.decode()
    assert "You have no signed treatment notes yet." in text
    assert "Upper trapezius" not in text
