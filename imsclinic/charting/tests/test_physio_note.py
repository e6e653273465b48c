"""The physiotherapy note of a visit that is not IMS: written, signed, locked, corrected by
addenda, on the chart and in the patient's own notes."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from imsclinic.accounts.models import User
from imsclinic.charting import services
from imsclinic.charting.errors import ChartingError, SignedNoteLocked
from imsclinic.charting.models import PHYSIO_TEXT_MAX_LENGTH, Addendum, PhysioNote
from imsclinic.charting.pdf import portal_summary_html
from imsclinic.charting.selectors import chart_for, unsigned_notes_for
from imsclinic.charting.signals import note_signed
from imsclinic.charting.views.chart import plain_notes
from imsclinic.clinic.models import Location
from imsclinic.core.models import AuditEvent
from imsclinic.core.roles import Role
from imsclinic.followup.models import CheckIn
from imsclinic.outcomes.models import OutcomeResult
from imsclinic.patients.models import Patient
from imsclinic.scheduling.models import Appointment, AppointmentStatus
from tests.factories.charting import (
    PHYSIO_NOTE_TEXT,
    ims_visit,
    physio_service,
    signed_physio_note,
)
from tests.factories.clients import signed_in
from tests.factories.outcomes import plan
from tests.factories.people import make_practitioner, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def physio_visit(patient: Patient, physio: User) -> Appointment:
    """A physiotherapy assessment (not IMS) of the patient with the treating physio, under way."""
    return ims_visit(patient, physio, physio_service())


@pytest.fixture
def colleague(patient: Patient, location: Location) -> User:
    """A second practitioner on the patient's care team, who did not give the visit."""
    user = make_user("colleague@cedar.example", Role.PRACTITIONER, first="Cora", last="Colleague")
    patient.care_team.add(make_practitioner(user, location, "cora-colleague", "PT-1003"))
    return user


def url(visit: Appointment) -> str:
    return reverse("physio_note", args=[visit.pk])


def written(visit: Appointment, physio: User) -> PhysioNote:
    note = services.physio_note_start(appointment=visit, actor=physio)
    return services.physio_note_save_draft(note=note, actor=physio, data=PHYSIO_NOTE_TEXT)


# ---------------------------------------------------------------------------------------
# The services


def test_the_visits_practitioner_writes_and_signs_a_physiotherapy_note(physio_visit, physio):
    note = written(physio_visit, physio)
    assert note.status == "draft"
    signed = services.physio_note_sign(note=note, actor=physio)
    stored = PhysioNote.objects.get(appointment=physio_visit)
    assert stored.status == "signed"
    assert stored.signed_by == physio and stored.signed_at == signed.signed_at
    assert stored.treatment_given == PHYSIO_NOTE_TEXT["treatment_given"]
    assert AuditEvent.objects.filter(
        object_type="physio_note", object_id=str(stored.pk), detail__status="signed"
    ).exists()


def test_starting_twice_returns_the_same_draft(physio_visit, physio):
    first = services.physio_note_start(appointment=physio_visit, actor=physio)
    again = services.physio_note_start(appointment=physio_visit, actor=physio)
    assert first.pk == again.pk
    assert PhysioNote.objects.count() == 1


def test_an_ims_visit_is_charted_in_its_needling_note_not_a_physiotherapy_note(
    patient, physio, ims_service
):
    visit = ims_visit(patient, physio, ims_service)
    with pytest.raises(ChartingError, match="needling note"):
        services.physio_note_start(appointment=visit, actor=physio)
    assert not PhysioNote.objects.exists()


def test_a_cancelled_visit_gets_no_note(patient, physio):
    visit = ims_visit(patient, physio, physio_service(), status=AppointmentStatus.CANCELLED)
    with pytest.raises(ChartingError, match="cancelled or missed"):
        services.physio_note_start(appointment=visit, actor=physio)


def test_only_the_practitioner_giving_the_visit_starts_and_writes_its_note(
    physio_visit, physio, colleague, owner, other_physio
):
    for someone in (colleague, owner, other_physio):
        with pytest.raises(PermissionDenied):
            services.physio_note_start(appointment=physio_visit, actor=someone)
    note = services.physio_note_start(appointment=physio_visit, actor=physio)
    with pytest.raises(PermissionDenied):
        services.physio_note_save_draft(note=note, actor=colleague, data={"plan": "Mine now."})
    with pytest.raises(PermissionDenied):
        services.physio_note_sign(note=note, actor=colleague)
    note.refresh_from_db()
    assert note.plan == "" and note.status == "draft"


def test_signing_needs_every_part_of_the_note(physio_visit, physio):
    note = services.physio_note_start(appointment=physio_visit, actor=physio)
    note = services.physio_note_save_draft(
        note=note, actor=physio, data={"subjective": "Sore knee.", "objective": "   "}
    )
    with pytest.raises(ChartingError) as refused:
        services.physio_note_sign(note=note, actor=physio)
    assert set(refused.value.errors) == {"objective", "assessment", "plan", "treatment_given"}
    note.refresh_from_db()
    assert note.status == "draft"


