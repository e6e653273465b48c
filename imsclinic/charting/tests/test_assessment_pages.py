"""The Gunn assessment pages, the addenda under them, and the to-do list of unsigned notes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.models import Assessment, GunnSign, Muscle, NeedlingSession, NoteStatus
from imsclinic.charting.services import SignInput
from imsclinic.core.models import AuditEvent
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment
from tests.factories.clients import signed_in

pytestmark = pytest.mark.django_db


def form_data(**overrides: Any) -> dict[str, Any]:
    """What a practitioner posts: a few signs, C5 and C6 on the left, a weekly plan."""
    data: dict[str, Any] = {
        "goals": "Lift the grandchildren.",
        "plan_frequency": "weekly",
        "plan_frequency_other": "",
        "plan_expected_sessions": "6",
        "notes": "",
        "segment_left": ["C5", "C6"],
        "action": "save",
    }
    for sign in GunnSign.values:
        data[f"sign-{sign}-finding"] = "not_tested"
    data["sign-tender_motor_points-finding"] = "present"
    data["sign-tender_motor_points-side"] = "left"
    data["sign-tender_motor_points-segment"] = "C6"
    data["sign-shortened_bands-finding"] = "present"
    data["sign-shortened_bands-muscle"] = str(Muscle.objects.get(code="infraspinatus").pk)
    data["sign-vasomotor-finding"] = "absent"
    for index in range(2):
        data[f"sign-x{index}-finding"] = "not_tested"
    data.update(overrides)
    return data


def suggestions(html: str) -> str:
    """Return the page's "muscles to examine and needle" section."""
    start = html.index('id="suggested-heading"')
    return html[start : html.index("</section>", start)]


def new_url(patient: Patient) -> str:
    return reverse("assessment_new", kwargs={"patient_id": patient.pk})


def detail_url(assessment: Assessment) -> str:
    return reverse("assessment_detail", kwargs={"assessment_id": assessment.pk})


def test_a_practitioner_charts_an_assessment_and_sees_the_muscles_to_needle(
    patient: Patient, physio: User
) -> None:
    client = signed_in(physio)
    page = client.get(new_url(patient))
    assert page.status_code == 200
    assert "Tender motor points" in page.content.decode()
    response = client.post(new_url(patient), form_data())
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(assessment)
    assert assessment.author == physio
    assert assessment.plan_expected_sessions == 6
    assert [(s.segment, s.side) for s in assessment.segments.all()] == [
        ("C5", "left"),
        ("C6", "left"),
    ]
    present = assessment.signs.filter(finding="present")
    assert {s.sign for s in present} == {"tender_motor_points", "shortened_bands"}
    assert assessment.signs.count() == len(GunnSign)  # the extra rows left blank are not stored
    html = client.get(detail_url(assessment)).content.decode()
    suggested = suggestions(html)
    assert "Biceps brachii" in suggested
    assert "Paraspinals C5" in suggested and "Paraspinals C6" in suggested
    assert "Gastrocnemius" not in suggested
    assert "Paraspinals C7" not in suggested
    assert 'value="C5" checked' in html  # the grid shows what was ticked


def test_the_suggestion_button_saves_and_jumps_to_the_muscles(
    patient: Patient, physio: User
) -> None:
    client = signed_in(physio)
    response = client.post(new_url(patient), form_data(action="suggest", segment_left=["S1"]))
    assessment = Assessment.objects.get()
    assert response["Location"] == detail_url(assessment) + "#suggested-heading"
    assert "Gastrocnemius" in suggestions(client.get(detail_url(assessment)).content.decode())


def test_ticking_both_sides_records_the_segment_on_both_sides(
    patient: Patient, physio: User
) -> None:
    client = signed_in(physio)
    client.post(new_url(patient), form_data(segment_left=["L5"], segment_right=["L5", "S1"]))
    assessment = Assessment.objects.get()
    assert [(s.segment, s.side) for s in assessment.segments.all()] == [
        ("L5", "both"),
        ("S1", "right"),
    ]


