"""The session note page: start, chart rows fast, save as you go, sign, then only addenda."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from imsclinic.charting.models import Addendum, NeedlingSession
from imsclinic.charting.selectors import infection_control_protocol
from imsclinic.charting.services import session_start
from imsclinic.core.models import AuditEvent
from tests.factories.charting import (
    ensure_catalogue,
    ims_visit,
    muscle,
    row,
    sharps_container,
    signed_session,
)
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalogue(db: None) -> None:
    """A browser test that ran earlier in this process may have emptied the catalogue."""
    ensure_catalogue()


def url(visit: Any) -> str:
    return reverse("session_note", args=[visit.pk])


def note_post(lot: Any, *rows: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Return the form as the page posts it, with these rows."""
    data: dict[str, Any] = {
        "nprs_before": "6",
        "nprs_after": "",
        "rom_change": "",
        "aftercare_notes": "",
        "notes": "",
        "rows-TOTAL": str(len(rows)),
        **fields,
    }
    for index, given in enumerate(rows):
        values = {
            "side": "left",
            "segment": "",
            "insertions": "3",
            "needle_lot": str(lot.pk),
            "grasp": "mild",
            "tolerance": "good",
            "note": "",
            **given,
        }
        for name, value in values.items():
            if value is not None:
                data[f"rows-{index}-{name}"] = value
    return data


def test_a_visit_without_a_note_offers_to_start_one_and_starting_opens_the_draft(
    visit, physio, lot
):
    client = signed_in(physio)
    page = client.get(url(visit))
    assert page.status_code == 200
    assert b"Start the session note" in page.content
    assert not NeedlingSession.objects.exists()  # a GET never starts one
    response = client.post(url(visit), {"action": "start"})
    assert response.status_code == 302
    session = NeedlingSession.objects.get(appointment=visit)
    assert session.status == "draft"
    page = client.get(url(visit))
    assert b"Save draft" in page.content and b"Sign the note" in page.content
    assert lot.size_label.encode() in page.content


def test_starting_for_a_patient_not_ready_lists_exactly_what_is_missing(
    patient, physio, ims_service
):
    visit = ims_visit(patient, physio, ims_service)
    page = signed_in(physio).post(url(visit), {"action": "start"})
    assert page.status_code == 200
    assert b"The session cannot start yet" in page.content
    text = page.content.decode()
    assert "health questions" in text.lower()
    assert "consent" in text.lower()
    assert not NeedlingSession.objects.exists()


def test_a_saved_draft_keeps_its_rows_and_fills_the_segment_from_the_muscles_roots(
    visit, physio, lot
):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    trapezius = muscle("upper_trapezius")
    calf = muscle("gastrocnemius")
    response = client.post(
        url(visit),
        note_post(
            lot,
            {"muscle": str(trapezius.pk)},
            {"muscle": str(calf.pk), "side": "right", "segment": "S2", "twitch": "on"},
            action="save",
        ),
    )
    assert response.status_code == 302
    session = NeedlingSession.objects.get(appointment=visit)
    rows = list(session.rows.order_by("position"))
    assert [(r.muscle.code, r.side, r.segment) for r in rows] == [
        ("upper_trapezius", "left", trapezius.root_from),
        ("gastrocnemius", "right", "S2"),
    ]
    assert rows[1].twitch is True and rows[0].twitch is False
    assert session.nprs_before == 6