def test_a_part_longer_than_its_limit_is_refused_and_nothing_is_saved(physio_visit, physio):
    note = services.physio_note_start(appointment=physio_visit, actor=physio)
    with pytest.raises(ChartingError) as refused:
        services.physio_note_save_draft(
            note=note,
            actor=physio,
            data={"plan": "x" * (PHYSIO_TEXT_MAX_LENGTH + 1), "subjective": "Fine."},
        )
    assert set(refused.value.errors) == {"plan"}
    note.refresh_from_db()
    assert note.subjective == ""


def test_a_note_cannot_be_signed_before_its_visit_starts(patient, physio):
    tomorrow = ims_visit(
        patient,
        physio,
        physio_service(),
        start=timezone.now() + dt.timedelta(days=1),
        status=AppointmentStatus.BOOKED,
    )
    note = written(tomorrow, physio)
    with pytest.raises(ChartingError, match="once the visit has started"):
        services.physio_note_sign(note=note, actor=physio)


def test_a_signed_note_refuses_every_change_and_is_corrected_by_an_addendum(
    physio_visit, physio, colleague
):
    signed = signed_physio_note(physio_visit, physio)
    with pytest.raises(SignedNoteLocked):
        services.physio_note_save_draft(note=signed, actor=physio, data={"plan": "Changed."})
    with pytest.raises(SignedNoteLocked):
        services.physio_note_sign(note=signed, actor=physio)
    stale = PhysioNote.objects.get(pk=signed.pk)
    stale.plan = "Changed behind the service's back."
    with pytest.raises(SignedNoteLocked):
        stale.save()
    with pytest.raises(SignedNoteLocked):
        stale.delete()
    addendum = services.addendum_add(
        note=signed, reason="Missed a detail", text="Also taught a wall stretch.", actor=colleague
    )
    assert Addendum.objects.get(pk=addendum.pk).physio_note_id == signed.pk
    assert list(signed.addenda.values_list("text", flat=True)) == ["Also taught a wall stretch."]
    assert AuditEvent.objects.filter(object_type="addendum", detail__physio_note=signed.pk).exists()
    assert PhysioNote.objects.get(pk=signed.pk).plan == PHYSIO_NOTE_TEXT["plan"]


def test_a_draft_takes_no_addendum(physio_visit, physio):
    note = written(physio_visit, physio)
    with pytest.raises(ChartingError, match="still a draft"):
        services.addendum_add(note=note, reason="Early", text="Too soon.", actor=physio)


def test_the_signed_note_keeps_the_outcome_measures_due_at_its_visit(physio_visit, patient, physio):
    plan(patient, physio)
    signed = signed_physio_note(physio_visit, physio)
    assert "Oswestry Disability Index (low back)" in signed.measures_due
    assert "Patient-Specific Functional Scale" in signed.measures_due
    assert PhysioNote.objects.get(pk=signed.pk).measures_due == signed.measures_due


def test_with_no_measure_plan_nothing_is_due(physio_visit, physio):
    assert signed_physio_note(physio_visit, physio).measures_due == []


def test_signing_a_physiotherapy_note_schedules_no_needling_check_in_and_no_pain_score(
    physio_visit, patient, physio
):
    plan(patient, physio)
    signed_physio_note(physio_visit, physio)
    assert not CheckIn.objects.filter(patient=patient).exists()
    assert not OutcomeResult.objects.filter(patient=patient).exists()


def test_the_needling_receivers_ignore_a_signal_about_any_other_note(physio_visit, patient, physio):
    note = signed_physio_note(physio_visit, physio)
    note_signed.send(
        sender=PhysioNote, session=note, actor=physio, request=None, now=note.signed_at
    )
    assert not CheckIn.objects.filter(patient=patient).exists()
    assert not OutcomeResult.objects.filter(patient=patient).exists()


def test_an_old_draft_waits_on_its_authors_to_do_list(physio_visit, physio):
    note = services.physio_note_start(
        appointment=physio_visit, actor=physio, now=timezone.now() - dt.timedelta(days=2)
    )
    waiting = unsigned_notes_for(physio)
    assert [(item.kind, item.note.pk) for item in waiting] == [("physio", note.pk)]
    page = signed_in(physio).get(reverse("charting_todo")).content.decode()
    assert "Physiotherapy note" in page and url(physio_visit) in page


# ---------------------------------------------------------------------------------------
# The pages


def note_post(action: str, **fields: str) -> dict[str, Any]:
    return {**PHYSIO_NOTE_TEXT, **fields, "action": action}