def test_a_bad_entry_is_shown_next_to_its_field_and_what_was_typed_is_kept(
    patient: Patient, physio: User
) -> None:
    client = signed_in(physio)
    response = client.post(
        new_url(patient),
        form_data(plan_expected_sessions="lots", goals="Play the cello again."),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a whole number of sessions from 1 to 100." in html
    assert 'aria-describedby="id_plan_expected_sessions_error"' in html
    assert "Play the cello again." in html
    assert not Assessment.objects.exists()


def test_save_and_sign_locks_the_assessment_and_later_edits_are_refused(
    patient: Patient, physio: User
) -> None:
    client = signed_in(physio)
    client.post(new_url(patient), form_data())
    assessment = Assessment.objects.get()
    response = client.post(detail_url(assessment), form_data(action="sign"))
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == NoteStatus.SIGNED
    page = client.get(detail_url(assessment)).content.decode()
    assert "Save draft" not in page
    assert "Add an addendum" in page
    refused = client.post(
        detail_url(assessment), form_data(goals="Changed afterwards."), follow=True
    )
    assert "add an addendum instead" in refused.content.decode()
    assessment.refresh_from_db()
    assert assessment.goals == "Lift the grandchildren."


def test_signing_an_incomplete_draft_says_what_is_missing(patient: Patient, physio: User) -> None:
    client = signed_in(physio)
    draft = services.assessment_save_draft(patient=patient, actor=physio, data={"goals": "x"})
    response = client.post(
        reverse("assessment_sign", kwargs={"assessment_id": draft.pk}), follow=True
    )
    html = response.content.decode()
    assert "Record at least one sign as present or absent." in html
    assert "Choose how often the patient should come." in html
    draft.refresh_from_db()
    assert draft.status == NoteStatus.DRAFT


def signed_assessment(patient: Patient, physio: User) -> Assessment:
    draft = services.assessment_save_draft(
        patient=patient,
        actor=physio,
        data={"plan_frequency": "every_two_weeks", "goals": "Garden again."},
        signs=[SignInput(sign="vasomotor", finding="present", side="right")],
        segments=[("L4", "right")],
    )
    return services.assessment_sign(assessment=draft, actor=physio)


def test_addenda_appear_in_order_under_the_signed_assessment(
    patient: Patient, physio: User, owner: User
) -> None:
    assessment = signed_assessment(patient, physio)
    url = reverse("assessment_addendum", kwargs={"assessment_id": assessment.pk})
    signed_in(physio).post(url, {"reason": "Side corrected", "text": "Vasomotor was left."})
    signed_in(owner).post(url, {"reason": "Report received", "text": "MRI report scanned."})
    html = signed_in(physio).get(detail_url(assessment)).content.decode()
    first, second = html.index("Side corrected"), html.index("Report received")
    assert html.index("Garden again.") < first < second
    assert "Tara Treating" in html and "Olive Owner" in html
    assert "PST" in html or "PDT" in html  # times in the clinic's zone
    assert assessment.addenda.count() == 2


def test_an_addendum_without_a_reason_is_refused_next_to_the_field(
    patient: Patient, physio: User
) -> None:
    assessment = signed_assessment(patient, physio)
    url = reverse("assessment_addendum", kwargs={"assessment_id": assessment.pk})
    response = signed_in(physio).post(url, {"reason": "", "text": "Kept text."})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_reason_error"' in html
    assert "Say why you are adding to the signed note." in html
    assert "Kept text." in html
    assert not assessment.addenda.exists()


def test_a_colleague_reads_a_draft_but_cannot_change_it(
    patient: Patient, physio: User, owner: User
) -> None:
    draft = services.assessment_save_draft(patient=patient, actor=physio, data={"goals": "Run."})
    client = signed_in(owner)
    html = client.get(detail_url(draft)).content.decode()
    assert "only its author can change or sign it" in html
    assert "Save draft" not in html
    assert client.post(detail_url(draft), form_data(goals="Owner's words")).status_code == 403
    draft.refresh_from_db()
    assert draft.goals == "Run."


def test_the_front_desk_is_refused_and_outsiders_are_told_nothing(
    patient: Patient, physio: User, front_desk: User, other_physio: User
) -> None:
    draft = services.assessment_save_draft(patient=patient, actor=physio, data={"goals": "Run."})
    assert signed_in(front_desk).get(detail_url(draft)).status_code == 403
    assert signed_in(other_physio).get(detail_url(draft)).status_code == 404
    missing = reverse("assessment_detail", kwargs={"assessment_id": draft.pk + 999})
    assert signed_in(physio).get(missing).status_code == 404


def test_every_look_at_an_assessment_is_in_the_audit_log(patient: Patient, physio: User) -> None:
    draft = services.assessment_save_draft(patient=patient, actor=physio, data={"goals": "Run."})
    signed_in(physio).get(detail_url(draft))
    assert AuditEvent.objects.filter(
        action="view", object_type="assessment", object_id=str(draft.pk), actor=physio
    ).exists()


# --- the to-do list ------------------------------------------------------------------------


def age(note: Assessment | NeedlingSession, hours: int) -> None:
    type(note).objects.filter(pk=note.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=hours)
    )


def test_the_to_do_list_shows_my_drafts_older_than_a_day(
    patient: Patient, physio: User, owner: User, visit: Appointment
) -> None:
    old = services.assessment_save_draft(patient=patient, actor=physio, data={"goals": "a"})
    fresh = services.assessment_save_draft(patient=patient, actor=physio, data={"goals": "b"})
    someone_elses = services.assessment_save_draft(patient=patient, actor=owner, data={})
    session = services.session_start(appointment=visit, actor=physio)
    age(old, 25)
    age(fresh, 23)
    age(someone_elses, 48)
    age(session, 30)
    page = signed_in(physio).get(reverse("charting_todo"))
    html = page.content.decode()
    assert page.status_code == 200
    assert detail_url(old) in html
    assert detail_url(fresh) not in html
    assert detail_url(someone_elses) not in html
    assert reverse("session_note", kwargs={"appointment_id": visit.pk}) in html
    assert 'href="/staff/charting/todo/"' in html  # in the staff navigation


def test_a_signed_note_leaves_the_to_do_list(patient: Patient, physio: User) -> None:
    draft = services.assessment_save_draft(
        patient=patient,
        actor=physio,
        data={"plan_frequency": "weekly"},
        signs=[SignInput(sign="vasomotor", finding="absent")],
        segments=[("T4", "both")],
    )
    age(draft, 72)
    assert detail_url(draft) in signed_in(physio).get(reverse("charting_todo")).content.decode()
    services.assessment_sign(assessment=draft, actor=physio)
    html = signed_in(physio).get(reverse("charting_todo")).content.decode()
    assert "Nothing waiting" in html


def test_the_front_desk_has_no_to_do_list(front_desk: User) -> None:
    client: Client = signed_in(front_desk)
    assert client.get(reverse("charting_todo")).status_code == 403