def test_an_incomplete_row_stays_on_the_page_as_typed_while_the_rest_is_saved(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    trapezius = muscle("upper_trapezius")
    page = client.post(
        url(visit),
        note_post(
            lot,
            {"muscle": str(trapezius.pk)},
            {"muscle": "", "insertions": "", "note": "deep band near the angle"},
            action="save",
        ),
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "deep band near the angle" in text
    assert "Choose a muscle." in text
    assert 'aria-describedby="id_rows-1-muscle_error"' in text
    session = NeedlingSession.objects.get(appointment=visit)
    assert [r.muscle.code for r in session.rows.all()] == ["upper_trapezius"]


def test_the_background_autosave_answers_with_the_time_it_saved(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    response = client.post(
        url(visit),
        note_post(lot, {"muscle": str(muscle("deltoid").pk)}, action="autosave"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b'id="save-status"' in response.content and b"Saved " in response.content
    assert b"<html" not in response.content
    assert NeedlingSession.objects.get(appointment=visit).rows.count() == 1
    # The body chart beside the form is swapped in afresh with the saved muscle marked.
    text = response.content.decode()
    assert 'id="session-chart-section" aria-labelledby="session-chart" hx-swap-oob="true"' in text
    assert "<td>Deltoid</td><td>Left</td><td>1</td>" in text


def test_a_chest_muscle_shows_the_thoracic_precaution_marker(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    pectoral = muscle("pectoralis_major")
    client.post(url(visit), note_post(lot, {"muscle": str(pectoral.pk)}, action="save"))
    session = NeedlingSession.objects.get(appointment=visit)
    assert session.thoracic_precaution is True
    text = client.get(url(visit)).content.decode()
    assert 'id="precaution-banner" aria-live="polite" data-precaution-banner>' in text
    assert "Thoracic precaution: over the chest wall or lung" in text
    # The marker of each option travels with the option, so the page can show it at once.
    assert f'value="{pectoral.pk}" data-region="chest"' in text
    assert 'data-precaution="1"' in text


def test_a_muscle_without_the_precaution_leaves_the_banner_hidden(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    client.post(url(visit), note_post(lot, {"muscle": str(muscle("deltoid").pk)}, action="save"))
    text = client.get(url(visit)).content.decode()
    assert "data-precaution-banner hidden>" in text


def test_the_region_filter_without_javascript_narrows_the_muscle_picker(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    text = client.get(url(visit) + "?region=leg").content.decode()
    assert "Gastrocnemius" in text
    assert "Upper trapezius" not in text
    text = client.get(url(visit) + "?q=glut").content.decode()
    assert "Gluteus medius" in text and "Gastrocnemius" not in text


def test_the_filter_button_saves_the_draft_first(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    response = client.post(
        url(visit),
        note_post(lot, {"muscle": str(muscle("deltoid").pk)}, action="filter", region="leg"),
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?region=leg#rows")
    assert NeedlingSession.objects.get(appointment=visit).rows.count() == 1


def test_the_add_row_button_without_javascript_adds_an_empty_row(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    page = client.post(
        url(visit), note_post(lot, {"muscle": str(muscle("deltoid").pk)}, action="add_row")
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="rows-1-muscle"' in text and 'name="rows-2-muscle"' not in text
    assert 'name="rows-TOTAL" value="2"' in text


def test_copying_the_last_session_adds_its_rows(ready_patient, physio, ims_service, lot):
    import datetime as dt

    from django.utils import timezone

    earlier = ims_visit(
        ready_patient, physio, ims_service, start=timezone.now() - dt.timedelta(days=7)
    )
    signed_session(earlier, physio, [row("deltoid", lot), row("soleus", lot, side="right")])
    today = ims_visit(ready_patient, physio, ims_service)
    client = signed_in(physio)
    session_start(appointment=today, actor=physio)
    # What was typed before the click is saved first, then the last session's rows follow.
    response = client.post(
        url(today), note_post(lot, {"muscle": str(muscle("gastrocnemius").pk)}, action="copy_last")
    )
    assert response.status_code == 302
    session = NeedlingSession.objects.get(appointment=today)
    assert [(r.muscle.code, r.side) for r in session.rows.order_by("position")] == [
        ("gastrocnemius", "left"),
        ("deltoid", "left"),
        ("soleus", "right"),
    ]


def test_signing_without_pain_after_says_what_is_missing_and_keeps_the_draft(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    page = client.post(
        url(visit), note_post(lot, {"muscle": str(muscle("deltoid").pk)}, action="sign")
    )
    assert page.status_code == 200
    assert b"Not signed" in page.content
    assert b"Record the pain score after needling." in page.content
    assert NeedlingSession.objects.get(appointment=visit).status == "draft"


def test_a_signed_note_is_read_only_and_a_crafted_post_changes_nothing(visit, physio, lot):
    client = signed_in(physio)
    session_start(appointment=visit, actor=physio)
    container = sharps_container(visit.location, physio)
    response = client.post(
        url(visit),
        note_post(
            lot,
            {"muscle": str(muscle("deltoid").pk)},
            nprs_after="2",
            action="sign",
            infection_shown="1",
            infection_control=[str(step.pk) for step in infection_control_protocol()],
            sharps_container=str(container.pk),
        ),
    )
    assert response.status_code == 302
    session = NeedlingSession.objects.get(appointment=visit)
    assert session.status == "signed"
    text = client.get(url(visit)).content.decode()
    assert "Save draft" not in text and 'name="rows-0-muscle"' not in text
    assert "Add the addendum" in text
    crafted = client.post(
        url(visit),
        note_post(lot, {"muscle": str(muscle("soleus").pk)}, nprs_before="1", action="save"),
    )
    assert crafted.status_code == 302
    session.refresh_from_db()
    assert session.nprs_before == 6
    assert [r.muscle.code for r in session.rows.all()] == ["deltoid"]


def test_addenda_appear_under_the_signed_note_in_the_order_written(visit, physio, owner, lot):
    signed_session(visit, physio, [row("deltoid", lot)])
    signed_in(physio).post(
        url(visit), {"action": "addendum", "reason": "Wrong side", "text": "It was the right."}
    )
    signed_in(owner).post(
        url(visit), {"action": "addendum", "reason": "Follow-up", "text": "Called the patient."}
    )
    assert list(Addendum.objects.values_list("reason", flat=True)) == ["Wrong side", "Follow-up"]
    text = signed_in(physio).get(url(visit)).content.decode()
    assert text.index("It was the right.") < text.index("Called the patient.")


def test_an_addendum_without_a_reason_is_refused_and_keeps_the_text(visit, physio, lot):
    signed_session(visit, physio, [row("deltoid", lot)])
    page = signed_in(physio).post(url(visit), {"action": "addendum", "reason": "", "text": "Kept"})
    assert page.status_code == 200
    assert b"Kept" in page.content and b"This field is required." in page.content
    assert not Addendum.objects.exists()


def test_another_member_of_the_care_team_reads_a_draft_but_cannot_change_it(
    visit, physio, owner, lot
):
    session_start(appointment=visit, actor=physio)
    client = signed_in(owner)
    page = client.get(url(visit))
    assert page.status_code == 200
    assert b"Only its author can change it." in page.content
    assert b"Save draft" not in page.content
    refused = client.post(
        url(visit), note_post(lot, {"muscle": str(muscle("deltoid").pk)}, action="save")
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(("who", "status"), [("front_desk", 403), ("other_physio", 404)])
def test_the_front_desk_is_refused_and_outsiders_are_told_nothing(visit, cast, who, status):
    assert signed_in(cast[who]).get(url(visit)).status_code == status


def test_each_look_at_the_note_is_audited(visit, physio):
    signed_in(physio).get(url(visit))
    event = AuditEvent.objects.filter(object_type="needling_session", action="view").get()
    assert (event.actor, event.patient_id) == (physio, visit.patient_id)


def test_the_session_chart_marks_the_needled_regions_and_lists_them_as_text(visit, physio, lot):
    signed_session(visit, physio, [row("gastrocnemius", lot, side="right")])
    text = signed_in(physio).get(url(visit)).content.decode()
    assert "Lower leg, right: 1" in text
    assert "<td>Gastrocnemius</td><td>Right</td><td>1</td>" in text


def test_a_background_save_after_signing_says_the_note_is_signed(visit, physio, lot):
    signed_session(visit, physio, [row("deltoid", lot)])
    response = signed_in(physio).post(
        url(visit),
        note_post(lot, {"muscle": str(muscle("soleus").pk)}, action="autosave"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b"Not saved: this note is signed." in response.content
    session = NeedlingSession.objects.get(appointment=visit)
    assert [r.muscle.code for r in session.rows.all()] == ["deltoid"]