def test_the_practitioner_starts_writes_and_signs_the_note_on_its_page(physio_visit, physio):
    client = signed_in(physio)
    start = client.get(url(physio_visit)).content.decode()
    assert "Start the physiotherapy note" in start
    assert not PhysioNote.objects.exists()  # a GET never starts one
    assert client.post(url(physio_visit), {"action": "start"}).status_code == 302
    page = client.get(url(physio_visit)).content.decode()
    for label in ("Subjective", "Objective", "Assessment", "Treatment given", "Plan"):
        assert f">{label}:</label>" in page
    assert "Outcome measures due at this visit" in page
    response = client.post(url(physio_visit), note_post("save", plan=""))
    assert response.status_code == 302
    assert PhysioNote.objects.get().plan == ""
    refused = client.post(url(physio_visit), note_post("sign", plan=""))
    assert refused.status_code == 200
    assert "Not signed" in refused.content.decode()
    assert PhysioNote.objects.get().status == "draft"
    assert client.post(url(physio_visit), note_post("sign")).status_code == 302
    signed = client.get(url(physio_visit)).content.decode()
    assert "Signed" in signed and "Add an addendum" in signed
    assert PHYSIO_NOTE_TEXT["assessment"] in signed


def test_the_signed_page_changes_nothing_but_takes_an_addendum(physio_visit, physio):
    signed_physio_note(physio_visit, physio)
    client = signed_in(physio)
    client.post(url(physio_visit), note_post("save", plan="Rewritten after signing."))
    assert PhysioNote.objects.get().plan == PHYSIO_NOTE_TEXT["plan"]
    response = client.post(
        url(physio_visit),
        {"action": "addendum", "reason": "Wrong side", "text": "The right knee, not the left."},
    )
    assert response.status_code == 302
    assert "The right knee, not the left." in client.get(url(physio_visit)).content.decode()


def test_a_colleague_on_the_care_team_reads_the_note_but_cannot_write_it(
    physio_visit, physio, colleague
):
    note = written(physio_visit, physio)
    client = signed_in(colleague)
    page = client.get(url(physio_visit))
    assert page.status_code == 200
    assert PHYSIO_NOTE_TEXT["subjective"] in page.content.decode()
    assert "Sign the note" not in page.content.decode()
    response = client.post(url(physio_visit), note_post("save", plan="Not my note."))
    assert response.status_code in (403, 404)
    note.refresh_from_db()
    assert note.plan == PHYSIO_NOTE_TEXT["plan"]


def test_a_colleague_cannot_start_the_note_of_someone_elses_visit(physio_visit, colleague):
    client = signed_in(colleague)
    assert "Start the physiotherapy note" not in client.get(url(physio_visit)).content.decode()
    page = client.post(url(physio_visit), {"action": "start"})
    assert page.status_code == 403
    assert not PhysioNote.objects.exists()


@pytest.mark.parametrize("who", ["front_desk", "other_physio", "patient_user"])
def test_no_one_outside_the_care_team_opens_the_note(request, physio_visit, physio, who):
    signed_physio_note(physio_visit, physio)
    response = signed_in(request.getfixturevalue(who)).get(url(physio_visit))
    assert response.status_code in (403, 404)
    assert PHYSIO_NOTE_TEXT["subjective"] not in response.content.decode()


def test_an_ims_visit_points_to_its_needling_note(patient, physio, ims_service):
    visit = ims_visit(patient, physio, ims_service)
    page = signed_in(physio).get(url(visit)).content.decode()
    assert "charted in its needling note" in page
    assert reverse("session_note", args=[visit.pk]) in page


def test_the_chart_lists_the_note_with_its_addenda(physio_visit, patient, physio):
    signed = signed_physio_note(physio_visit, physio)
    services.addendum_add(note=signed, reason="Typo", text="Fifty-five degrees.", actor=physio)
    page = signed_in(physio).get(reverse("patient_chart", args=[patient.pk])).content.decode()
    assert "Physiotherapy notes" in page
    assert PHYSIO_NOTE_TEXT["objective"] in page
    assert "Fifty-five degrees." in page
    assert url(physio_visit) in page


def test_my_day_links_a_visit_that_is_not_ims_to_its_physiotherapy_note(
    physio_visit, physio, front_desk
):
    page = signed_in(physio).get(reverse("calendar_mine")).content.decode()
    assert url(physio_visit) in page
    assert reverse("session_note", args=[physio_visit.pk]) not in page
    desk = signed_in(front_desk).get(reverse("calendar_day")).content.decode()
    assert url(physio_visit) not in desk


def test_the_patient_reads_the_signed_note_in_plain_words_and_in_the_pdf(
    physio_visit, patient, patient_user, physio
):
    signed = signed_physio_note(physio_visit, physio)
    services.addendum_add(note=signed, reason="Typo", text="Twice a day.", actor=physio)
    page = signed_in(patient_user).get(reverse("portal_notes")).content.decode()
    assert "What we did:" in page and PHYSIO_NOTE_TEXT["treatment_given"] in page
    assert "What happens next:" in page and "Twice a day." in page
    zone = ZoneInfo("America/Vancouver")
    html = portal_summary_html(patient, plain_notes(chart_for(patient)), zone=zone)
    assert PHYSIO_NOTE_TEXT["treatment_given"] in html and "Twice a day." in html
    response = signed_in(patient_user).get(reverse("portal_notes_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_the_patient_does_not_see_a_draft(physio_visit, patient_user, physio):
    written(physio_visit, physio)
    page = signed_in(patient_user).get(reverse("portal_notes")).content.decode()
    assert PHYSIO_NOTE_TEXT["treatment_given"] not in page
